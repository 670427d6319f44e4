package api_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Bad input anywhere gets a 4xx with a clear error and changes nothing.
func TestSignupRejectsBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		ok := `"email":"ok@example.com","password":"` + apptest.Password + `","age_confirmed":true`
		for _, tc := range []struct {
			name, body string
			status     int
			code       string
		}{
			{"malformed json", `{"email":`, 400, "malformed_json"},
			{"not an object", `[1,2]`, 400, "malformed_json"},
			{"empty body", ``, 400, "empty_body"},
			{"two objects", `{` + ok + `}{}`, 400, "malformed_json"},
			{"wrong type", `{"email":42,"password":"x","age_confirmed":true}`, 400, "wrong_type"},
			{"wrong type bool", `{` + ok + `,"name":false}`, 400, "wrong_type"},
			{"unknown field", `{` + ok + `,"is_platform_admin":true}`, 400, "unknown_field"},
			{"huge body", `{"name":"` + strings.Repeat("x", 2<<20) + `",` + ok + `}`, 413, "body_too_large"},
			{"bad email", `{"email":"not-an-email","password":"` + apptest.Password + `","age_confirmed":true}`, 422, "invalid_email"},
			{"blank email", `{"email":"  ","password":"` + apptest.Password + `","age_confirmed":true}`, 422, "invalid_email"},
			{"header injection email", `{"email":"a@b.co\r\nBcc: x@y.z","password":"` + apptest.Password + `","age_confirmed":true}`, 422, "invalid_email"},
			{"weak password", `{"email":"ok@example.com","password":"password","age_confirmed":true}`, 422, "invalid_password"},
			{"short password", `{"email":"ok@example.com","password":"abc","age_confirmed":true}`, 422, "invalid_password"},
			{"1000-character password", `{"email":"ok@example.com","password":"` + strings.Repeat("k", 1000) + `","age_confirmed":true}`, 422, "invalid_password"},
			{"age not confirmed", `{"email":"ok@example.com","password":"` + apptest.Password + `","age_confirmed":false}`, 422, "invalid_age_confirmed"},
			{"name too long", `{` + ok + `,"name":"` + strings.Repeat("n", 101) + `"}`, 422, "invalid_name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := a.Client(t).Do("POST", "/api/v1/auth/signup", tc.body)
				if res.Status != tc.status || res.ErrorCode() != tc.code {
					t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tc.status, tc.code)
				}
				var e struct {
					Error struct{ Message string }
				}
				res.JSON(t, &e)
				if e.Error.Message == "" {
					t.Fatal("error without a message")
				}
				if n := countRows(t, d, "users"); n != 0 {
					t.Fatalf("%d users after a refused sign-up", n)
				}
			})
		}
		// The wrong content type is refused before anything is read (CSRF E-3).
		c := a.Client(t)
		req := `{` + ok + `}`
		r := c.Do("POST", "/api/v1/auth/signup", req)
		r.Must(t, 201)
		c2 := a.Client(t)
		res := c2.Do("POST", "/api/v1/auth/signup", nil)
		if res.Status != 415 {
			t.Fatalf("no content type: %d", res.Status)
		}
		// Duplicate e-mail in another case.
		dup := a.Client(t).Do("POST", "/api/v1/auth/signup", `{"email":"OK@example.com","password":"`+apptest.Password+`","age_confirmed":true}`)
		if dup.Status != 409 || dup.ErrorCode() != "email_taken" {
			t.Fatalf("duplicate: %d %s", dup.Status, dup.Body)
		}
		if n := countRows(t, d, "users"); n != 1 {
			t.Fatalf("users = %d", n)
		}
	})
}

// Long passwords are neither refused nor truncated (P-01): two 200-byte
// passwords that share their first 72 bytes are different passwords.
func TestLongPasswordsAreNotTruncated(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	long := strings.Repeat("ពាក្យសម្ងាត់", 6) // Khmer, well over 72 bytes
	c := a.Client(t)
	c.Do("POST", "/api/v1/auth/signup", map[string]any{"email": "long@example.com", "password": long + "A", "age_confirmed": true}).Must(t, 201)
	a.Client(t).Do("POST", "/api/v1/auth/login", map[string]string{"email": "long@example.com", "password": long + "B"}).Must(t, 401)
	a.Client(t).Do("POST", "/api/v1/auth/login", map[string]string{"email": "long@example.com", "password": long + "A"}).Must(t, 200)
}

func TestWorkspaceInputErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		u := a.SignUp(t, "mony")
		for _, tc := range []struct {
			body   any
			status int
			code   string
		}{
			{map[string]string{"name": ""}, 422, "invalid_name"},
			{map[string]string{"name": strings.Repeat("w", 101)}, 422, "invalid_name"},
			{map[string]any{"name": 7}, 400, "wrong_type"},
			{map[string]any{"name": "ok", "plan": "enterprise"}, 400, "unknown_field"},
			{map[string]any{"name": "ok", "trial_ends_at": "2099-01-01T00:00:00Z"}, 400, "unknown_field"},
		} {
			res := u.Do("POST", "/api/v1/workspaces", tc.body)
			if res.Status != tc.status || res.ErrorCode() != tc.code {
				t.Errorf("%v: got %d %s", tc.body, res.Status, res.Body)
			}
		}
		if n := countRows(t, d, "workspaces"); n != 0 {
			t.Fatalf("%d workspaces after refused creates", n)
		}
		ws := u.CreateWorkspace(t, "Sokha Shop")
		for _, tc := range []struct {
			path string
			body any
			code string
		}{
			{"/members/" + u.ID, map[string]string{"role": "superuser"}, "invalid_role"},
			{"/invitations", map[string]string{"email": "nope", "role": "agent"}, "invalid_email"},
			{"/invitations", map[string]string{"email": "a@example.com", "role": "god"}, "invalid_role"},
			{"/api-keys", map[string]string{"name": "", "role": "agent"}, "invalid_name"},
			{"/api-keys", map[string]string{"name": "k", "role": "owner"}, ""},
		} {
			method := "POST"
			if strings.HasPrefix(tc.path, "/members/") {
				method = "PATCH"
			}
			res := u.Do(method, "/api/v1/workspaces/"+ws+tc.path, tc.body)
			if res.Status < 400 || res.Status >= 500 || (tc.code != "" && res.ErrorCode() != tc.code) {
				t.Errorf("%s %s %v: got %d %s", method, tc.path, tc.body, res.Status, res.Body)
			}
		}
		for table, want := range map[string]int{"invitations": 0, "api_keys": 0, "members": 1} {
			if n := countRows(t, d, table); n != want {
				t.Errorf("%s = %d, want %d", table, n, want)
			}
		}
		// Unknown routes and methods.
		if r := u.Do("GET", "/api/v1/nothing-here", nil); r.Status != 404 || r.ErrorCode() != "no_such_route" {
			t.Errorf("unknown route: %d %s", r.Status, r.Body)
		}
		if r := u.Do("PUT", "/api/v1/workspaces", map[string]string{}); r.Status != 405 || r.Header.Get("Allow") == "" {
			t.Errorf("wrong method: %d %v", r.Status, r.Header)
		}
		if r := u.Do("TRACE", "/api/v1/me", nil); r.Status != 405 {
			t.Errorf("TRACE: %d", r.Status)
		}
	})
}

// Security §3.E: a state-changing request from another site is refused even
// with a valid cookie.
func TestCrossOriginWritesAreRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		u := a.SignUp(t, "lina")
		u.Header.Set("Sec-Fetch-Site", "cross-site")
		u.Do("POST", "/api/v1/workspaces", map[string]string{"name": "evil"}).Must(t, 403)
		u.Header.Del("Sec-Fetch-Site")
		u.Header.Set("Origin", "https://evil.example")
		u.Do("POST", "/api/v1/workspaces", map[string]string{"name": "evil"}).Must(t, 403)
		u.Do("POST", "/api/v1/auth/logout", nil).Must(t, 403)
		u.Header.Del("Origin")
		u.Header.Set("Sec-Fetch-Site", "same-origin")
		u.Do("POST", "/api/v1/workspaces", map[string]string{"name": "fine"}).Must(t, 201)
		if n := countRows(t, d, "workspaces"); n != 1 {
			t.Fatalf("workspaces = %d", n)
		}
	})
}

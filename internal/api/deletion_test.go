package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-33, security.md §3.O O-5 and O-6 through the API: only an
// owner deletes, with the password and the name; every refusal changes
// nothing; once deleted the workspace is 404 on every route for every
// session and API key at once; only an owner may cancel, which restores
// it with its data.
func TestWorkspaceDeletionAPI(t *testing.T) {
	// A grace period shorter than a session, so the same sessions see it
	// through.
	const grace = time.Hour
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.WithConfig(func(c *config.Config) { c.WorkspacePurgeAfter = grace }))
		owner := a.SignUp(t, "del-owner")
		admin := a.SignUp(t, "del-admin")
		outsider := a.SignUp(t, "del-outsider")
		ws := owner.CreateWorkspace(t, "Sokha Shop")
		a.Join(t, owner, ws, admin, "admin")
		base := "/api/v1/workspaces/" + ws
		var key struct{ Secret string }
		owner.Do("POST", base+"/api-keys", map[string]string{"name": "crm", "role": "admin"}).Must(t, 201).JSON(t, &key)
		bearer := a.Client(t)
		bearer.Header.Set("Authorization", "Bearer "+key.Secret)
		owner.Do("POST", base+"/tags", map[string]string{"name": "vip"}).Must(t, 201)

		alive := func(status int) {
			t.Helper()
			owner.Do("GET", base, nil).Must(t, status)
			admin.Do("GET", base+"/tags", nil).Must(t, status)
			bearer.Do("GET", base+"/members", nil).Must(t, status)
		}
		alive(200)

		refusals := []struct {
			name   string
			who    *apptest.User
			body   map[string]string
			status int
			code   string
		}{
			{"wrong password", owner, map[string]string{"confirm_name": "Sokha Shop", "password": "not it"}, 422, "invalid_password"},
			{"no password", owner, map[string]string{"confirm_name": "Sokha Shop"}, 422, "invalid_password"},
			{"wrong name", owner, map[string]string{"confirm_name": "Sokha", "password": apptest.Password}, 422, "invalid_confirm_name"},
			{"admin", admin, map[string]string{"confirm_name": "Sokha Shop", "password": apptest.Password}, 403, "forbidden"},
			{"outsider", outsider, map[string]string{"confirm_name": "Sokha Shop", "password": apptest.Password}, 404, "not_found"},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				if e := errorOf(t, c.who.Do("POST", base+"/deletion", c.body).Must(t, c.status)); e.Error.Code != c.code {
					t.Errorf("code %q, want %q", e.Error.Code, c.code)
				}
				alive(200)
			})
		}
		bearer.Do("POST", base+"/deletion", map[string]string{"confirm_name": "Sokha Shop", "password": apptest.Password}).Must(t, 403)
		alive(200)

		var out struct {
			Workspace struct {
				DeletionRequestedAt *time.Time `json:"deletion_requested_at"`
			}
			PurgeAt time.Time `json:"purge_at"`
		}
		owner.Do("POST", base+"/deletion", map[string]string{"confirm_name": "Sokha Shop", "password": apptest.Password}).Must(t, 202).JSON(t, &out)
		if want := a.Clock.Now().Add(grace); !out.PurgeAt.Equal(want) || out.Workspace.DeletionRequestedAt == nil {
			t.Errorf("answer %+v, want purge at %v", out, want)
		}
		// Gone at once for everyone, on every route.
		alive(404)
		owner.Do("POST", base+"/deletion", map[string]string{"confirm_name": "Sokha Shop", "password": apptest.Password}).Must(t, 404)
		var list struct {
			Workspaces []struct {
				ID      string
				PurgeAt *time.Time `json:"purge_at"`
			}
		}
		owner.Do("GET", "/api/v1/workspaces", nil).Must(t, 200).JSON(t, &list)
		if len(list.Workspaces) != 1 || list.Workspaces[0].PurgeAt == nil {
			t.Errorf("the owner's list does not show the workspace being deleted: %+v", list)
		}

		// Cancelling: owners only; to outsiders the workspace does not
		// exist; an API key is nobody.
		admin.Do("DELETE", base+"/deletion", nil).Must(t, 403)
		outsider.Do("DELETE", base+"/deletion", nil).Must(t, 404)
		bearer.Do("DELETE", base+"/deletion", nil).Must(t, 403)
		a.Clock.Advance(grace - time.Minute)
		owner.Do("DELETE", base+"/deletion", nil).Must(t, 200)
		alive(200)
		var tagList struct{ Tags []struct{ Name string } }
		admin.Do("GET", base+"/tags", nil).Must(t, 200).JSON(t, &tagList)
		tags := tagList.Tags
		if len(tags) != 1 || tags[0].Name != "vip" {
			t.Errorf("after cancelling, tags = %+v", tags)
		}
		if e := errorOf(t, owner.Do("DELETE", base+"/deletion", nil).Must(t, 409)); e.Error.Code != "not_deleting" {
			t.Errorf("second cancel: %q", e.Error.Code)
		}

		// After the grace period it is too late.
		owner.Do("POST", base+"/deletion", map[string]string{"confirm_name": "Sokha Shop", "password": apptest.Password}).Must(t, 202)
		a.Clock.Advance(grace)
		if e := errorOf(t, owner.Do("DELETE", base+"/deletion", nil).Must(t, 409)); e.Error.Code != "purge_started" {
			t.Errorf("late cancel: %q", e.Error.Code)
		}
	})
}

// Promise P-33: deleting one's own account needs the password, is refused
// while the last owner of a live workspace (naming it), and ends every
// session of theirs at once; an owner whose workspace is being deleted may
// go.
func TestAccountDeletionAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "acct-owner")
		agent := a.SignUp(t, "acct-agent")
		ws := owner.CreateWorkspace(t, "Kampot Pepper")
		a.Join(t, owner, ws, agent, "agent")
		other := a.Client(t)
		other.Do("POST", "/api/v1/auth/login", map[string]string{"email": agent.Email, "password": apptest.Password}).Must(t, 200)

		if e := errorOf(t, agent.Do("DELETE", "/api/v1/me", map[string]string{"password": "wrong"}).Must(t, 422)); e.Error.Code != "invalid_password" {
			t.Errorf("wrong password: %q", e.Error.Code)
		}
		agent.Do("GET", "/api/v1/me", nil).Must(t, 200)
		agent.Do("DELETE", "/api/v1/me", map[string]string{"password": apptest.Password}).Must(t, 204)
		agent.Do("GET", "/api/v1/me", nil).Must(t, 401)
		other.Do("GET", "/api/v1/me", nil).Must(t, 401)
		a.Client(t).Do("POST", "/api/v1/auth/login", map[string]string{"email": agent.Email, "password": apptest.Password}).Must(t, 401)
		var members struct {
			Members []struct {
				UserID string `json:"user_id"`
			}
		}
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/members", nil).Must(t, 200).JSON(t, &members)
		if len(members.Members) != 1 {
			t.Errorf("members after the agent left: %+v", members.Members)
		}

		e := errorOf(t, owner.Do("DELETE", "/api/v1/me", map[string]string{"password": apptest.Password}).Must(t, 409))
		if e.Error.Code != "last_owner" || !strings.Contains(e.Error.Message, "Kampot Pepper") {
			t.Errorf("last owner: %+v", e)
		}
		owner.Do("GET", "/api/v1/me", nil).Must(t, 200)
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/deletion", map[string]string{"confirm_name": "Kampot Pepper", "password": apptest.Password}).Must(t, 202)
		owner.Do("DELETE", "/api/v1/me", map[string]string{"password": apptest.Password}).Must(t, 204)
		owner.Do("GET", "/api/v1/me", nil).Must(t, 401)
	})
}

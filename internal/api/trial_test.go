package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-07: when the trial ends the workspace turns read-only — writes
// answer 402 trial_expired, reads work, nothing is deleted, and the exits
// (leaving, revoking a key) stay open.
func TestExpiredTrialIsReadOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "trial-owner")
		agent := a.SignUp(t, "trial-agent")
		ws := owner.CreateWorkspace(t, "Pune Coaching")
		a.Join(t, owner, ws, agent, "agent")
		var key struct {
			APIKey struct{ ID string } `json:"api_key"`
		}
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/api-keys", map[string]string{"name": "crm", "role": "viewer"}).Must(t, 201).JSON(t, &key)
		var got struct {
			TrialEndsAt time.Time `json:"trial_ends_at"`
			Plan        string
		}
		owner.Do("GET", "/api/v1/workspaces/"+ws, nil).Must(t, 200).JSON(t, &got)
		if got.Plan != "trial" || !got.TrialEndsAt.Equal(a.Clock.Now().AddDate(0, 0, 14)) {
			t.Fatalf("workspace = %+v, want a 14-day trial", got)
		}

		a.Clock.Advance(14*24*time.Hour + time.Second)
		owner.Login(t)
		agent.Login(t)
		base := "/api/v1/workspaces/" + ws
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"PATCH", base, map[string]string{"name": "New name"}},
			{"POST", base + "/invitations", map[string]string{"email": "new@example.com", "role": "agent"}},
			{"POST", base + "/api-keys", map[string]string{"name": "k2", "role": "agent"}},
			{"PATCH", base + "/members/" + agent.ID, map[string]string{"role": "viewer"}},
		} {
			res := owner.Do(req.method, req.path, req.body)
			if res.Status != http.StatusPaymentRequired || res.ErrorCode() != "trial_expired" {
				t.Errorf("%s %s after the trial: %d %s", req.method, req.path, res.Status, res.Body)
			}
		}
		owner.Do("GET", base, nil).Must(t, 200)
		var ms struct{ Members []any }
		owner.Do("GET", base+"/members", nil).Must(t, 200).JSON(t, &ms)
		if len(ms.Members) != 2 {
			t.Fatalf("members after expiry = %d", len(ms.Members))
		}
		// Security actions stay open: revoking keys and invitations, removing
		// people, leaving.
		owner.Do("DELETE", base+"/api-keys/"+key.APIKey.ID, nil).Must(t, 204)
		agent.Do("DELETE", base+"/membership", nil).Must(t, 204)
		// Creating a new workspace (a new trial) is not blocked.
		owner.CreateWorkspace(t, "Second try")
	})
}

// Security §3.C C-1, C-3, C-11 over HTTP: a forged or altered cookie, or a
// token in the query string, never signs anyone in.
func TestForgedSessionsAreRefused(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	u := a.SignUp(t, "forge")
	token := u.Cookie("parley_session").Value
	parts := strings.Split(token, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload[len(payload)/2] ^= 1
	flipped := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	for name, v := range map[string]string{"alg none": none, "flipped payload": flipped, "garbage": "x.y.z", "empty signature": parts[0] + "." + parts[1] + "."} {
		req, _ := http.NewRequest("GET", a.Server.URL+"/api/v1/me", nil)
		req.AddCookie(&http.Cookie{Name: "parley_session", Value: v})
		if res := a.Client(t).Send(req); res.Status != 401 {
			t.Errorf("%s: %d", name, res.Status)
		}
	}
	a.Client(t).Do("GET", "/api/v1/me?token="+token, nil).Must(t, 401)
	a.Client(t).Do("GET", "/api/v1/me?session="+token, nil).Must(t, 401)
	// A session token is not an API key.
	c := a.Client(t)
	c.Header.Set("Authorization", "Bearer "+token)
	c.Do("GET", "/api/v1/me", nil).Must(t, 401)
}

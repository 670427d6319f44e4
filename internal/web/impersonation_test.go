package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/operator"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/web"
)

// lasting is what an impersonation could leave behind in ws: live API
// keys, pending invitations, members and their roles, and whether the
// workspace is being deleted.
func (s *site) lasting(t *testing.T, ws string) string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT id FROM api_keys WHERE workspace_id = ? AND revoked_at IS NULL ORDER BY id`,
		`SELECT id FROM invitations WHERE workspace_id = ? AND accepted_at IS NULL AND revoked_at IS NULL ORDER BY id`,
		`SELECT user_id || ':' || role FROM members WHERE workspace_id = ? ORDER BY user_id`,
		`SELECT CASE WHEN deletion_requested_at IS NULL THEN 'kept' ELSE 'deleting' END FROM workspaces WHERE id = ?`,
		`SELECT id FROM dsr_exports WHERE workspace_id = ? ORDER BY id`,
	} {
		var rows []string
		if err := s.DB.R.NewRaw(q, ws).Scan(t.Context(), &rows); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(rows, ","))
	}
	return strings.Join(out, " | ")
}

// Promise P-06, security.md §3.B B-7: an administrator acting as an owner
// can do nothing that outlives the impersonation. Creating or revoking
// API keys, inviting or revoking invitations, changing roles, removing
// members or leaving, deleting the workspace or cancelling that,
// exporting personal data or downloading an export, erasing, and merging
// all answer 403 saying why, in the dashboard and through the JSON API
// (the same session cookie), and nothing changes. Signing out ends the
// impersonation on the record (impersonation.stop in the workspace's log).
func TestImpersonationCannotLeaveAnythingBehind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, ownerAddr := s.signUp(t, "owner")
		ws := owner.createWorkspace("Bakery Eleven")
		agent, agentAddr := s.signUp(t, "agent")
		s.join(t, owner, ws, agent, agentAddr, "agent")
		agentID := s.userID(t, agentAddr)
		owner.post("/w/"+ws+"/settings/api-keys", url.Values{"name": {"Zapier"}, "role": {"agent"}}).want(t, http.StatusOK)
		owner.post("/w/"+ws+"/settings/team/invitations", url.Values{"email": {"pending@example.com"}, "role": {"agent"}}).want(t, http.StatusOK)
		var keyID, invID string
		if err := s.DB.R.NewRaw(`SELECT id FROM api_keys WHERE workspace_id = ?`, ws).Scan(t.Context(), &keyID); err != nil {
			t.Fatal(err)
		}
		if err := s.DB.R.NewRaw(`SELECT id FROM invitations WHERE workspace_id = ? AND accepted_at IS NULL`, ws).Scan(t.Context(), &invID); err != nil {
			t.Fatal(err)
		}

		admin, adminAddr := s.signUp(t, "root")
		s.makeAdmin(t, adminAddr, true)
		admin.post("/admin/impersonate", url.Values{"user": {ownerAddr}, "impersonate_reason": {"ticket 79"}}).redirectsTo(t, "/")
		before := s.lasting(t, ws)

		w, api := "/w/"+ws, "/api/v1/workspaces/"+ws
		// IDs that do not exist stand in where the guard must refuse
		// before the handler would look anything up (a 404 then means the
		// handler ran).
		const nobody = "01900000-0000-7000-8000-000000000000"
		dash := []struct {
			method, path string
			form         url.Values
		}{
			{"POST", w + "/settings/api-keys", url.Values{"name": {"Mine"}, "role": {"owner"}}},
			{"POST", w + "/settings/api-keys/" + keyID + "/revoke", nil},
			{"POST", w + "/settings/team/invitations", url.Values{"email": {adminAddr}, "role": {"owner"}}},
			{"POST", w + "/settings/team/invitations/" + invID + "/revoke", nil},
			{"POST", w + "/settings/team/members/" + agentID + "/role", url.Values{"role": {"owner"}}},
			{"POST", w + "/settings/team/members/" + agentID + "/remove", nil},
			{"POST", w + "/settings/delete", url.Values{"confirm_name": {"Bakery Eleven"}, "password": {password}}},
			{"POST", w + "/deletion/cancel", nil},
			{"POST", w + "/contacts/" + nobody + "/privacy/exports", nil},
			{"GET", w + "/privacy-exports/" + nobody + "/download", nil},
			{"POST", w + "/privacy-requests/" + nobody + "/erase", nil},
			{"POST", w + "/contacts/" + nobody + "/delete", url.Values{"confirm": {"yes"}}},
			{"POST", w + "/conversations/" + nobody + "/delete", url.Values{"confirm": {"yes"}}},
			{"POST", w + "/contacts/" + nobody + "/merge", url.Values{"other": {nobody}}},
		}
		for _, c := range dash {
			var p *page
			if c.method == "GET" {
				p = admin.get(c.path)
			} else {
				p = admin.post(c.path, c.form)
			}
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Not while acting as someone else") {
				t.Errorf("%s %s while impersonating: %d; want 403 saying why:\n%s", c.method, c.path, p.Status, excerpt(p.Body))
			}
		}
		apis := []struct {
			method, path string
			body         any
		}{
			{"POST", api + "/api-keys", map[string]string{"name": "Mine", "role": "owner"}},
			{"DELETE", api + "/api-keys/" + keyID, nil},
			{"POST", api + "/invitations", map[string]string{"email": adminAddr, "role": "owner"}},
			{"DELETE", api + "/invitations/" + invID, nil},
			{"PATCH", api + "/members/" + agentID, map[string]string{"role": "owner"}},
			{"DELETE", api + "/members/" + agentID, nil},
			{"DELETE", api + "/membership", nil},
			{"POST", api + "/deletion", map[string]string{"confirm_name": "Bakery Eleven", "password": password}},
			{"DELETE", api + "/deletion", nil},
			{"POST", api + "/contacts/" + nobody + "/exports", nil},
			{"GET", api + "/privacy-exports/" + nobody + "/download", nil},
			{"POST", api + "/privacy-requests/" + nobody + "/erase", nil},
			{"DELETE", api + "/contacts/" + nobody, nil},
			{"DELETE", api + "/conversations/" + nobody, nil},
			{"POST", api + "/contacts/" + nobody + "/merge", map[string]string{"other_contact_id": nobody}},
		}
		for _, c := range apis {
			p := admin.api(c.method, c.path, c.body)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, `"not_while_impersonating"`) {
				t.Errorf("%s %s while impersonating: %d %s; want 403 not_while_impersonating", c.method, c.path, p.Status, p.Body)
			}
		}
		if after := s.lasting(t, ws); after != before {
			t.Errorf("refused requests changed the workspace:\nbefore %s\nafter  %s", before, after)
		}
		// Reading stays open: the team page, as the owner sees it.
		admin.get(w+"/settings/team").want(t, http.StatusOK, "Bakery Eleven")

		// Signing out ends the impersonation, on the record.
		admin.post("/logout", nil).redirectsTo(t, "/login")
		var log struct {
			Entries []struct {
				Action string `json:"action"`
			}
		}
		if err := json.Unmarshal([]byte(owner.get("/api/v1/workspaces/"+ws+"/audit-log").want(t, http.StatusOK).Body), &log); err != nil {
			t.Fatal(err)
		}
		if len(log.Entries) == 0 || log.Entries[0].Action != operator.ActionImpersonateStop {
			t.Errorf("the owner's audit log does not end with the impersonation's stop: %+v", log.Entries)
		}

		// The owner themselves still can (the handlers were not reached
		// above): revoke the key they made.
		owner.post(w+"/settings/api-keys/"+keyID+"/revoke", nil).redirectsTo(t, w+"/settings/api-keys")
	})
}

// An administrator acting as a member does not make the member present
// for round-robin assignment: their live stream tells Presence nothing,
// while the member's own stream does.
func TestImpersonatedStreamIsNotPresence(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	fake := &fakePresence{who: map[string]bool{}, calls: make(chan struct{}, 1)}
	dash := web.New(web.Deps{
		Accounts: a.Accounts, Workspaces: a.Workspaces, Auth: a.Auth, Guard: a.Guard,
		DB: a.DB, Now: a.Now, Log: a.Log, BaseURL: a.Config.BaseURL.String(),
		Events: a.Events, Presence: fake, PresenceEvery: time.Hour, Console: a.Operator,
	})
	mux := http.NewServeMux()
	a.API.Mount(mux)
	dash.Mount(mux)
	handlerDone := make(chan struct{}, 1)
	h := httpx.Chain(http.NewCrossOriginProtection().Handler(mux), httpx.RequestIDs, httpx.RealIP(nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/events") {
			handlerDone <- struct{}{}
		}
	}))
	t.Cleanup(srv.Close)
	s := &site{App: a, URL: srv.URL}
	owner, ownerAddr := s.signUp(t, "Rin")
	ws := owner.createWorkspace("Rin's Rugs")
	admin, adminAddr := s.signUp(t, "root")
	s.makeAdmin(t, adminAddr, true)
	admin.post("/admin/impersonate", url.Values{"user": {ownerAddr}, "impersonate_reason": {"ticket 80"}}).redirectsTo(t, "/")

	// open streams c's live updates until its handler has returned; a
	// presence beat, had one started, has made its first call by then
	// (the handler waits for the beat to end, and its first call is
	// unconditional).
	open := func(c *client) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/w/"+ws+"/events", nil)
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET events = %d", res.StatusCode)
		}
		cancel()
		select {
		case <-handlerDone:
		case <-time.After(60 * time.Second):
			t.Fatal("the stream's handler did not return after the client left")
		}
	}
	open(admin)
	fake.mu.Lock()
	who := len(fake.who)
	fake.mu.Unlock()
	if who != 0 {
		t.Errorf("the impersonated stream marked %v present", fake.who)
	}
	open(owner)
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if !fake.who[ws+"/"+s.userID(t, ownerAddr)] || len(fake.who) != 1 {
		t.Errorf("Seen for %v, want the owner's own stream only", fake.who)
	}
}

package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/metacallback"
	"github.com/parleyhq/parley/internal/operator"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// makeAdmin makes the user at addr a platform administrator, with 2FA on
// when twoFA (set directly: the sign-in with a code is tested elsewhere).
func (s *site) makeAdmin(t *testing.T, addr string, twoFA bool) string {
	t.Helper()
	id := s.userID(t, addr)
	if err := s.Accounts.SetPlatformAdmin(t.Context(), id, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.W.NewRaw(`UPDATE users SET totp_enabled = ? WHERE id = ?`, twoFA, id).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	return id
}

// Promise P-06, security.md P-1: the operator console is there only for
// platform administrators with 2FA (a 404 for anyone else, a 403 without
// 2FA); it lists workspaces with their health and usage; the kill switch
// toggles from it with a reason, and a refusal changes nothing.
func TestAdminConsoleAccessAndKillSwitch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "owner")
		ws := owner.createWorkspace("Bakery Nine")
		admin, adminAddr := s.signUp(t, "root")

		owner.get("/admin").want(t, http.StatusNotFound)
		owner.post("/admin/killswitch", url.Values{"op": {"pause"}, "outbound": {"1"}, "reason": {"x"}}).want(t, http.StatusNotFound)
		s.makeAdmin(t, adminAddr, false)
		admin.get("/admin").want(t, http.StatusForbidden, "two-factor")
		admin.post("/admin/killswitch", url.Values{"op": {"pause"}, "outbound": {"1"}, "reason": {"x"}}).want(t, http.StatusForbidden)
		if ps, _ := s.KillSwitch.Status(t.Context()); len(ps) != 0 {
			t.Fatalf("refused toggles paused %+v", ps)
		}
		s.makeAdmin(t, adminAddr, true)
		admin.get("/admin").want(t, http.StatusOK, "Operator console", "Bakery Nine", ws, "Nothing is paused")
		admin.get("/w/"+ws).want(t, http.StatusNotFound) // no member access from being an administrator

		admin.post("/admin/killswitch", url.Values{"op": {"pause"}, "workspace": {ws}, "outbound": {"1"}}).
			want(t, http.StatusUnprocessableEntity, "Say why")
		admin.post("/admin/killswitch", url.Values{"op": {"pause"}, "workspace": {ws}, "reason": {"spam"}}).
			want(t, http.StatusUnprocessableEntity, "Choose outbound sending")
		admin.post("/admin/killswitch", url.Values{"op": {"pause"}, "workspace": {"nope"}, "outbound": {"1"}, "reason": {"spam"}}).
			want(t, http.StatusUnprocessableEntity, "no such workspace")
		if ps, _ := s.KillSwitch.Status(t.Context()); len(ps) != 0 {
			t.Fatalf("invalid toggles paused %+v", ps)
		}
		admin.post("/admin/killswitch", url.Values{"op": {"pause"}, "workspace": {ws}, "outbound": {"1"}, "reason": {"spam wave"}}).
			redirectsTo(t, "/admin")
		if !s.KillSwitch.OutboundPaused(ws) {
			t.Error("outbound not paused")
		}
		admin.get("/admin").want(t, http.StatusOK, "outbound sending paused", "spam wave")
		// The owner sees the pause in the workspace's audit log.
		var log struct{ Entries []struct{ Action string } }
		if err := json.Unmarshal([]byte(owner.get("/api/v1/workspaces/"+ws+"/audit-log").want(t, http.StatusOK).Body), &log); err != nil {
			t.Fatal(err)
		}
		if len(log.Entries) == 0 || log.Entries[0].Action != "killswitch.pause" {
			t.Errorf("owner's audit log = %+v", log.Entries)
		}
		admin.post("/admin/killswitch", url.Values{"op": {"resume"}, "workspace": {ws}, "outbound": {"1"}, "reason": {"handled"}}).
			redirectsTo(t, "/admin")
		if s.KillSwitch.OutboundPaused(ws) {
			t.Error("outbound still paused")
		}
	})
}

// Promise P-06: an administrator acts as a user through their own
// session: a banner says so on every page; writes in a workspace are in
// its audit log with the real and the effective actor, for its owner to
// see; account settings cannot be changed meanwhile; "stop" ends it, and
// so does signing out (the old cookie no longer works).
func TestAdminImpersonation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, ownerAddr := s.signUp(t, "owner")
		ws := owner.createWorkspace("Bakery Ten")
		admin, adminAddr := s.signUp(t, "root")
		adminID := s.makeAdmin(t, adminAddr, true)
		ownerID := s.userID(t, ownerAddr)

		admin.post("/admin/impersonate", url.Values{"user": {ownerAddr}}).want(t, http.StatusUnprocessableEntity, "Say why")
		admin.post("/admin/impersonate", url.Values{"user": {adminAddr}, "impersonate_reason": {"x"}}).want(t, http.StatusUnprocessableEntity, "cannot act as yourself")
		admin.post("/admin/impersonate", url.Values{"user": {"ghost@example.com"}, "impersonate_reason": {"x"}}).want(t, http.StatusUnprocessableEntity, "no such user")
		admin.post("/admin/impersonate", url.Values{"user": {ownerAddr}, "impersonate_reason": {"ticket 77"}}).redirectsTo(t, "/")

		admin.get("/w/"+ws).want(t, http.StatusOK, "data-impersonation-banner", "Stop impersonating", "Bakery Ten")
		admin.post("/account/password", url.Values{"current_password": {password}, "new_password": {"another long password"}, "new_password_confirm": {"another long password"}}).
			want(t, http.StatusForbidden)
		admin.post("/w/"+ws+"/settings/tags", url.Values{"name": {"VIP"}, "color": {"blue"}})

		var log struct {
			Entries []struct {
				Action         string  `json:"action"`
				ActorUserID    string  `json:"actor_user_id"`
				ImpersonatorID *string `json:"impersonator_id"`
				TargetID       string  `json:"target_id"`
			}
		}
		if err := json.Unmarshal([]byte(owner.get("/api/v1/workspaces/"+ws+"/audit-log").want(t, http.StatusOK).Body), &log); err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, e := range log.Entries {
			if e.ImpersonatorID != nil && *e.ImpersonatorID == adminID && e.ActorUserID == ownerID {
				found[e.Action] = true
			}
		}
		if !found[operator.ActionImpersonateStart] || !found[operator.ActionImpersonateWrite] {
			t.Errorf("owner's audit log lacks the impersonation and its write: %+v", log.Entries)
		}

		admin.post("/admin/impersonate/stop", nil).redirectsTo(t, "/admin")
		admin.get("/w/"+ws).want(t, http.StatusNotFound)
		admin.get("/admin").want(t, http.StatusOK).lacks(t, "data-impersonation-banner")

		// Signing out ends it with the session.
		admin.post("/admin/impersonate", url.Values{"user": {ownerAddr}, "impersonate_reason": {"ticket 78"}}).redirectsTo(t, "/")
		u, _ := url.Parse(s.URL)
		old := admin.http.Jar.Cookies(u)
		admin.post("/logout", nil)
		replay := s.client(t)
		replay.http.Jar.SetCookies(u, old)
		if p := replay.get("/w/" + ws); p.Status == http.StatusOK {
			t.Error("the administrator's old cookie still opens the workspace after signing out")
		}
	})
}

// Security.md H-7 on the console: Meta's e-mailed lists of app-scoped
// user IDs are imported by a platform administrator with 2FA only (404
// for others, 403 without 2FA); a malformed list is refused on the field
// and opens nothing; a good one opens one deletion request per person,
// audit-logged with the administrator as actor, and the page says how
// many.
func TestAdminImportDeletionList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "owner")
		admin, adminAddr := s.signUp(t, "root")
		opened := func() int {
			var n int
			if err := s.DB.R.NewRaw(`SELECT count(*) FROM meta_deletion_requests`).Scan(t.Context(), &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		list := url.Values{"asids": {"1234567\r\n 7654321 \r\n\r\n1234567"}}

		owner.post("/admin/data-deletion/import", list).want(t, http.StatusNotFound)
		s.makeAdmin(t, adminAddr, false)
		admin.post("/admin/data-deletion/import", list).want(t, http.StatusForbidden)
		if n := opened(); n != 0 {
			t.Fatalf("refused imports opened %d requests", n)
		}
		adminID := s.makeAdmin(t, adminAddr, true)
		admin.get("/admin").want(t, http.StatusOK, `action="/admin/data-deletion/import"`)
		admin.post("/admin/data-deletion/import", url.Values{"asids": {"123\nnot-an-id"}}).
			want(t, http.StatusUnprocessableEntity, "Line 2 is not an app-scoped user ID", "not-an-id")
		admin.post("/admin/data-deletion/import", url.Values{"asids": {" \n "}}).
			want(t, http.StatusUnprocessableEntity, "Enter at least one")
		if n := opened(); n != 0 {
			t.Fatalf("invalid imports opened %d requests", n)
		}

		loc := admin.post("/admin/data-deletion/import", list).redirectsTo(t, "/admin?imported=2")
		admin.get(loc).want(t, http.StatusOK, "2 data-deletion requests are open")
		if n := opened(); n != 2 {
			t.Errorf("%d requests opened, want 2 (one per person)", n)
		}
		var audited int
		if err := s.DB.R.NewRaw(`SELECT count(*) FROM audit_log WHERE action = ? AND actor_user_id = ?`,
			metacallback.ActionDeletionReceived, adminID).Scan(t.Context(), &audited); err != nil {
			t.Fatal(err)
		}
		if audited != 2 {
			t.Errorf("%d audit entries by the administrator, want 2", audited)
		}
	})
}

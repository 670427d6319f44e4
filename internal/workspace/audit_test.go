package workspace_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// Promise P-06, security.md: every kind of mutation writes one entry
// naming the actor, workspace and target, in the same transaction; no entry
// holds an invitation token, an API key (or its shown prefix) or the
// invitee's address.
func TestAuditTrailHoldsNoSecrets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Audited")
		if _, err := f.svc.Rename(f.ctx, as(o), w.ID, "Audited Ltd"); err != nil {
			t.Fatal(err)
		}
		zone := "Asia/Phnom_Penh"
		if _, err := f.svc.Update(f.ctx, as(o), w.ID, workspace.Changes{TimeZone: &zone}); err != nil {
			t.Fatal(err)
		}
		inv, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "Canary.Invitee@example.com", admin)
		if err != nil {
			t.Fatal(err)
		}
		u := f.user("canary.invitee@example.com")
		if _, err := f.svc.AcceptInvitation(f.ctx, as(u), tok, "canary.invitee@example.com"); err != nil {
			t.Fatal(err)
		}
		inv2, _, err := f.svc.Invite(f.ctx, as(u), admin, w.ID, "second.canary@example.com", viewer)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeInvitation(f.ctx, as(o), w.ID, inv2.ID); err != nil {
			t.Fatal(err)
		}
		k, secret, err := f.svc.CreateAPIKey(f.ctx, as(u), admin, w.ID, "ci", agent)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateAPIKey(f.ctx, secret); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeAPIKey(f.ctx, as(u), w.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, u, agent); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveMember(f.ctx, as(u), agent, w.ID, u); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetPlan(f.ctx, as(""), w.ID, "starter", nil); err != nil {
			t.Fatal(err)
		}

		var got []string
		for _, e := range f.entries(w.ID) {
			actor := ""
			if e.ActorUserID != nil {
				actor = *e.ActorUserID
			}
			if e.WorkspaceID == nil || *e.WorkspaceID != w.ID || (actor != "" && e.RequestID != "req-"+actor) {
				t.Errorf("entry %s: workspace %v, request %q", e.Action, e.WorkspaceID, e.RequestID)
			}
			got = append(got, fmt.Sprintf("%s %s %s:%s", e.Action, actor, e.TargetType, e.TargetID))
		}
		want := []string{
			fmt.Sprintf("workspace.create %s workspace:%s", o, w.ID),
			fmt.Sprintf("workspace.rename %s workspace:%s", o, w.ID),
			fmt.Sprintf("workspace.time_zone_change %s workspace:%s", o, w.ID),
			fmt.Sprintf("invitation.create %s invitation:%s", o, inv.ID),
			fmt.Sprintf("invitation.accept %s invitation:%s", u, inv.ID),
			fmt.Sprintf("invitation.create %s invitation:%s", u, inv2.ID),
			fmt.Sprintf("invitation.revoke %s invitation:%s", o, inv2.ID),
			fmt.Sprintf("api_key.create %s api_key:%s", u, k.ID),
			fmt.Sprintf("api_key.revoke %s api_key:%s", u, k.ID),
			fmt.Sprintf("member.role_change %s user:%s", o, u),
			fmt.Sprintf("member.leave %s user:%s", u, u),
			fmt.Sprintf("workspace.plan_change  workspace:%s", w.ID),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit trail (-want +got):\n%s", diff)
		}

		// Scan every column of every entry, not just the details.
		var rows []map[string]any
		if err := f.d.R.NewRaw(`SELECT * FROM audit_log`).Scan(f.ctx, &rows); err != nil {
			t.Fatal(err)
		}
		canaries := map[string]string{
			"invitation token": tok, "api key": secret, "api key body": secret[len(workspace.APIKeyPrefix):],
			"api key prefix": k.Prefix, "invitee address": "canary", "workspace name": "Audited",
		}
		for _, r := range rows {
			text := strings.ToLower(fmt.Sprint(r))
			for what, c := range canaries {
				if strings.Contains(text, strings.ToLower(c)) {
					t.Errorf("audit entry %v holds the %s", r["action"], what)
				}
			}
		}
	})
}

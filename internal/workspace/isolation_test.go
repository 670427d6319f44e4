package workspace_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// tenant is one workspace with one object of every kind this package owns.
type tenant struct {
	w                    *workspace.Workspace
	owner, agent         string
	invitation, apiKey   string
	inviteTok, keySecret string
}

func (f *fixture) tenant(name string) tenant {
	f.t.Helper()
	w, o := f.workspace(name)
	tn := tenant{w: w, owner: o, agent: f.member(w, o, agent)}
	inv, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "pending-"+w.ID+"@example.com", admin)
	if err != nil {
		f.t.Fatal(err)
	}
	tn.invitation, tn.inviteTok = inv.ID, tok
	k, secret, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "key", admin)
	if err != nil {
		f.t.Fatal(err)
	}
	tn.apiKey, tn.keySecret = k.ID, secret
	return tn
}

// snapshot dumps every row of the tenant tables that belongs to workspaceID,
// to prove a refused call changed nothing (security.md A-1).
func (f *fixture) snapshot(workspaceID string) []string {
	f.t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT * FROM workspaces WHERE id = ?`,
		`SELECT * FROM members WHERE workspace_id = ?`,
		`SELECT * FROM invitations WHERE workspace_id = ?`,
		`SELECT * FROM api_keys WHERE workspace_id = ?`,
		`SELECT * FROM audit_log WHERE workspace_id = ?`,
	} {
		var rows []map[string]any
		if err := f.d.R.NewRaw(q, workspaceID).Scan(f.ctx, &rows); err != nil {
			f.t.Fatal(err)
		}
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%v", r))
		}
	}
	sort.Strings(out)
	return out
}

// Promise P-03, security.md: an ID from workspace B used under
// workspace A's ID is "not found" and changes nothing in either workspace,
// even for an owner of A; lists under A never show B's objects.
func TestForeignIDsAreNotFound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a := f.tenant("A")
		b := f.tenant("B")
		beforeA, beforeB := f.snapshot(a.w.ID), f.snapshot(b.w.ID)

		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"change role of B's agent", func() error {
				return f.svc.ChangeRole(f.ctx, as(a.owner), owner, a.w.ID, b.agent, viewer)
			}},
			{"change role of B's owner", func() error {
				return f.svc.ChangeRole(f.ctx, as(a.owner), owner, a.w.ID, b.owner, admin)
			}},
			{"remove B's agent", func() error { return f.svc.RemoveMember(f.ctx, as(a.owner), owner, a.w.ID, b.agent) }},
			{"remove B's owner", func() error { return f.svc.RemoveMember(f.ctx, as(a.owner), owner, a.w.ID, b.owner) }},
			{"revoke B's invitation", func() error { return f.svc.RevokeInvitation(f.ctx, as(a.owner), a.w.ID, b.invitation) }},
			{"revoke B's api key", func() error { return f.svc.RevokeAPIKey(f.ctx, as(a.owner), a.w.ID, b.apiKey) }},
			{"role of B's owner in A", func() error {
				_, err := f.svc.MemberRole(f.ctx, a.w.ID, b.owner)
				return err
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				sub := *f
				sub.t = t
				sub.refused(db.ErrNotFound, tc.call)
			})
		}
		if diff := cmp.Diff(beforeA, f.snapshot(a.w.ID)); diff != "" {
			t.Errorf("workspace A changed (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(beforeB, f.snapshot(b.w.ID)); diff != "" {
			t.Errorf("workspace B changed (-before +after):\n%s", diff)
		}

		// B's objects still work.
		if _, _, err := f.svc.InvitationByToken(f.ctx, b.inviteTok); err != nil {
			t.Errorf("B's invitation: %v", err)
		}
		if k, err := f.svc.AuthenticateAPIKey(f.ctx, b.keySecret); err != nil || k.WorkspaceID != b.w.ID {
			t.Errorf("B's key: %+v, %v", k, err)
		}

		// A's lists hold only A's objects.
		ms, err := f.svc.Members(f.ctx, a.w.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.UserID)
		}
		if diff := cmp.Diff([]string{a.owner, a.agent}, ids); diff != "" {
			t.Errorf("A's members (-want +got):\n%s", diff)
		}
		invs, err := f.svc.Invitations(f.ctx, a.w.ID)
		if err != nil || len(invs) != 1 || invs[0].ID != a.invitation {
			t.Errorf("A's invitations = %+v, %v", invs, err)
		}
		keys, err := f.svc.APIKeys(f.ctx, a.w.ID)
		if err != nil || len(keys) != 1 || keys[0].ID != a.apiKey {
			t.Errorf("A's keys = %+v, %v", keys, err)
		}
		list, err := f.svc.ListForUser(f.ctx, a.owner)
		if err != nil || len(list) != 1 || list[0].ID != a.w.ID {
			t.Errorf("A owner's workspaces = %+v, %v", list, err)
		}
	})
}

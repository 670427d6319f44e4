package workspace_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

const (
	owner  = workspace.RoleOwner
	admin  = workspace.RoleAdmin
	agent  = workspace.RoleAgent
	viewer = workspace.RoleViewer
)

func TestMembers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Team")
		a := f.member(w, o, admin)
		v := f.member(w, o, viewer)
		ms, err := f.svc.Members(f.ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			if m.Email == "" || m.Name != "Name of "+m.Email || !m.CreatedAt.Equal(start) {
				t.Errorf("member = %+v", m)
			}
			got = append(got, fmt.Sprintf("%s=%s", m.UserID, m.Role))
		}
		want := []string{o + "=owner", a + "=admin", v + "=viewer"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		if _, err := f.svc.MemberRole(f.ctx, w.ID, f.user("stranger@example.com")); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("MemberRole(non-member) = %v, want not found", err)
		}
	})
}

// Promise P-04, security.md B-5: who may give which role to whom. Every case
// has two owners, so the last-owner rule never decides it.
func TestChangeRoleRules(t *testing.T) {
	ok := error(nil)
	cases := []struct {
		actor, from, to workspace.Role
		want            error
	}{
		{owner, owner, admin, ok},
		{owner, admin, owner, ok},
		{owner, agent, viewer, ok},
		{owner, viewer, admin, ok},
		{owner, agent, owner, ok},
		{admin, owner, admin, workspace.ErrRoleNotAllowed},
		{admin, owner, viewer, workspace.ErrRoleNotAllowed},
		{admin, admin, owner, workspace.ErrRoleNotAllowed},
		{admin, agent, owner, workspace.ErrRoleNotAllowed},
		{admin, agent, admin, ok},
		{admin, admin, viewer, ok},
		{admin, viewer, agent, ok},
		{agent, viewer, agent, workspace.ErrRoleNotAllowed},
		{agent, agent, viewer, workspace.ErrRoleNotAllowed},
		{agent, admin, viewer, workspace.ErrRoleNotAllowed},
		{viewer, viewer, agent, workspace.ErrRoleNotAllowed},
		{viewer, agent, viewer, workspace.ErrRoleNotAllowed},
		{"", agent, viewer, workspace.ErrRoleNotAllowed},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s sets %s to %s", tc.actor, tc.from, tc.to), func(t *testing.T) {
				f := newFixture(t, d)
				w, o := f.workspace("Roles")
				f.member(w, o, owner)
				target := o
				if tc.from != owner {
					target = f.member(w, o, tc.from)
				}
				before := f.actions(w.ID)
				err := f.svc.ChangeRole(f.ctx, as("actor"), tc.actor, w.ID, target, tc.to)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				after := f.actions(w.ID)
				if tc.want != nil {
					if r := f.role(w.ID, target); r != tc.from {
						t.Errorf("role changed to %q by a refused call", r)
					}
					if len(after) != len(before) {
						t.Errorf("a refused call was audited: %v", after[len(before):])
					}
					return
				}
				if r := f.role(w.ID, target); r != tc.to {
					t.Errorf("role = %q, want %q", r, tc.to)
				}
				if diff := cmp.Diff(append(before, workspace.ActionMemberRoleChange), after); diff != "" {
					t.Errorf("audit (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestChangeRoleEdgeCases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Edges")
		g := f.member(w, o, agent)
		f.invalid("role", func() error { return f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, g, "boss") })
		f.refused(db.ErrNotFound, func() error {
			return f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, f.user("stranger@example.com"), viewer)
		})
		f.refused(db.ErrNotFound, func() error { return f.svc.ChangeRole(f.ctx, as(o), owner, "no-such-workspace", g, viewer) })

		// Setting the role someone already has is a no-op, not an event.
		before := f.auditCount()
		if err := f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, g, agent); err != nil {
			t.Fatal(err)
		}
		if f.auditCount() != before {
			t.Error("an unchanged role was audited")
		}

		// The entry says who changed whom from what to what.
		if err := f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, g, admin); err != nil {
			t.Fatal(err)
		}
		es := f.entries(w.ID)
		e := es[len(es)-1]
		if e.Action != workspace.ActionMemberRoleChange || e.TargetType != "user" || e.TargetID != g || *e.ActorUserID != o ||
			string(e.Details) != `{"api_keys_revoked":0,"from":"agent","invitations_revoked":0,"to":"admin"}` {
			t.Errorf("entry = %+v, details %s", e, e.Details)
		}
	})
}

// Security.md B-5: the last owner can be neither demoted nor removed, and
// cannot leave; with a second owner each of those works.
func TestLastOwner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Owners")
		a := f.member(w, o, admin)

		f.refused(workspace.ErrLastOwner, func() error { return f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, o, admin) })
		f.refused(workspace.ErrLastOwner, func() error { return f.svc.RemoveMember(f.ctx, as(o), owner, w.ID, o) })
		if err := f.svc.RemoveMember(f.ctx, as(o), owner, w.ID, o); !errors.Is(err, db.ErrConflict) {
			t.Errorf("last owner error %v does not map to a conflict", err)
		}
		f.refused(workspace.ErrRoleNotAllowed, func() error { return f.svc.RemoveMember(f.ctx, as(a), admin, w.ID, o) })
		f.refused(workspace.ErrRoleNotAllowed, func() error { return f.svc.ChangeRole(f.ctx, as(a), admin, w.ID, o, viewer) })
		if r := f.role(w.ID, o); r != owner {
			t.Fatalf("last owner is now %q", r)
		}

		// With a second owner, the first may step down, then be removed.
		if err := f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, a, owner); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, o, admin); err != nil {
			t.Fatalf("demote one of two owners: %v", err)
		}
		// a is now the only owner again.
		f.refused(workspace.ErrLastOwner, func() error { return f.svc.RemoveMember(f.ctx, as(a), owner, w.ID, a) })
		f.refused(workspace.ErrLastOwner, func() error { return f.svc.ChangeRole(f.ctx, as(a), owner, w.ID, a, viewer) })
		if err := f.svc.ChangeRole(f.ctx, as(a), owner, w.ID, o, owner); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveMember(f.ctx, as(a), owner, w.ID, a); err != nil {
			t.Fatalf("one of two owners leaves: %v", err)
		}
		if err := f.svc.RemoveMember(f.ctx, as(o), owner, w.ID, a); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("remove a member who left: %v", err)
		}
		want := []string{
			workspace.ActionWorkspaceCreate, workspace.ActionInvitationCreate, workspace.ActionInvitationAccept,
			workspace.ActionMemberRoleChange, workspace.ActionMemberRoleChange, workspace.ActionMemberRoleChange,
			workspace.ActionMemberLeave,
		}
		if diff := cmp.Diff(want, f.actions(w.ID)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

// Two owners demoting or removing each other at the same moment must not
// both succeed: one of them remains owner.
func TestConcurrentOwnersKeepAnOwner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for round := 0; round < 8; round++ {
			w, o1 := f.workspace("Race")
			o2 := f.member(w, o1, owner)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, pair := range [][2]string{{o1, o2}, {o2, o1}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if round%2 == 0 {
						errs[i] = f.svc.ChangeRole(f.ctx, as(pair[0]), owner, w.ID, pair[1], admin)
					} else {
						errs[i] = f.svc.RemoveMember(f.ctx, as(pair[0]), owner, w.ID, pair[1])
					}
				}()
			}
			wg.Wait()
			owners := f.count(`SELECT count(*) FROM members WHERE workspace_id = ? AND role = 'owner'`, w.ID)
			if owners != 1 {
				t.Fatalf("round %d: %d owners left (errors %v)", round, owners, errs)
			}
			failed := 0
			for _, err := range errs {
				switch {
				case err == nil:
				case errors.Is(err, workspace.ErrLastOwner):
					failed++
				default:
					t.Fatalf("round %d: unexpected error %v", round, err)
				}
			}
			if failed != 1 {
				t.Fatalf("round %d: errors %v, want exactly one refusal", round, errs)
			}
		}
	})
}

// Security.md B-5 and the admin/owner rules for removal; any member may leave.
func TestRemoveMemberRules(t *testing.T) {
	cases := []struct {
		actor, target workspace.Role
		want          error
	}{
		{owner, owner, nil},
		{owner, admin, nil},
		{owner, agent, nil},
		{owner, viewer, nil},
		{admin, owner, workspace.ErrRoleNotAllowed},
		{admin, admin, nil},
		{admin, agent, nil},
		{admin, viewer, nil},
		{agent, viewer, workspace.ErrRoleNotAllowed},
		{agent, agent, workspace.ErrRoleNotAllowed},
		{viewer, viewer, workspace.ErrRoleNotAllowed},
		{viewer, admin, workspace.ErrRoleNotAllowed},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s removes %s", tc.actor, tc.target), func(t *testing.T) {
				f := newFixture(t, d)
				w, o := f.workspace("Removal")
				f.member(w, o, owner)
				target := f.member(w, o, tc.target)
				before := f.actions(w.ID)
				err := f.svc.RemoveMember(f.ctx, as("actor"), tc.actor, w.ID, target)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				after := f.actions(w.ID)
				if tc.want != nil {
					if f.role(w.ID, target) != tc.target || len(after) != len(before) {
						t.Errorf("refused removal changed something: role %q, audit %v", f.role(w.ID, target), after[len(before):])
					}
					return
				}
				if r := f.role(w.ID, target); r != "" {
					t.Errorf("still a member as %q", r)
				}
				if diff := cmp.Diff(append(before, workspace.ActionMemberRemove), after); diff != "" {
					t.Errorf("audit (-want +got):\n%s", diff)
				}
			})
		}
		for _, r := range []workspace.Role{admin, agent, viewer} {
			t.Run(string(r)+" leaves", func(t *testing.T) {
				f := newFixture(t, d)
				w, o := f.workspace("Leaving")
				u := f.member(w, o, r)
				// The acting role does not matter for leaving.
				if err := f.svc.RemoveMember(f.ctx, as(u), viewer, w.ID, u); err != nil {
					t.Fatal(err)
				}
				if f.role(w.ID, u) != "" {
					t.Error("still a member after leaving")
				}
				acts := f.actions(w.ID)
				if acts[len(acts)-1] != workspace.ActionMemberLeave {
					t.Errorf("audit = %v", acts)
				}
			})
		}
		t.Run("unknown member or workspace", func(t *testing.T) {
			f := newFixture(t, d)
			w, o := f.workspace("Nobody")
			f.refused(db.ErrNotFound, func() error { return f.svc.RemoveMember(f.ctx, as(o), owner, w.ID, "nobody") })
			f.refused(db.ErrNotFound, func() error { return f.svc.RemoveMember(f.ctx, as(o), owner, "nowhere", o) })
		})
	})
}

// Someone who loses the power to grant a role loses the pending invitations
// they sent for it, so a removed admin cannot come back through an
// invitation to another address.
func TestLosingPowerRevokesInvitations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Revocations")
		o2 := f.member(w, o, owner)
		a := f.member(w, o, admin)

		_, ownerTok, err := f.svc.Invite(f.ctx, as(o2), owner, w.ID, "next-owner@example.com", owner)
		if err != nil {
			t.Fatal(err)
		}
		_, o2AdminTok, err := f.svc.Invite(f.ctx, as(o2), owner, w.ID, "o2-admin@example.com", admin)
		if err != nil {
			t.Fatal(err)
		}
		_, altTok, err := f.svc.Invite(f.ctx, as(a), admin, w.ID, "alt@example.com", admin)
		if err != nil {
			t.Fatal(err)
		}
		_, aViewerTok, err := f.svc.Invite(f.ctx, as(a), admin, w.ID, "friend@example.com", viewer)
		if err != nil {
			t.Fatal(err)
		}

		// o2, demoted to admin, can no longer grant owner.
		if err := f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, o2, admin); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.InvitationByToken(f.ctx, ownerTok); !errors.Is(err, workspace.ErrInvitationInvalid) {
			t.Errorf("owner invitation of a demoted owner: %v", err)
		}
		if _, _, err := f.svc.InvitationByToken(f.ctx, o2AdminTok); err != nil {
			t.Errorf("admin invitation of an owner demoted to admin: %v", err)
		}
		// a, removed, loses every invitation they sent.
		if err := f.svc.RemoveMember(f.ctx, as(o), owner, w.ID, a); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{altTok, aViewerTok} {
			if _, _, err := f.svc.InvitationByToken(f.ctx, tok); !errors.Is(err, workspace.ErrInvitationInvalid) {
				t.Errorf("invitation of a removed admin: %v", err)
			}
		}
		alt := f.user("alt@example.com")
		if _, err := f.svc.AcceptInvitation(f.ctx, as(alt), altTok, "alt@example.com"); !errors.Is(err, workspace.ErrInvitationInvalid) {
			t.Errorf("accepting a removed admin's invitation: %v", err)
		}
		es := f.entries(w.ID)
		if got := string(es[len(es)-1].Details); got != `{"api_keys_revoked":0,"invitations_revoked":2,"role":"admin"}` {
			t.Errorf("removal details = %s", got)
		}
		if got := string(es[len(es)-2].Details); got != `{"api_keys_revoked":0,"from":"owner","invitations_revoked":1,"to":"admin"}` {
			t.Errorf("demotion details = %s", got)
		}
	})
}

// Security review: a member who is demoted or removed loses the API keys
// they made for roles they can no longer grant (an admin's admin key must
// not outlive the admin's access).
func TestDemotionAndRemovalRevokeTheirAPIKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Keys")
		a := f.member(w, o, admin)
		_, adminKey, err := f.svc.CreateAPIKey(f.ctx, as(a), admin, w.ID, "admin key", admin)
		if err != nil {
			t.Fatal(err)
		}
		_, agentKey, err := f.svc.CreateAPIKey(f.ctx, as(a), admin, w.ID, "agent key", agent)
		if err != nil {
			t.Fatal(err)
		}
		_, ownersKey, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "owner's key", admin)
		if err != nil {
			t.Fatal(err)
		}
		// Demoted to agent: an agent grants nothing, so both keys go.
		if err := f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, a, agent); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{adminKey, agentKey} {
			if _, err := f.svc.AuthenticateAPIKey(f.ctx, k); !errors.Is(err, workspace.ErrInvalidAPIKey) {
				t.Errorf("key of a demoted admin still works: %v", err)
			}
		}
		if _, err := f.svc.AuthenticateAPIKey(f.ctx, ownersKey); err != nil {
			t.Errorf("the owner's own key was revoked: %v", err)
		}
		es := f.entries(w.ID)
		if got := string(es[len(es)-1].Details); got != `{"api_keys_revoked":2,"from":"admin","invitations_revoked":0,"to":"agent"}` {
			t.Errorf("demotion details = %s", got)
		}
		// Back to admin, a new key, then removed: the key goes with them.
		if err := f.svc.ChangeRole(f.ctx, as(o), owner, w.ID, a, admin); err != nil {
			t.Fatal(err)
		}
		_, k2, err := f.svc.CreateAPIKey(f.ctx, as(a), admin, w.ID, "again", viewer)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveMember(f.ctx, as(o), owner, w.ID, a); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateAPIKey(f.ctx, k2); !errors.Is(err, workspace.ErrInvalidAPIKey) {
			t.Errorf("key of a removed admin still works: %v", err)
		}
	})
}

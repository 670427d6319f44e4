package workspace_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

var base62Token = regexp.MustCompile(`^[0-9A-Za-z]{43}$`)

func TestInvitationHappyPath(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Welcome")
		inv, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, " New.Person@Example.com ", agent)
		if err != nil {
			t.Fatal(err)
		}
		if !base62Token.MatchString(tok) {
			t.Errorf("token %q is not 43 base62 characters", tok)
		}
		want := &workspace.Invitation{
			ID: inv.ID, WorkspaceID: w.ID, Email: "New.Person@Example.com", Role: agent, InvitedBy: o,
			CreatedAt: start, ExpiresAt: start.Add(workspace.DefaultInvitationTTL),
		}
		if diff := cmp.Diff(want, inv); diff != "" {
			t.Errorf("invitation (-want +got):\n%s", diff)
		}
		pending, err := f.svc.Invitations(f.ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]workspace.Invitation{*want}, pending); diff != "" {
			t.Errorf("pending (-want +got):\n%s", diff)
		}

		// Only the token's SHA-256 is stored.
		row := f.row(`SELECT * FROM invitations WHERE id = ?`, inv.ID)
		sum := sha256.Sum256([]byte(tok))
		if row["token_hash"] != hex.EncodeToString(sum[:]) {
			t.Errorf("token_hash = %q, want the token's SHA-256", row["token_hash"])
		}
		for col, v := range row {
			if strings.Contains(v, tok) {
				t.Errorf("column %s holds the token", col)
			}
		}

		byTok, byTokWS, err := f.svc.InvitationByToken(f.ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, byTok); diff != "" {
			t.Errorf("by token (-want +got):\n%s", diff)
		}
		if byTokWS.ID != w.ID || byTokWS.Name != "Welcome" {
			t.Errorf("workspace by token = %+v", byTokWS)
		}

		f.clk.Advance(time.Hour)
		u := f.user("new.person@example.com")
		m, err := f.svc.AcceptInvitation(f.ctx, as(u), tok, "NEW.person@example.COM")
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != w.ID || m.Role != agent || m.Name != "Welcome" {
			t.Errorf("membership = %+v", m)
		}
		if r := f.role(w.ID, u); r != agent {
			t.Errorf("role = %q", r)
		}
		if pending, _ := f.svc.Invitations(f.ctx, w.ID); len(pending) != 0 {
			t.Errorf("accepted invitation still pending: %+v", pending)
		}
		if got := f.row(`SELECT accepted_at FROM invitations WHERE id = ?`, inv.ID)["accepted_at"]; got == "" {
			t.Error("accepted_at not set")
		}

		// A used link works once.
		if _, _, err := f.svc.InvitationByToken(f.ctx, tok); !errors.Is(err, workspace.ErrInvitationInvalid) {
			t.Errorf("used token by token: %v", err)
		}
		other := f.user("other@example.com")
		f.refused(workspace.ErrInvitationInvalid, func() error {
			_, err := f.svc.AcceptInvitation(f.ctx, as(other), tok, "new.person@example.com")
			return err
		})
		if f.role(w.ID, other) != "" {
			t.Error("a reused invitation let someone in")
		}

		es := f.entries(w.ID)
		acts := f.actions(w.ID)
		if diff := cmp.Diff([]string{workspace.ActionWorkspaceCreate, workspace.ActionInvitationCreate, workspace.ActionInvitationAccept}, acts); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
		if es[1].TargetID != inv.ID || string(es[1].Details) != `{"replaced":0,"role":"agent"}` {
			t.Errorf("create entry = %+v, %s", es[1], es[1].Details)
		}
		if *es[2].ActorUserID != u || es[2].TargetID != inv.ID || string(es[2].Details) != `{"invited_role":"agent","role":"agent"}` {
			t.Errorf("accept entry = %+v, %s", es[2], es[2].Details)
		}
		for _, e := range es {
			if strings.Contains(string(e.Details), tok) || strings.Contains(strings.ToLower(string(e.Details)), "new.person") {
				t.Errorf("entry %s holds the token or the address: %s", e.Action, e.Details)
			}
		}
	})
}

func TestInvitationExpires(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, workspace.Options{InvitationTTL: 48 * time.Hour})
		w, o := f.workspace("Late")
		inv, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "late@example.com", viewer)
		if err != nil {
			t.Fatal(err)
		}
		if !inv.ExpiresAt.Equal(start.Add(48 * time.Hour)) {
			t.Errorf("expires %v", inv.ExpiresAt)
		}
		f.clk.Advance(48*time.Hour - time.Microsecond)
		if _, _, err := f.svc.InvitationByToken(f.ctx, tok); err != nil {
			t.Errorf("a microsecond before expiry: %v", err)
		}
		f.clk.Advance(time.Microsecond)
		if _, _, err := f.svc.InvitationByToken(f.ctx, tok); !errors.Is(err, workspace.ErrInvitationInvalid) {
			t.Errorf("at expiry: %v", err)
		}
		u := f.user("late@example.com")
		f.refused(workspace.ErrInvitationInvalid, func() error {
			_, err := f.svc.AcceptInvitation(f.ctx, as(u), tok, "late@example.com")
			return err
		})
		if f.role(w.ID, u) != "" {
			t.Error("an expired invitation let someone in")
		}
		if pending, _ := f.svc.Invitations(f.ctx, w.ID); len(pending) != 0 {
			t.Errorf("expired invitation listed as pending: %+v", pending)
		}
	})
}

func TestInvitationRevoked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Revoked")
		inv, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "gone@example.com", admin)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeInvitation(f.ctx, as(o), w.ID, inv.ID); err != nil {
			t.Fatal(err)
		}
		u := f.user("gone@example.com")
		f.refused(workspace.ErrInvitationInvalid, func() error {
			_, err := f.svc.AcceptInvitation(f.ctx, as(u), tok, "gone@example.com")
			return err
		})
		if _, _, err := f.svc.InvitationByToken(f.ctx, tok); !errors.Is(err, workspace.ErrInvitationInvalid) {
			t.Errorf("revoked by token: %v", err)
		}
		// Revoking again is a quiet success.
		before := f.auditCount()
		if err := f.svc.RevokeInvitation(f.ctx, as(o), w.ID, inv.ID); err != nil || f.auditCount() != before {
			t.Errorf("second revoke: %v, %d new entries", err, f.auditCount()-before)
		}
		f.refused(db.ErrNotFound, func() error { return f.svc.RevokeInvitation(f.ctx, as(o), w.ID, "no-such-invitation") })

		// An accepted invitation cannot be revoked.
		inv2, tok2, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "kept@example.com", agent)
		if err != nil {
			t.Fatal(err)
		}
		k := f.user("kept@example.com")
		if _, err := f.svc.AcceptInvitation(f.ctx, as(k), tok2, "kept@example.com"); err != nil {
			t.Fatal(err)
		}
		f.refused(workspace.ErrInvitationInvalid, func() error { return f.svc.RevokeInvitation(f.ctx, as(o), w.ID, inv2.ID) })

		want := []string{workspace.ActionWorkspaceCreate, workspace.ActionInvitationCreate, workspace.ActionInvitationRevoke,
			workspace.ActionInvitationCreate, workspace.ActionInvitationAccept}
		if diff := cmp.Diff(want, f.actions(w.ID)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestInvitationEmailMismatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Mismatch")
		_, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "right@example.com", admin)
		if err != nil {
			t.Fatal(err)
		}
		wrong := f.user("wrong@example.com")
		f.refused(workspace.ErrInvitationEmailMismatch, func() error {
			_, err := f.svc.AcceptInvitation(f.ctx, as(wrong), tok, "wrong@example.com")
			return err
		})
		if f.role(w.ID, wrong) != "" {
			t.Error("the wrong user joined")
		}
		// The link still works for the right person.
		right := f.user("right@example.com")
		if _, err := f.svc.AcceptInvitation(f.ctx, as(right), tok, "right@example.com"); err != nil {
			t.Fatalf("right user after a mismatch: %v", err)
		}
		if f.role(w.ID, right) != admin {
			t.Error("right user did not join")
		}
	})
}

func TestInvalidTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Tokens")
		_, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "t@example.com", agent)
		if err != nil {
			t.Fatal(err)
		}
		// Well-formed but unknown: one character changed.
		c := byte('a')
		if tok[10] == c {
			c = 'b'
		}
		flipped := tok[:10] + string(c) + tok[11:]
		u := f.user("t@example.com")
		for _, bad := range []string{"", "x", tok[:42], tok + "A", " " + tok, flipped, strings.Repeat("!", 43), "' OR 1=1 --"} {
			if _, _, err := f.svc.InvitationByToken(f.ctx, bad); !errors.Is(err, workspace.ErrInvitationInvalid) {
				t.Errorf("InvitationByToken(%q) = %v", bad, err)
			}
			f.refused(workspace.ErrInvitationInvalid, func() error {
				_, err := f.svc.AcceptInvitation(f.ctx, as(u), bad, "t@example.com")
				return err
			})
		}
		if f.role(w.ID, u) != "" {
			t.Error("a bad token let someone in")
		}
	})
}

// Promise P-04: who may invite whom; bad input changes nothing.
func TestInviteRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Rules")
		for _, tc := range []struct {
			actor, role workspace.Role
			want        error
		}{
			{owner, owner, nil},
			{owner, admin, nil},
			{owner, viewer, nil},
			{admin, owner, workspace.ErrRoleNotAllowed},
			{admin, admin, nil},
			{admin, agent, nil},
			{agent, viewer, workspace.ErrRoleNotAllowed},
			{agent, agent, workspace.ErrRoleNotAllowed},
			{viewer, viewer, workspace.ErrRoleNotAllowed},
			{"", viewer, workspace.ErrRoleNotAllowed},
		} {
			email := string(tc.actor) + "-invites-" + string(tc.role) + "@example.com"
			before := f.auditCount()
			_, _, err := f.svc.Invite(f.ctx, as(o), tc.actor, w.ID, email, tc.role)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s invites %s: %v, want %v", tc.actor, tc.role, err, tc.want)
			}
			if wrote := f.auditCount() - before; (tc.want == nil) != (wrote == 1) {
				t.Errorf("%s invites %s: %d audit entries", tc.actor, tc.role, wrote)
			}
		}
		f.invalid("email", func() error {
			_, _, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "not an address", agent)
			return err
		})
		f.invalid("email", func() error { _, _, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "", agent); return err })
		f.invalid("role", func() error {
			_, _, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "r@example.com", "boss")
			return err
		})
		f.refused(db.ErrNotFound, func() error {
			_, _, err := f.svc.Invite(f.ctx, as(o), owner, "no-such-workspace", "r@example.com", agent)
			return err
		})

		// A member's own address (in any case) cannot be invited again.
		member := f.member(w, o, agent)
		var email string
		if err := f.d.R.NewRaw(`SELECT email FROM users WHERE id = ?`, member).Scan(f.ctx, &email); err != nil {
			t.Fatal(err)
		}
		f.refused(workspace.ErrAlreadyMember, func() error {
			_, _, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, strings.ToUpper(email), admin)
			return err
		})
		if _, _, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, email, admin); !errors.Is(err, db.ErrConflict) {
			t.Errorf("already-member error %v does not map to a conflict", err)
		}
	})
}

// Inviting the same address again replaces the earlier link.
func TestReinviteReplacesEarlierLink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Again")
		first, tok1, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "again@example.com", viewer)
		if err != nil {
			t.Fatal(err)
		}
		second, tok2, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "AGAIN@example.com", agent)
		if err != nil {
			t.Fatal(err)
		}
		if tok1 == tok2 || first.ID == second.ID {
			t.Fatal("re-invite reused the token or the ID")
		}
		if _, _, err := f.svc.InvitationByToken(f.ctx, tok1); !errors.Is(err, workspace.ErrInvitationInvalid) {
			t.Errorf("first link after re-invite: %v", err)
		}
		pending, err := f.svc.Invitations(f.ctx, w.ID)
		if err != nil || len(pending) != 1 || pending[0].ID != second.ID {
			t.Errorf("pending = %+v, %v", pending, err)
		}
		u := f.user("again@example.com")
		m, err := f.svc.AcceptInvitation(f.ctx, as(u), tok2, "again@example.com")
		if err != nil || m.Role != agent {
			t.Errorf("accept second link = %+v, %v", m, err)
		}
		es := f.entries(w.ID)
		if got := string(es[2].Details); got != `{"replaced":1,"role":"agent"}` {
			t.Errorf("second invitation details = %s", got)
		}
	})
}

// Accepting as someone who is already a member keeps the higher role: an
// invitation never demotes.
func TestAcceptAsExistingMemberKeepsHigherRole(t *testing.T) {
	for _, tc := range []struct {
		current, invited, want workspace.Role
	}{
		{viewer, admin, admin},
		{admin, viewer, admin},
		{agent, agent, agent},
	} {
		t.Run(string(tc.current)+" invited as "+string(tc.invited), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				f := newFixture(t, d)
				w, o := f.workspace("Existing")
				_, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "twice@example.com", tc.invited)
				if err != nil {
					t.Fatal(err)
				}
				// The user joined by another route after the invitation was sent
				// (for example under another address they later changed).
				u := f.member(w, o, tc.current)
				if _, err := f.d.W.NewRaw(`UPDATE users SET email = 'twice@example.com', email_key = 'twice@example.com' WHERE id = ?`, u).Exec(f.ctx); err != nil {
					t.Fatal(err)
				}
				m, err := f.svc.AcceptInvitation(f.ctx, as(u), tok, "twice@example.com")
				if err != nil {
					t.Fatal(err)
				}
				if m.Role != tc.want || f.role(w.ID, u) != tc.want {
					t.Errorf("role = %q (stored %q), want %q", m.Role, f.role(w.ID, u), tc.want)
				}
				if n := f.count(`SELECT count(*) FROM members WHERE workspace_id = ?`, w.ID); n != 2 {
					t.Errorf("%d members, want 2", n)
				}
				if _, _, err := f.svc.InvitationByToken(f.ctx, tok); !errors.Is(err, workspace.ErrInvitationInvalid) {
					t.Errorf("invitation still usable: %v", err)
				}
			})
		})
	}
}

package workspace_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// Promise P-33: a workspace being deleted takes nobody in. An invitation
// to it, even one its deletion did not revoke, answers as an invalid link
// on its page and when accepted, and nobody joins; so nobody can join as
// an owner to cancel the deletion.
func TestInvitationOfWorkspaceBeingDeleted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Going Away")
		_, tok, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "late@example.com", owner)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.InvitationByToken(f.ctx, tok); err != nil {
			t.Fatalf("before the deletion: %v", err)
		}
		// Marked deleting directly, leaving the invitation pending, so
		// this checks the look-ups on their own.
		if _, err := d.W.NewRaw(`UPDATE workspaces SET deletion_requested_at = ?, purge_at = ? WHERE id = ?`,
			f.clk.Now(), f.clk.Now().Add(workspace.DefaultPurgeAfter), w.ID).Exec(f.ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.InvitationByToken(f.ctx, tok); !errors.Is(err, workspace.ErrInvitationInvalid) {
			t.Errorf("by token while deleting: %v, want ErrInvitationInvalid", err)
		}
		late := f.user("late@example.com")
		f.refused(workspace.ErrInvitationInvalid, func() error {
			_, err := f.svc.AcceptInvitation(f.ctx, as(late), tok, "late@example.com")
			return err
		})
		if r := f.role(w.ID, late); r != "" {
			t.Errorf("the invitee joined a workspace being deleted as %q", r)
		}
	})
}

// Promise P-33: requesting a workspace's deletion revokes its pending
// invitations in the same transaction, says how many in its audit entry,
// and cancelling the deletion does not bring them back; invitations
// already accepted and other workspaces' stay as they were.
func TestRequestDeletionRevokesInvitations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newDeleteFixture(t, d, workspace.DeleteOptions{})
		w, o := f.workspace("Closing Shop")
		other, oo := f.workspace("Staying Open")
		_, tokOwner, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "would-be-owner@example.com", owner)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Invite(f.ctx, as(o), owner, w.ID, "agent@example.com", agent); err != nil {
			t.Fatal(err)
		}
		_, tokOther, err := f.svc.Invite(f.ctx, as(oo), owner, other.ID, "would-be-owner@example.com", agent)
		if err != nil {
			t.Fatal(err)
		}
		accepted := f.member(w, o, workspace.RoleAgent) // through an invitation, accepted
		acceptedBefore := f.count(`SELECT count(*) FROM invitations WHERE workspace_id = ? AND accepted_at IS NOT NULL AND revoked_at IS NULL`, w.ID)

		if _, err := f.del.RequestDeletion(f.ctx, as(o), w.ID, w.Name, "right password"); err != nil {
			t.Fatal(err)
		}
		if n := f.count(`SELECT count(*) FROM invitations WHERE workspace_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, w.ID); n != 0 {
			t.Errorf("%d invitations still pending after the deletion request", n)
		}
		if n := f.count(`SELECT count(*) FROM invitations WHERE workspace_id = ? AND accepted_at IS NOT NULL AND revoked_at IS NULL`, w.ID); n != acceptedBefore || n == 0 {
			t.Errorf("accepted invitations untouched: %d, want %d (> 0)", n, acceptedBefore)
		}
		es := f.entries(w.ID)
		last := es[len(es)-1]
		var details struct {
			Revoked int `json:"invitations_revoked"`
		}
		if err := json.Unmarshal(last.Details, &details); err != nil || last.Action != workspace.ActionWorkspaceDeleteRequest || details.Revoked != 2 {
			t.Errorf("last entry %s %s (%v), want %s with 2 invitations revoked", last.Action, last.Details, err, workspace.ActionWorkspaceDeleteRequest)
		}

		if _, err := f.del.CancelDeletion(f.ctx, as(o), w.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.InvitationByToken(f.ctx, tokOwner); !errors.Is(err, workspace.ErrInvitationInvalid) {
			t.Errorf("revoked invitation after cancelling: %v, want ErrInvitationInvalid", err)
		}
		invitee := f.user("would-be-owner@example.com")
		f.refused(workspace.ErrInvitationInvalid, func() error {
			_, err := f.svc.AcceptInvitation(f.ctx, as(invitee), tokOwner, "would-be-owner@example.com")
			return err
		})
		if r := f.role(w.ID, accepted); r != workspace.RoleAgent {
			t.Errorf("the member who had accepted is now %q", r)
		}
		// Another workspace's invitation to the same address still works.
		if _, err := f.svc.AcceptInvitation(f.ctx, as(invitee), tokOther, "would-be-owner@example.com"); err != nil {
			t.Errorf("other workspace's invitation: %v", err)
		}
	})
}

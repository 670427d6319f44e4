package workspace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Invitation asks someone, by e-mail address, to join a workspace with a
// role. The link token is returned once by Invite and never stored.
type Invitation struct {
	ID          string     `bun:"id" json:"id"`
	WorkspaceID string     `bun:"workspace_id" json:"workspace_id"`
	Email       string     `bun:"email" json:"email"`
	Role        Role       `bun:"role" json:"role"`
	InvitedBy   string     `bun:"invited_by" json:"invited_by,omitempty"` // "" when sent with an API key or the inviter's account is gone
	CreatedAt   time.Time  `bun:"created_at" json:"created_at"`
	ExpiresAt   time.Time  `bun:"expires_at" json:"expires_at"`
	AcceptedAt  *time.Time `bun:"accepted_at" json:"accepted_at,omitempty"`
	RevokedAt   *time.Time `bun:"revoked_at" json:"revoked_at,omitempty"`
}

// Pending reports whether the invitation can still be accepted at now.
func (i *Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

const invitationCols = `id, workspace_id, email, role, COALESCE(invited_by, '') AS invited_by, created_at, expires_at, accepted_at, revoked_at`

// Invite invites email to the workspace as role, acting as actorRole, and
// returns the invitation and its link token (shown once; only its SHA-256 is
// stored). An earlier pending invitation to the same address is revoked, so
// only the newest link works. Errors: *validate.Error for a bad address or
// role; ErrRoleNotAllowed when actorRole may not grant role; ErrAlreadyMember
// when a member already has that address; db.ErrNotFound for no workspace.
func (s *Service) Invite(ctx context.Context, a audit.Actor, actorRole Role, workspaceID, email string, role Role) (*Invitation, string, error) {
	email, key, err := validate.Email("email", email)
	if err != nil {
		return nil, "", err
	}
	if err := checkRole(role); err != nil {
		return nil, "", err
	}
	if !actorRole.CanManage(role) {
		return nil, "", fmt.Errorf("workspace: invite: %w", ErrRoleNotAllowed)
	}
	token := newSecret()
	now := s.now()
	inv := &Invitation{
		ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, Email: email, Role: role,
		InvitedBy: a.UserID, CreatedAt: now, ExpiresAt: now.Add(s.opt.InvitationTTL),
	}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		var n int
		if err := tx.NewRaw(`SELECT count(*) FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND u.email_key = ?`, workspaceID, key).Scan(ctx, &n); err != nil {
			return err
		}
		if n > 0 {
			return ErrAlreadyMember
		}
		res, err := tx.NewRaw(`UPDATE invitations SET revoked_at = ?
			WHERE workspace_id = ? AND email_key = ? AND accepted_at IS NULL AND revoked_at IS NULL`,
			now, workspaceID, key).Exec(ctx)
		if err != nil {
			return err
		}
		replaced, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO invitations
			(id, workspace_id, email, email_key, role, token_hash, invited_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			inv.ID, workspaceID, email, key, role, hashSecret(token), nullable(a.UserID), now, inv.ExpiresAt).Exec(ctx); err != nil {
			return err
		}
		// Neither the address nor the token goes into the log.
		return audit.Record(ctx, tx, now, workspaceID, a, ActionInvitationCreate, targetInvitation, inv.ID,
			map[string]any{"role": role, "replaced": replaced})
	})
	if err != nil {
		return nil, "", fmt.Errorf("workspace: invite: %w", err)
	}
	return inv, token, nil
}

// Invitations lists a workspace's pending invitations (not accepted, not
// revoked, not expired), newest first.
func (s *Service) Invitations(ctx context.Context, workspaceID string) ([]Invitation, error) {
	out := []Invitation{}
	err := s.d.R.NewRaw(`SELECT `+invitationCols+` FROM invitations
		WHERE workspace_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, workspaceID, s.now()).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("workspace: invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation withdraws an invitation and records invitation.revoke.
// Revoking one already revoked changes nothing and succeeds; revoking one
// already accepted returns ErrInvitationInvalid (remove the member instead).
// The HTTP layer allows it to admins and owners.
func (s *Service) RevokeInvitation(ctx context.Context, a audit.Actor, workspaceID, invitationID string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var inv Invitation
		if err := tx.NewRaw(`SELECT `+invitationCols+` FROM invitations WHERE workspace_id = ? AND id = ?`,
			workspaceID, invitationID).Scan(ctx, &inv); err != nil {
			return db.NoRows(err)
		}
		switch {
		case inv.AcceptedAt != nil:
			return ErrInvitationInvalid
		case inv.RevokedAt != nil:
			return nil
		}
		now := s.now()
		if err := db.OneRow(tx.NewRaw(`UPDATE invitations SET revoked_at = ? WHERE workspace_id = ? AND id = ?`,
			now, workspaceID, invitationID).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionInvitationRevoke, targetInvitation, invitationID,
			map[string]any{"role": inv.Role})
	})
	if err != nil {
		return fmt.Errorf("workspace: revoke invitation: %w", err)
	}
	return nil
}

// InvitationByToken returns the pending invitation a link token belongs to
// and its workspace, for the page that offers to accept it. Any token that
// cannot be accepted now answers ErrInvitationInvalid, including one of a
// workspace being deleted.
func (s *Service) InvitationByToken(ctx context.Context, token string) (*Invitation, *Workspace, error) {
	inv, err := s.pendingByToken(ctx, s.d.R, token)
	if err != nil {
		return nil, nil, fmt.Errorf("workspace: invitation by token: %w", err)
	}
	w, err := getWorkspace(ctx, s.d.R, inv.WorkspaceID)
	if err != nil {
		return nil, nil, fmt.Errorf("workspace: invitation by token: %w", err)
	}
	return inv, w, nil
}

// pendingByToken finds the invitation for token if it can be accepted now:
// pending, and its workspace not being deleted.
func (s *Service) pendingByToken(ctx context.Context, idb bun.IDB, token string) (*Invitation, error) {
	if !isBase62(token) {
		return nil, ErrInvitationInvalid
	}
	var inv Invitation
	// A workspace being deleted takes no one in: its invitations answer
	// as unknown ones (RequestDeletion revokes them too), so nobody can
	// join it, as an owner say, to cancel its deletion.
	err := idb.NewRaw(`SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?
		AND EXISTS (SELECT 1 FROM workspaces w WHERE w.id = invitations.workspace_id AND w.deletion_requested_at IS NULL)`,
		hashSecret(token)).Scan(ctx, &inv)
	if err != nil {
		if errors.Is(db.NoRows(err), db.ErrNotFound) {
			return nil, ErrInvitationInvalid
		}
		return nil, err
	}
	if !inv.Pending(s.now()) {
		return nil, ErrInvitationInvalid
	}
	return &inv, nil
}

// AcceptInvitation makes a.UserID a member with the invitation's role and
// records invitation.accept. userEmail is the signed-in user's address; it
// must match the invitation's, ignoring case (ErrInvitationEmailMismatch,
// and the invitation stays usable). A token that is unknown, expired,
// revoked or already used, or whose workspace is being deleted, answers
// ErrInvitationInvalid. A user who is
// already a member keeps the higher of their role and the invited one.
func (s *Service) AcceptInvitation(ctx context.Context, a audit.Actor, token, userEmail string) (*Membership, error) {
	if a.UserID == "" {
		return nil, errors.New("workspace: accept invitation: the actor must be a user")
	}
	var m *Membership
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		inv, err := s.pendingByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		if strings.ToLower(strings.TrimSpace(userEmail)) != strings.ToLower(inv.Email) {
			return ErrInvitationEmailMismatch
		}
		if err := s.lockWorkspace(ctx, tx, inv.WorkspaceID); err != nil {
			return err
		}
		now := s.now()
		// The conditions repeat the pending check so that, of two concurrent
		// accepts, only the first one to update the row succeeds.
		if err := db.OneRow(tx.NewRaw(`UPDATE invitations SET accepted_at = ?
			WHERE workspace_id = ? AND id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
			now, inv.WorkspaceID, inv.ID, now).Exec(ctx)); err != nil {
			if errors.Is(err, db.ErrNotFound) {
				return ErrInvitationInvalid
			}
			return err
		}
		role, err := s.join(ctx, tx, now, inv.WorkspaceID, a.UserID, inv.Role)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, inv.WorkspaceID, a, ActionInvitationAccept, targetInvitation, inv.ID,
			map[string]any{"invited_role": inv.Role, "role": role}); err != nil {
			return err
		}
		w, err := getWorkspace(ctx, tx, inv.WorkspaceID)
		if err != nil {
			return err
		}
		m = &Membership{Workspace: *w, Role: role}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("workspace: accept invitation: %w", err)
	}
	return m, nil
}

// join adds userID as role, or raises an existing member to role when it is
// higher, and returns the role they end with.
func (s *Service) join(ctx context.Context, tx bun.IDB, now time.Time, workspaceID, userID string, role Role) (Role, error) {
	cur, err := memberRole(ctx, tx, workspaceID, userID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		_, err := tx.NewRaw(`INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			workspaceID, userID, role, now, now).Exec(ctx)
		return role, err
	case err != nil:
		return "", err
	case cur.AtLeast(role):
		return cur, nil
	}
	err = db.OneRow(tx.NewRaw(`UPDATE members SET role = ?, updated_at = ? WHERE workspace_id = ? AND user_id = ?`,
		role, now, workspaceID, userID).Exec(ctx))
	return role, err
}

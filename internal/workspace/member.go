package workspace

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
)

// Member is a user's membership as seen by the workspace's team page.
type Member struct {
	UserID    string    `bun:"user_id" json:"user_id"`
	Email     string    `bun:"email" json:"email"`
	Name      string    `bun:"name" json:"name"`
	Role      Role      `bun:"role" json:"role"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
}

// MemberRole returns userID's role in the workspace, or an error wrapping
// db.ErrNotFound when they are not a member. The access layer calls it on
// every request, so a role change or removal takes effect at once (B-4).
func (s *Service) MemberRole(ctx context.Context, workspaceID, userID string) (Role, error) {
	r, err := memberRole(ctx, s.d.R, workspaceID, userID)
	if err != nil {
		return "", fmt.Errorf("workspace: member role: %w", err)
	}
	return r, nil
}

func memberRole(ctx context.Context, idb bun.IDB, workspaceID, userID string) (Role, error) {
	var r Role
	if err := idb.NewRaw(`SELECT role FROM members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID).Scan(ctx, &r); err != nil {
		return "", db.NoRows(err)
	}
	return r, nil
}

// Members lists a workspace's members in the order they joined.
func (s *Service) Members(ctx context.Context, workspaceID string) ([]Member, error) {
	out := []Member{}
	err := s.d.R.NewRaw(`SELECT m.user_id, u.email, u.name, m.role, m.created_at
		FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = ? ORDER BY m.created_at, m.user_id`, workspaceID).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("workspace: members: %w", err)
	}
	return out, nil
}

// ChangeRole gives member userID the role role, acting as actorRole, and
// records member.role_change. Setting the role a member already has changes
// and records nothing. Errors: ErrRoleNotAllowed when actorRole may not
// grant role or may not touch the member's current role; ErrLastOwner when
// it would demote the last owner; db.ErrNotFound when userID is not a member
// of this workspace.
func (s *Service) ChangeRole(ctx context.Context, a audit.Actor, actorRole Role, workspaceID, userID string, role Role) error {
	if err := checkRole(role); err != nil {
		return err
	}
	if !actorRole.CanManage(role) {
		return fmt.Errorf("workspace: change role: %w", ErrRoleNotAllowed)
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		cur, err := memberRole(ctx, tx, workspaceID, userID)
		if err != nil {
			return err
		}
		if !actorRole.CanManage(cur) {
			return ErrRoleNotAllowed
		}
		if cur == role {
			return nil
		}
		if cur == RoleOwner {
			if err := s.keepAnOwner(ctx, tx, workspaceID); err != nil {
				return err
			}
		}
		now := s.now()
		if err := db.OneRow(tx.NewRaw(`UPDATE members SET role = ?, updated_at = ? WHERE workspace_id = ? AND user_id = ?`,
			role, now, workspaceID, userID).Exec(ctx)); err != nil {
			return err
		}
		invs, keys, err := revokeGrantsBy(ctx, tx, now, workspaceID, userID, ungrantable(role))
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionMemberRoleChange, targetUser, userID,
			map[string]any{"from": cur, "to": role, "invitations_revoked": invs, "api_keys_revoked": keys})
	})
	if err != nil {
		return fmt.Errorf("workspace: change role: %w", err)
	}
	return nil
}

// RemoveMember takes userID out of the workspace and records member.remove,
// or member.leave when a.UserID is userID: any member may leave, whatever
// actorRole. Removing someone else needs a role that may manage theirs
// (ErrRoleNotAllowed). The last owner can neither be removed nor leave
// (ErrLastOwner). Pending invitations the member sent are revoked with it.
func (s *Service) RemoveMember(ctx context.Context, a audit.Actor, actorRole Role, workspaceID, userID string) error {
	leaving := a.UserID != "" && a.UserID == userID
	if !leaving && !actorRole.AtLeast(RoleAdmin) {
		return fmt.Errorf("workspace: remove member: %w", ErrRoleNotAllowed)
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		cur, err := memberRole(ctx, tx, workspaceID, userID)
		if err != nil {
			return err
		}
		if !leaving && !actorRole.CanManage(cur) {
			return ErrRoleNotAllowed
		}
		if cur == RoleOwner {
			if err := s.keepAnOwner(ctx, tx, workspaceID); err != nil {
				return err
			}
		}
		now := s.now()
		if err := db.OneRow(tx.NewRaw(`DELETE FROM members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID).Exec(ctx)); err != nil {
			return err
		}
		invs, keys, err := revokeGrantsBy(ctx, tx, now, workspaceID, userID, ungrantable(""))
		if err != nil {
			return err
		}
		action := ActionMemberRemove
		if leaving {
			action = ActionMemberLeave
		}
		return audit.Record(ctx, tx, now, workspaceID, a, action, targetUser, userID,
			map[string]any{"role": cur, "invitations_revoked": invs, "api_keys_revoked": keys})
	})
	if err != nil {
		return fmt.Errorf("workspace: remove member: %w", err)
	}
	return nil
}

// keepAnOwner returns ErrLastOwner unless the workspace has at least two
// owners, so that one of them may be demoted or removed. The caller holds
// the workspace lock, so the count cannot change before it commits.
func (s *Service) keepAnOwner(ctx context.Context, tx bun.IDB, workspaceID string) error {
	var n int
	if err := tx.NewRaw(`SELECT count(*) FROM members WHERE workspace_id = ? AND role = ?`, workspaceID, RoleOwner).Scan(ctx, &n); err != nil {
		return err
	}
	if n < 2 {
		return ErrLastOwner
	}
	return nil
}

// revokeGrantsBy revokes what userID handed out that they may no longer
// grant once their role drops to one that cannot grant roles: their
// pending invitations and their API keys for any of those roles. Otherwise a
// removed admin could come back through an invitation sent to another
// address, or keep acting through a key they made.
func revokeGrantsBy(ctx context.Context, tx bun.IDB, now time.Time, workspaceID, userID string, roles []string) (invitations, keys int64, err error) {
	if len(roles) == 0 {
		return 0, 0, nil
	}
	invitations, err = affected(tx.NewRaw(`UPDATE invitations SET revoked_at = ?
		WHERE workspace_id = ? AND invited_by = ? AND accepted_at IS NULL AND revoked_at IS NULL AND role IN (?)`,
		now, workspaceID, userID, bun.List(roles)).Exec(ctx))
	if err != nil {
		return 0, 0, fmt.Errorf("revoke invitations: %w", err)
	}
	keys, err = affected(tx.NewRaw(`UPDATE api_keys SET revoked_at = ?
		WHERE workspace_id = ? AND created_by = ? AND revoked_at IS NULL AND role IN (?)`,
		now, workspaceID, userID, bun.List(roles)).Exec(ctx))
	if err != nil {
		return 0, 0, fmt.Errorf("revoke api keys: %w", err)
	}
	return invitations, keys, nil
}

func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
)

// Account deletion (promise P-33). A person deletes their own account after
// re-entering their password. The users row goes, and with it (by cascading
// foreign keys) their sessions — so every signed-in browser is out at once —
// their recovery codes and their memberships; pending invitations addressed
// to them go too. What stays are IDs: the audit log keeps the user's random
// ID as the actor of what they did, which no longer leads to a name or an
// address once the row is gone (a pseudonymous actor), and so do the
// workspace rows that name who assigned or wrote something.

// ErrSoleOwner: the user is the last owner of a live workspace and may not
// delete their account until someone else owns it or it is deleted. The
// error names the workspaces.
type ErrSoleOwner struct {
	// Workspaces are the names of the workspaces concerned.
	Workspaces []string
}

func (e *ErrSoleOwner) Error() string {
	return "account: last owner of " + strings.Join(e.Workspaces, ", ")
}

// ActionAccountDelete is the audit action of an account deletion (target
// user, no workspace).
const ActionAccountDelete = "account.delete"

// OwnerCheck returns the names of the live workspaces whose only owner is
// userID, read through idb (workspace.Service.SoleOwnerships).
type OwnerCheck func(ctx context.Context, idb bun.IDB, userID string) ([]string, error)

// VerifyPassword checks userID's current password, for actions that must
// be confirmed with it (deleting a workspace). ErrInvalidCredentials when
// it is wrong; db.ErrNotFound (wrapped) for an unknown user.
func (s *Service) VerifyPassword(ctx context.Context, userID, password string) error {
	if _, err := s.verifyPassword(ctx, userID, password); err != nil {
		return fmt.Errorf("account: verify password: %w", err)
	}
	return nil
}

// DeleteAccount deletes userID's account after checking password
// (ErrInvalidCredentials) and that owners (the last-owner rule) names no
// workspace (*ErrSoleOwner). Every check runs before anything changes. The
// deletion and its audit entry (actor: the user's ID, now pseudonymous)
// are one transaction.
func (s *Service) DeleteAccount(ctx context.Context, a audit.Actor, userID, password string, owners OwnerCheck) error {
	r, err := s.verifyPassword(ctx, userID, password)
	if err != nil {
		return fmt.Errorf("account: delete: %w", err)
	}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		names, err := owners(ctx, tx, userID)
		if err != nil {
			return err
		}
		if len(names) > 0 {
			return &ErrSoleOwner{Workspaces: names}
		}
		// Invitations addressed to the person hold their e-mail address.
		if _, err := tx.NewRaw(`DELETE FROM invitations WHERE email_key = ?`, emailKey(r.Email)).Exec(ctx); err != nil {
			return err
		}
		res, err := tx.NewRaw(`DELETE FROM users WHERE id = ?`, userID).Exec(ctx)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		a.UserID = userID
		return audit.Record(ctx, tx, s.now(), "", a, ActionAccountDelete, "user", userID, nil)
	})
	if err != nil {
		return fmt.Errorf("account: delete: %w", err)
	}
	return nil
}

// IsSoleOwner returns the *ErrSoleOwner in err's chain, if any.
func IsSoleOwner(err error) (*ErrSoleOwner, bool) {
	var e *ErrSoleOwner
	ok := errors.As(err, &e)
	return e, ok
}

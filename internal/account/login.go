package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Authenticate checks an e-mail address and password and, when the account
// has two-factor authentication on, totpCode: a current 6-digit TOTP code
// or an unused recovery code (which it consumes). It returns
// ErrInvalidCredentials for an unknown address and a wrong password alike,
// in the same time; ErrTOTPRequired when the password is right but no code
// was given; ErrTOTPInvalid when the code is wrong or already used.
//
// Authenticate creates no session; call CreateSession with the user's ID.
func (s *Service) Authenticate(ctx context.Context, email, password, totpCode string) (*User, error) {
	r, err := s.loadUserByEmail(ctx, email)
	if isNotFound(err) {
		// Same work as for a known address (security.md §3.F F-3).
		s.checkPassword(s.dummyHash, password)
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("account: authenticate: %w", err)
	}
	ok, err := s.checkPassword(r.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	if r.TOTPEnabled {
		if strings.TrimSpace(totpCode) == "" {
			return nil, ErrTOTPRequired
		}
		if err := s.checkSecondFactor(ctx, r, totpCode); err != nil {
			return nil, err
		}
	}
	if s.needsRehash(r.PasswordHash) {
		s.rehash(ctx, r.ID, r.PasswordHash, password)
	}
	return r.user(), nil
}

// verifyPassword loads a user and checks their current password, for
// operations that must be confirmed with it.
func (s *Service) verifyPassword(ctx context.Context, userID, password string) (*userRow, error) {
	r, err := s.loadUser(ctx, s.d.R, userID)
	if err != nil {
		return nil, err
	}
	ok, err := s.checkPassword(r.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	return r, nil
}

// ChangePassword replaces a user's password after checking the current one
// (ErrInvalidCredentials when wrong). The new password must pass the policy
// (a *validate.Error naming "new_password") and differ from the current
// one. Every session of the user except keepSessionID is revoked (promise
// P-02, security.md §3.C C-7); pass "" to revoke them all.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, keepSessionID string) error {
	r, err := s.verifyPassword(ctx, userID, current)
	if err != nil {
		return fmt.Errorf("account: change password: %w", err)
	}
	if err := ValidatePassword("new_password", next, r.Email); err != nil {
		return err
	}
	if next == current {
		return fieldErr("new_password", "Choose a password different from your current one.")
	}
	hash, err := s.hashPassword(next)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Table("users").
			Set("password_hash = ?", hash).Set("password_changed_at = ?", now).Set("updated_at = ?", now).
			Where("id = ?", userID).Where("password_hash = ?", r.PasswordHash).Exec(ctx)
		if err != nil {
			return err
		}
		if oneRow(res) != nil {
			// Changed by someone else since we checked it.
			return ErrInvalidCredentials
		}
		return revokeSessions(ctx, tx, now, userID, keepSessionID)
	})
	if err != nil {
		return fmt.Errorf("account: change password: %w", err)
	}
	return nil
}

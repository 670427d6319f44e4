package account

import (
	"errors"
	"fmt"

	"github.com/parleyhq/parley/internal/db"
)

// Sentinel errors. Callers match them with errors.Is; each says what a
// person did wrong without revealing more than they already know.
var (
	// ErrEmailTaken means an account with that e-mail address (in any
	// letter case) already exists. It wraps db.ErrConflict.
	ErrEmailTaken = fmt.Errorf("account: e-mail address already registered: %w", db.ErrConflict)

	// ErrInvalidCredentials means the e-mail address is unknown or the
	// password is wrong; deliberately the same error for both.
	ErrInvalidCredentials = errors.New("account: invalid e-mail address or password")

	// ErrTOTPRequired means the password was right but the account has
	// two-factor authentication on and no code was given: ask for one.
	ErrTOTPRequired = errors.New("account: two-factor code required")

	// ErrTOTPInvalid means the TOTP or recovery code is wrong, outside the
	// time window, or was already used.
	ErrTOTPInvalid = errors.New("account: invalid two-factor code")

	// ErrInvalidSession means a session token is not acceptable, for
	// whatever reason (signature, claims, revoked, expired, idle, user
	// gone); the caller should ask the person to sign in again.
	ErrInvalidSession = errors.New("account: invalid session")

	// ErrTOTPNotPending means EnableTOTP was called without a BeginTOTP
	// before it (or the pending setup was replaced meanwhile).
	ErrTOTPNotPending = errors.New("account: two-factor setup not started")

	// ErrTOTPAlreadyEnabled means two-factor authentication is already on;
	// turn it off first to enrol a new device.
	ErrTOTPAlreadyEnabled = errors.New("account: two-factor authentication already enabled")

	// ErrTOTPNotEnabled means the operation needs two-factor authentication
	// to be on (regenerating recovery codes).
	ErrTOTPNotEnabled = errors.New("account: two-factor authentication not enabled")

	// ErrTOTPEnforced means a platform administrator tried to turn
	// two-factor authentication off, which promise P-05 forbids.
	ErrTOTPEnforced = errors.New("account: two-factor authentication is required for platform administrators")
)

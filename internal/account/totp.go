package account

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// TOTP parameters: RFC 6238 defaults, which every authenticator app speaks.
const (
	totpPeriod = 30 // seconds per step
	totpDigits = otp.DigitsSix
	totpSkew   = 1 // steps accepted either side of now
)

// totpAAD binds a sealed TOTP secret to its user's row.
func totpAAD(userID string) keyring.AAD {
	return keyring.AAD{Table: "users", Column: "totp_secret", Row: userID}
}

// BeginTOTP starts two-factor enrolment: it stores a new secret, sealed,
// as pending (replacing any earlier pending one) and returns it with the
// otpauth:// URL to show as a QR code. Nothing changes at login until
// EnableTOTP confirms a code. ErrTOTPAlreadyEnabled when 2FA is on.
//
// It asks for the password (ErrInvalidCredentials when wrong): changing an
// authentication factor needs re-authentication, or a stolen session could
// enrol the thief's authenticator and lock the owner out.
func (s *Service) BeginTOTP(ctx context.Context, userID, password string) (secret, otpauthURL string, err error) {
	r, err := s.verifyPassword(ctx, userID, password)
	if err != nil {
		return "", "", fmt.Errorf("account: begin totp: %w", err)
	}
	if r.TOTPEnabled {
		return "", "", ErrTOTPAlreadyEnabled
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.opt.Issuer, AccountName: r.Email,
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
		SecretSize: 20, // 160 bits, RFC 4226's recommendation
	})
	if err != nil {
		return "", "", fmt.Errorf("account: begin totp: %w", err)
	}
	sealed, err := s.m.SealPlatform([]byte(key.Secret()), totpAAD(userID))
	if err != nil {
		return "", "", fmt.Errorf("account: begin totp: %w", err)
	}
	res, err := s.d.W.NewUpdate().Table("users").
		Set("totp_secret = ?", sealed).Set("totp_last_step = 0").Set("updated_at = ?", s.now()).
		Where("id = ?", userID).Where("totp_enabled = ?", false).Exec(ctx)
	if err != nil {
		return "", "", fmt.Errorf("account: begin totp: %w", err)
	}
	if oneRow(res) != nil {
		return "", "", ErrTOTPAlreadyEnabled // enabled meanwhile
	}
	return key.Secret(), key.URL(), nil
}

// EnableTOTP turns two-factor authentication on after the user typed a
// code from the pending secret, and returns their recovery codes — the only
// time they are visible. Every session but keepSessionID ends: whoever else
// was signed in must now pass the new factor. ErrTOTPNotPending without a
// BeginTOTP, ErrTOTPInvalid for a wrong code.
func (s *Service) EnableTOTP(ctx context.Context, userID, code, keepSessionID string) ([]string, error) {
	r, err := s.loadUser(ctx, s.d.R, userID)
	if err != nil {
		return nil, fmt.Errorf("account: enable totp: %w", err)
	}
	if r.TOTPEnabled {
		return nil, ErrTOTPAlreadyEnabled
	}
	if r.TOTPSecret == nil {
		return nil, ErrTOTPNotPending
	}
	secret, err := s.openSecret(r)
	if err != nil {
		return nil, fmt.Errorf("account: enable totp: %w", err)
	}
	step, ok := matchTOTP(secret, normaliseTOTP(code), s.now(), r.TOTPLastStep)
	if !ok {
		return nil, ErrTOTPInvalid
	}
	codes, rows := s.newRecoveryCodes(userID)
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The code proved this exact secret: enable only if it is still the
		// pending one. The step is recorded so the code cannot log in again.
		res, err := tx.NewUpdate().Table("users").
			Set("totp_enabled = ?", true).Set("totp_last_step = ?", step).Set("updated_at = ?", s.now()).
			Where("id = ?", userID).Where("totp_enabled = ?", false).Where("totp_secret = ?", r.TOTPSecret).Exec(ctx)
		if err != nil {
			return err
		}
		if oneRow(res) != nil {
			return ErrTOTPNotPending
		}
		if err := replaceRecoveryCodes(ctx, tx, userID, rows); err != nil {
			return err
		}
		return revokeSessions(ctx, tx, s.now(), userID, keepSessionID)
	})
	if err != nil {
		return nil, fmt.Errorf("account: enable totp: %w", err)
	}
	return codes, nil
}

// DisableTOTP turns two-factor authentication off (or drops a pending
// setup) after checking the user's password, and deletes their recovery
// codes. Like enabling it, it ends every session but keepSessionID: a change
// of factors signs out whoever else was signed in (security.md §3.C C-7).
// Platform administrators get ErrTOTPEnforced (promise P-05).
func (s *Service) DisableTOTP(ctx context.Context, userID, password, keepSessionID string) error {
	r, err := s.verifyPassword(ctx, userID, password)
	if err != nil {
		return fmt.Errorf("account: disable totp: %w", err)
	}
	if r.IsPlatformAdmin && r.TOTPEnabled {
		return ErrTOTPEnforced
	}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Table("users").
			Set("totp_secret = NULL").Set("totp_enabled = ?", false).Set("totp_last_step = 0").Set("updated_at = ?", s.now()).
			Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		if err := replaceRecoveryCodes(ctx, tx, userID, nil); err != nil {
			return err
		}
		return revokeSessions(ctx, tx, s.now(), userID, keepSessionID)
	})
	if err != nil {
		return fmt.Errorf("account: disable totp: %w", err)
	}
	return nil
}

// checkSecondFactor accepts a TOTP code (6 digits, spaces ignored) or a
// recovery code for a user whose 2FA is on, consuming it.
func (s *Service) checkSecondFactor(ctx context.Context, r *userRow, code string) error {
	if c := normaliseTOTP(code); isTOTPShaped(c) {
		return s.useTOTP(ctx, r, c)
	}
	return s.useRecoveryCode(ctx, r.ID, code)
}

// useTOTP accepts a code once: its step must be newer than the last one
// accepted, and the conditional update makes two concurrent logins with the
// same code race for one row so only one wins.
func (s *Service) useTOTP(ctx context.Context, r *userRow, code string) error {
	secret, err := s.openSecret(r)
	if err != nil {
		return fmt.Errorf("account: check totp: %w", err)
	}
	step, ok := matchTOTP(secret, code, s.now(), r.TOTPLastStep)
	if !ok {
		return ErrTOTPInvalid
	}
	res, err := s.d.W.NewUpdate().Table("users").Set("totp_last_step = ?", step).
		Where("id = ?", r.ID).Where("totp_enabled = ?", true).Where("totp_last_step < ?", step).Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: check totp: %w", err)
	}
	if oneRow(res) != nil {
		return ErrTOTPInvalid
	}
	return nil
}

// openSecret unseals a user's TOTP secret.
func (s *Service) openSecret(r *userRow) (string, error) {
	b, err := s.m.OpenPlatform(r.TOTPSecret, totpAAD(r.ID))
	if err != nil {
		return "", fmt.Errorf("open totp secret: %w", err)
	}
	return string(b), nil
}

// normaliseTOTP drops the spaces some apps show inside a code ("123 456").
func normaliseTOTP(code string) string {
	return strings.Join(strings.Fields(code), "")
}

// isTOTPShaped reports whether code is six ASCII digits.
func isTOTPShaped(code string) bool {
	if len(code) != int(totpDigits) {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// matchTOTP returns the earliest step within ±totpSkew of now, later than
// lastStep, whose code equals code. It computes every candidate and
// compares in constant time, so timing says nothing about which one
// matched.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	cur := now.Unix() / totpPeriod
	found := int64(-1)
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > lastStep && found < 0 {
			found = step
		}
	}
	return found, found >= 0
}

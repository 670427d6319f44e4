package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Recovery codes: RecoveryCodeCount codes of 10 characters from a 32-letter
// alphabet (50 random bits each), shown as "xxxx-xxxx-xx".
const (
	RecoveryCodeCount = 10
	recoveryCodeLen   = 10
	// Crockford's base32 alphabet: no i, l, o or u, so nothing is misread.
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
)

// recoveryCodeRow is a recovery_codes row.
type recoveryCodeRow struct {
	bun.BaseModel `bun:"table:recovery_codes"`

	UserID    string     `bun:"user_id,pk"`
	CodeHash  string     `bun:"code_hash,pk"`
	CreatedAt time.Time  `bun:"created_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

// newRecoveryCode returns one code as shown to the user.
func newRecoveryCode() string {
	var b [recoveryCodeLen]byte
	rand.Read(b[:])
	for i := range b {
		// 256 is a multiple of 32, so the low 5 bits are uniform.
		b[i] = recoveryAlphabet[b[i]&31]
	}
	return string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:])
}

// canonicalRecoveryCode undoes what people do when typing a code: case,
// spaces, dashes, and the letters Crockford's alphabet maps to digits.
func canonicalRecoveryCode(code string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(code) {
		switch c {
		case ' ', '-', '\t':
		case 'o':
			b.WriteByte('0')
		case 'i', 'l':
			b.WriteByte('1')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// hashRecoveryCode is what recovery_codes.code_hash stores. Plain SHA-256
// is enough: the codes carry 50 random bits and a guess costs a login.
func hashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(canonicalRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}

// newRecoveryCodes returns a fresh set and the rows that store it.
func (s *Service) newRecoveryCodes(userID string) ([]string, []recoveryCodeRow) {
	now := s.now()
	codes := make([]string, 0, RecoveryCodeCount)
	rows := make([]recoveryCodeRow, 0, RecoveryCodeCount)
	seen := make(map[string]bool, RecoveryCodeCount)
	for len(codes) < RecoveryCodeCount {
		c := newRecoveryCode()
		h := hashRecoveryCode(c)
		if seen[h] { // 1 in 2^50; the primary key would refuse it
			continue
		}
		seen[h] = true
		codes = append(codes, c)
		rows = append(rows, recoveryCodeRow{UserID: userID, CodeHash: h, CreatedAt: now})
	}
	return codes, rows
}

// replaceRecoveryCodes deletes a user's codes and stores rows instead.
func replaceRecoveryCodes(ctx context.Context, tx bun.IDB, userID string, rows []recoveryCodeRow) error {
	if _, err := tx.NewDelete().Model((*recoveryCodeRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.NewInsert().Model(&rows).Exec(ctx)
	return err
}

// useRecoveryCode marks an unused code of the user as used, or returns
// ErrTOTPInvalid. The conditional update lets only one of two concurrent
// logins with the same code succeed.
func (s *Service) useRecoveryCode(ctx context.Context, userID, code string) error {
	res, err := s.d.W.NewUpdate().Model((*recoveryCodeRow)(nil)).Set("used_at = ?", s.now()).
		Where("user_id = ?", userID).Where("code_hash = ?", hashRecoveryCode(code)).Where("used_at IS NULL").Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: use recovery code: %w", err)
	}
	if oneRow(res) != nil {
		return ErrTOTPInvalid
	}
	return nil
}

// RegenerateRecoveryCodes replaces a user's recovery codes with a new set
// after checking their password; the old codes stop working. Two-factor
// authentication must be on (ErrTOTPNotEnabled).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID, password string) ([]string, error) {
	r, err := s.verifyPassword(ctx, userID, password)
	if err != nil {
		return nil, fmt.Errorf("account: regenerate recovery codes: %w", err)
	}
	if !r.TOTPEnabled {
		return nil, ErrTOTPNotEnabled
	}
	codes, rows := s.newRecoveryCodes(userID)
	if err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return replaceRecoveryCodes(ctx, tx, userID, rows)
	}); err != nil {
		return nil, fmt.Errorf("account: regenerate recovery codes: %w", err)
	}
	return codes, nil
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	n, err := s.d.R.NewSelect().Model((*recoveryCodeRow)(nil)).
		Where("user_id = ?", userID).Where("used_at IS NULL").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("account: count recovery codes: %w", err)
	}
	return int(n), nil
}

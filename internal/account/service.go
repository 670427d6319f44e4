package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// Defaults for Options.
const (
	DefaultBcryptCost  = 12 // promise P-01: cost ≥ 12 in production
	DefaultSessionTTL  = 12 * time.Hour
	DefaultIdleTimeout = 3 * time.Hour
	DefaultIssuer      = "parley"
)

// Options tune a Service. The zero value gives the production defaults.
type Options struct {
	// Now is the clock (default time.Now); every stored time comes from it.
	Now func() time.Time
	// BcryptCost is the work factor of new password hashes (default 12).
	// Tests use bcrypt.MinCost (4) for speed.
	BcryptCost int
	// SessionTTL is a session's absolute lifetime (default 12 h).
	SessionTTL time.Duration
	// IdleTimeout ends a session unused for this long (default 3 h).
	IdleTimeout time.Duration
	// Issuer is the JWT "iss" claim and the issuer shown in authenticator
	// apps (default "parley").
	Issuer string
	// Logger receives failures that must not fail the caller's request,
	// such as a best-effort re-hash or last-seen update (default: discard).
	Logger *slog.Logger
}

// Service is the account store and the authentication logic on top of it.
// It is safe for concurrent use.
type Service struct {
	d   *db.DB
	m   *keyring.Master
	opt Options

	pepper []byte // HMAC key of the password pre-hash
	jwtKey []byte // HS256 key of session tokens
	// dummyHash is a real hash of a random password at the configured cost,
	// compared against when the e-mail is unknown so that login takes as
	// long as for a known one.
	dummyHash string
	// compare is bcrypt.CompareHashAndPassword; tests wrap it to count calls.
	compare func(hash, password []byte) error
}

// NewService returns a Service over d, deriving its keys from m. It panics
// on a bcrypt cost outside bcrypt's range, which is a programming error.
func NewService(d *db.DB, m *keyring.Master, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.BcryptCost == 0 {
		opt.BcryptCost = DefaultBcryptCost
	}
	if opt.BcryptCost < bcrypt.MinCost || opt.BcryptCost > bcrypt.MaxCost {
		panic(fmt.Sprintf("account: bcrypt cost %d outside %d..%d", opt.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost))
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = DefaultSessionTTL
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	if opt.Issuer == "" {
		opt.Issuer = DefaultIssuer
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		d: d, m: m, opt: opt,
		pepper:  m.Derive(keyring.PurposePasswordPepper),
		jwtKey:  m.Derive(keyring.PurposeSessionJWT),
		compare: bcrypt.CompareHashAndPassword,
	}
	random := make([]byte, 32)
	rand.Read(random) // never fails (crypto/rand panics instead)
	h, err := s.hashPassword(string(random))
	if err != nil {
		panic("account: dummy hash: " + err.Error()) // only on an invalid cost, checked above
	}
	s.dummyHash = h
	return s
}

// now returns the clock's time in UTC, truncated to microseconds so that
// it survives a round trip through either engine unchanged.
func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// User is a person who signs in to the dashboard. The password hash and the
// TOTP secret never leave the package.
type User struct {
	ID                string    `json:"id"`
	Email             string    `json:"email"`
	Name              string    `json:"name"`
	TOTPEnabled       bool      `json:"totp_enabled"`
	IsPlatformAdmin   bool      `json:"-"`
	CreatedAt         time.Time `json:"created_at"`
	PasswordChangedAt time.Time `json:"-"`
}

// userRow is a users row.
type userRow struct {
	bun.BaseModel `bun:"table:users"`

	ID                string    `bun:"id,pk"`
	Email             string    `bun:"email"`
	EmailKey          string    `bun:"email_key"`
	Name              string    `bun:"name"`
	PasswordHash      string    `bun:"password_hash"`
	AgeConfirmedAt    time.Time `bun:"age_confirmed_at"`
	TOTPSecret        []byte    `bun:"totp_secret"`
	TOTPEnabled       bool      `bun:"totp_enabled"`
	TOTPLastStep      int64     `bun:"totp_last_step"`
	IsPlatformAdmin   bool      `bun:"is_platform_admin"`
	PasswordChangedAt time.Time `bun:"password_changed_at"`
	CreatedAt         time.Time `bun:"created_at"`
	UpdatedAt         time.Time `bun:"updated_at"`
}

func (r *userRow) user() *User {
	return &User{
		ID: r.ID, Email: r.Email, Name: r.Name,
		TOTPEnabled: r.TOTPEnabled, IsPlatformAdmin: r.IsPlatformAdmin,
		CreatedAt: r.CreatedAt.UTC(), PasswordChangedAt: r.PasswordChangedAt.UTC(),
	}
}

// emailKey is the lookup form of an e-mail address (as validate.Email
// computes it).
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// loadUser reads one users row by ID; db.ErrNotFound when there is none.
func (s *Service) loadUser(ctx context.Context, idb bun.IDB, userID string) (*userRow, error) {
	var r userRow
	if err := idb.NewSelect().Model(&r).Where("id = ?", userID).Scan(ctx); err != nil {
		return nil, db.NoRows(err)
	}
	return &r, nil
}

// loadUserByEmail reads one users row by e-mail address, in any case.
func (s *Service) loadUserByEmail(ctx context.Context, email string) (*userRow, error) {
	var r userRow
	if err := s.d.R.NewSelect().Model(&r).Where("email_key = ?", emailKey(email)).Scan(ctx); err != nil {
		return nil, db.NoRows(err)
	}
	return &r, nil
}

// Get returns the user with that ID, or an error wrapping db.ErrNotFound.
func (s *Service) Get(ctx context.Context, userID string) (*User, error) {
	r, err := s.loadUser(ctx, s.d.R, userID)
	if err != nil {
		return nil, fmt.Errorf("account: get user: %w", err)
	}
	return r.user(), nil
}

// GetByEmail returns the user with that e-mail address (in any letter
// case), or an error wrapping db.ErrNotFound.
func (s *Service) GetByEmail(ctx context.Context, email string) (*User, error) {
	r, err := s.loadUserByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("account: get user by e-mail: %w", err)
	}
	return r.user(), nil
}

// SetPlatformAdmin grants or withdraws the platform administrator role
// (for `parley admin`). Platform administrators must use two-factor
// authentication (promise P-05); enforcing that at sign-in is the access
// layer's job, and DisableTOTP refuses them.
func (s *Service) SetPlatformAdmin(ctx context.Context, userID string, admin bool) error {
	res, err := s.d.W.NewUpdate().Table("users").
		Set("is_platform_admin = ?", admin).Set("updated_at = ?", s.now()).
		Where("id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: set platform admin: %w", err)
	}
	if err := oneRow(res); err != nil {
		return fmt.Errorf("account: set platform admin: %w", err)
	}
	return nil
}

// oneRow returns db.ErrNotFound unless the statement changed a row.
func oneRow(res interface{ RowsAffected() (int64, error) }) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return db.ErrNotFound
	}
	return nil
}

// isNotFound reports whether err wraps db.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, db.ErrNotFound) }

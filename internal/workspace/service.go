package workspace

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// KeyCreator creates the random per-workspace data key (security.md §2.3).
// *keyring.Keyring satisfies it. Create calls it inside the transaction that
// inserts the workspace, so a workspace never exists without its key.
type KeyCreator interface {
	CreateWorkspaceKey(ctx context.Context, idb bun.IDB, workspaceID string) error
}

// Options tune the service. The zero value is usable.
type Options struct {
	// Now is the clock (default time.Now). Tests pass a fake one.
	Now func() time.Time
	// TrialDays is how long a new workspace's trial lasts (default 14).
	TrialDays int
	// InvitationTTL is how long an invitation link works (default 7 days).
	InvitationTTL time.Duration
	// TimeZoneTTL is how long TimeZone trusts a workspace's time zone it
	// read (default 30 s): the delay before a change made on another
	// replica reaches this one's flows.
	TimeZoneTTL time.Duration
}

// Default option values.
const (
	DefaultTrialDays     = 14
	DefaultInvitationTTL = 7 * 24 * time.Hour
	DefaultTimeZoneTTL   = 30 * time.Second
)

// Service manages workspaces, members, invitations and API keys.
type Service struct {
	d     *db.DB
	keys  KeyCreator
	opt   Options
	zones zoneCache
}

// NewService returns a service over d. keys creates each new workspace's
// data key.
func NewService(d *db.DB, keys KeyCreator, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.TrialDays <= 0 {
		opt.TrialDays = DefaultTrialDays
	}
	if opt.InvitationTTL <= 0 {
		opt.InvitationTTL = DefaultInvitationTTL
	}
	if opt.TimeZoneTTL <= 0 {
		opt.TimeZoneTTL = DefaultTimeZoneTTL
	}
	return &Service{d: d, keys: keys, opt: opt}
}

// now returns the clock's time in UTC at the microsecond precision both
// engines store, so values returned equal values read back.
func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// lockWorkspace checks that the workspace exists and, on PostgreSQL, locks
// its row until tx ends. Every mutation of a workspace's members takes this
// lock first, so two concurrent changes (two owners demoting each other)
// cannot both see "another owner remains". On SQLite the transaction
// already holds the database's write lock.
func (s *Service) lockWorkspace(ctx context.Context, tx bun.IDB, workspaceID string) error {
	q := `SELECT id FROM workspaces WHERE id = ?`
	if s.d.Dialect == db.Postgres {
		q += ` FOR UPDATE`
	}
	var id string
	if err := tx.NewRaw(q, workspaceID).Scan(ctx, &id); err != nil {
		return db.NoRows(err)
	}
	return nil
}

// nullable turns "" into SQL NULL, for optional user references.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

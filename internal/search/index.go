package search

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// ErrInvalid reports a query that cannot be run: empty after
// normalization, or longer than MaxQueryRunes.
var ErrInvalid = errors.New("search: invalid query")

// ContactText is what is searchable of a contact, opened from its sealed
// columns. It lives only in memory.
type ContactText struct {
	ID          string
	WorkspaceID string
	Name        string
	Phones      []string // E.164
	Emails      []string
	UpdatedAt   time.Time
}

// MessageText is what is searchable of a message, opened. Text is "" for
// messages without text, unsent ones, and those whose contact was erased.
type MessageText struct {
	ID             string
	WorkspaceID    string
	ConversationID string
	ContactID      string
	Text           string
	CreatedAt      time.Time
}

// ContactSource opens contacts for the index. FeedContacts returns up to n
// contacts of every workspace whose (updated_at, id) is after (afterAt,
// afterID) and updated_at before until, in that order, read through idb;
// Contacts opens the given contacts of one workspace, leaving out unknown
// ones, through idb or, when idb is nil, the read pool and the keyring's
// key cache. NewContactSource gives package contact's.
type ContactSource interface {
	FeedContacts(ctx context.Context, idb bun.IDB, afterAt time.Time, afterID string, until time.Time, n int) ([]ContactText, error)
	Contacts(ctx context.Context, idb bun.IDB, workspaceID string, ids []string) (map[string]ContactText, error)
}

// MessageSource is ContactSource for messages, by (created_at, id).
// NewMessageSource gives package inbox's.
type MessageSource interface {
	FeedMessages(ctx context.Context, idb bun.IDB, afterAt time.Time, afterID string, until time.Time, n int) ([]MessageText, error)
	Messages(ctx context.Context, idb bun.IDB, workspaceID string, ids []string) (map[string]MessageText, error)
}

// Defaults of Options.
const (
	DefaultBatch    = 500
	DefaultInterval = 2 * time.Second
	DefaultLag      = 5 * time.Second
	// DefaultDuty is the share of its time the loop started by Start may
	// spend indexing while it catches up (Options.Duty).
	DefaultDuty = 0.05
	// DefaultIdleDuty is Options.IdleDuty's default.
	DefaultIdleDuty = 0.5
)

// Options configure an Index. Contacts and Messages are required.
type Options struct {
	Contacts ContactSource
	Messages MessageSource
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger hears indexing errors (IDs only, never text). Default: discard.
	Logger *slog.Logger
	// Batch is how many rows of each feed one Step indexes (default 500).
	Batch int
	// Interval is how long the loop started by Start rests when it has
	// caught up (default 2 s).
	Interval time.Duration
	// Lag keeps the indexer this far behind the clock, so a row whose
	// transaction commits a little after a later-stamped one is not
	// skipped by the cursor (default 5 s).
	Lag time.Duration
	// Duty bounds the share of time the loop spends indexing while it
	// catches up (default DefaultDuty): after a batch that took d it rests
	// d·(1−Duty)/Duty. Each batch is a write transaction, and on SQLite
	// the webhook path shares the one writer: under a burst of messages
	// the index falls behind and catches up when traffic eases, instead
	// of slowing replies (issue 3's figures).
	Duty float64
	// Busy, when set, reports whether the webhook path has had work
	// lately (webhook.Intake.Busy). Duty applies while it does; once
	// traffic has eased the loop catches up at IdleDuty, so a burst's
	// backlog is indexed in seconds rather than minutes. Nil: Duty always.
	Busy func() bool
	// IdleDuty is the share of time the loop spends indexing while Busy
	// reports false (default DefaultIdleDuty): it still leaves the writer
	// free half the time for the dashboard and the jobs.
	IdleDuty float64
}

// Index indexes contacts and messages as keyed digests of their grams and
// answers queries over them. It is safe for concurrent use; make one per
// process.
type Index struct {
	d   *db.DB
	kr  *keyring.Keyring
	opt Options
	dg  *digester
	// scanCap is the query walk's bound (scanCap; tests lower it).
	scanCap int

	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

// New returns an Index over d whose digests are keyed by kr.
func New(d *db.DB, kr *keyring.Keyring, opt Options) *Index {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Batch <= 0 {
		opt.Batch = DefaultBatch
	}
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.Duty <= 0 || opt.Duty > 1 {
		opt.Duty = DefaultDuty
	}
	if opt.IdleDuty <= 0 || opt.IdleDuty > 1 {
		opt.IdleDuty = DefaultIdleDuty
	}
	if opt.Lag < 0 {
		opt.Lag = 0
	} else if opt.Lag == 0 {
		opt.Lag = DefaultLag
	}
	return &Index{d: d, kr: kr, opt: opt, dg: newDigester(kr, 4096), scanCap: scanCap}
}

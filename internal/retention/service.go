package retention

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Purger deletes up to limit rows of one class of the workspace that are
// older than before, in its own short transaction, and says how many it
// deleted; fewer than limit means it is done. It must skip rows of
// contacts under a legal hold (NotHeld). Packages owning a class register
// one with Register.
type Purger func(ctx context.Context, workspaceID string, before time.Time, limit int) (deleted int, err error)

// MessageHook runs inside the transaction that deletes a batch of expired
// messages, before they are deleted, so derived copies (search entries,
// stored attachments) go with them.
type MessageHook func(ctx context.Context, tx bun.Tx, workspaceID string, messageIDs []string) error

// Batch describes one batch a run just committed (Options.Between).
type Batch struct {
	Class Class
	// Table is the table the batch deleted from, or the registered
	// purger's name.
	Table string
	// WorkspaceID is "" for platform rows.
	WorkspaceID string
	// Deleted is how many rows the batch deleted; Limit the batch size.
	Deleted, Limit int
}

// Options configure a Service.
type Options struct {
	// Now is the clock; rows are aged against it.
	Now func() time.Time
	Log *slog.Logger
	// BatchSize is how many rows one transaction deletes (default 200):
	// small enough that the writer is free again in milliseconds.
	BatchSize int
	// Pause is how long the run yields between batches (default 20 ms),
	// so that webhooks, sends and the indexer get the writer in between.
	Pause time.Duration
	// Between, when set, runs after each committed batch instead of the
	// pause; an error stops the run (tests observe and interrupt runs).
	Between func(ctx context.Context, b Batch) error
}

// Service keeps the retention settings and runs the retention job.
type Service struct {
	d   *db.DB
	opt Options

	mu      sync.Mutex
	purgers map[Class][]namedPurger
	hooks   []namedHook
}

type namedPurger struct {
	name string
	p    Purger
}

type namedHook struct {
	name string
	h    MessageHook
}

// DefaultBatchSize is the rows per transaction when Options.BatchSize is 0.
const DefaultBatchSize = 200

// New returns the service over d.
func New(d *db.DB, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.Pause <= 0 {
		opt.Pause = 20 * time.Millisecond
	}
	return &Service{d: d, opt: opt, purgers: map[Class][]namedPurger{}}
}

// Register adds a purger for a class owned by another package (media:
// ClassAttachments; dsr: ClassExports). It is called at wiring, before
// the job starts. It panics on an unknown class.
func (s *Service) Register(class Class, p Purger) {
	s.RegisterNamed(class, string(class), p)
}

// RegisterNamed is Register with a name for logs and Batch.Table.
func (s *Service) RegisterNamed(class Class, name string, p Purger) {
	if _, ok := LimitOf(class); !ok || p == nil {
		panic("retention: Register needs a known class and a purger")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purgers[class] = append(s.purgers[class], namedPurger{name: name, p: p})
}

// OnMessagesDeleted adds a hook run in each message batch's transaction.
func (s *Service) OnMessagesDeleted(name string, h MessageHook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, namedHook{name: name, h: h})
}

func (s *Service) registered(class Class) []namedPurger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]namedPurger(nil), s.purgers[class]...)
}

func (s *Service) messageHooks() []namedHook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]namedHook(nil), s.hooks...)
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// NotHeld is the SQL condition, with no arguments, that is true for a row
// whose contact (contactColumn, in the workspace workspaceColumn) is not
// under a legal hold. Registered purgers add it to their delete.
func NotHeld(workspaceColumn, contactColumn string) string {
	return `NOT EXISTS (SELECT 1 FROM retention_holds h WHERE h.workspace_id = ` + workspaceColumn +
		` AND h.contact_id = ` + contactColumn + `)`
}

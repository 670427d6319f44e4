package erasure

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

// PurposeTombstones is the purpose of the key (Master.Derive) under which
// tombstone and audit subjects are HMACed. Changing it would make Replay
// miss every tombstone written before.
const PurposeTombstones = "tombstones/v1"

// Audit actions (target type "contact" or "conversation"; the target ID of
// an erased contact is its pseudonymised subject, never its ID).
const (
	ActionEraseContact       = "contact.erase"
	ActionDeleteConversation = "conversation.delete"
)

// Options configure a Service.
type Options struct {
	// Now is the clock (UTC); nil uses time.Now.
	Now func() time.Time
	// Log receives the errors of After functions (IDs only); nil discards.
	Log *slog.Logger
	// Master derives the tombstone HMAC key (PurposeTombstones). Required.
	Master *keyring.Master
}

// Hook runs inside the erasing transaction, before the contact's rows are
// deleted: a package that keeps something of the contact outside the
// tables this package knows (media objects' rows, data-subject exports)
// deletes it there. An error aborts the erasure: nothing is deleted.
type Hook func(ctx context.Context, tx bun.Tx, workspaceID, contactID string) error

// Service erases contacts and conversations and keeps the tombstone log.
type Service struct {
	d   *db.DB
	kr  *keyring.Keyring
	now func() time.Time
	log *slog.Logger
	// master opens and re-seals raw webhook deliveries (platform key).
	master *keyring.Master
	key    []byte // HMAC key of subjects

	mu    sync.Mutex // guards hooks and after, registered at wiring
	hooks []namedHook
	after []namedAfter
}

type namedHook struct {
	name string
	h    Hook
}

type namedAfter struct {
	name string
	f    func(ctx context.Context, workspaceID, contactID string)
}

// New returns a Service over d, destroying contact keys through kr.
func New(d *db.DB, kr *keyring.Keyring, opt Options) *Service {
	if opt.Master == nil {
		panic("erasure: New without a master key")
	}
	s := &Service{d: d, kr: kr, now: opt.Now, log: opt.Log, master: opt.Master, key: opt.Master.Derive(PurposeTombstones)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// OnErase registers h, run (in registration order) inside every contact
// erasure's transaction, before the contact's rows are deleted, and in
// every Replay. name identifies it in errors.
func (s *Service) OnErase(name string, h Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, namedHook{name, h})
}

// AfterErase registers f, run after an erasure has committed: work that
// cannot be part of a transaction (unlinking object files). It is best
// effort: f logs or retries its own failures; f must name no person in
// logs.
func (s *Service) AfterErase(name string, f func(ctx context.Context, workspaceID, contactID string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after = append(s.after, namedAfter{name, f})
}

// registered returns a copy of the hooks and after functions.
func (s *Service) registered() ([]namedHook, []namedAfter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]namedHook(nil), s.hooks...), append([]namedAfter(nil), s.after...)
}

// runAfter runs the after functions of one erased contact, recovering
// from a panicking one so the others still run.
func (s *Service) runAfter(ctx context.Context, after []namedAfter, workspaceID, contactID string) {
	// The erasure has committed: the caller's context ending must not
	// stop the clean-up.
	ctx = context.WithoutCancel(ctx)
	for _, a := range after {
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("erasure: after-erase function panicked", "name", a.name, "workspace", workspaceID, "panic", r)
				}
			}()
			a.f(ctx, workspaceID, contactID)
		}()
	}
}

// notFound reports whether err is a not-found.
func notFound(err error) bool { return errors.Is(err, db.ErrNotFound) }

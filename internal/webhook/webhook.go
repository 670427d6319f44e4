package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
)

// Path is the callback URL path to configure in the Meta App Dashboard.
const Path = "/webhooks/meta"

// Kind is the job kind that applied stored deliveries before processing
// moved to memory (ADR 0004). Jobs of that kind left in the table by an
// earlier version are still handled: each makes the processor catch up
// from the database, which applies their deliveries, and succeeds.
const Kind = "webhook.process"

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>". The legacy
// SHA-1 X-Hub-Signature is never accepted on its own (security.md G-3).
const SignatureHeader = "X-Hub-Signature-256"

// Outcomes reported to Options.Observe, one per POST (the first seven), per
// stored delivery or account during processing (the next two), or per
// failed processing transaction (the last). They are metric label values:
// a fixed set, never anything from the request.
const (
	OutcomeAccepted     = "accepted"       // stored; answered 200
	OutcomeBadSignature = "bad_signature"  // missing, malformed or wrong signature, or no secret configured; 403
	OutcomeTooLarge     = "too_large"      // body over MaxBody; 413
	OutcomeBadRequest   = "bad_request"    // the body could not be read (client went away mid-body); 400
	OutcomeUnavailable  = "unavailable"    // not stored (database failing, overloaded, stopping); 503
	OutcomeShed         = "shed"           // not stored: processing is more than MaxLag behind; 503, Meta retries it
	OutcomeRateLimited  = "rate_limited"   // too many bad requests from the client's address; 429
	OutcomeQuarantined  = "quarantined"    // an authentic delivery that cannot be processed was set aside
	OutcomeUnknownPage  = "unknown_page"   // events for an account no workspace connected were dropped
	OutcomeFailed       = "process_failed" // a processing transaction rolled back; its deliveries stay pending and are retried
)

// Defaults for Options.
const (
	DefaultMaxBody       = 3 << 20 // Meta's largest payloads are about 3 MB (meta-platform.md §1.2)
	DefaultFlushEvery    = time.Millisecond
	DefaultBatchMax      = 256
	DefaultQueueWait     = 2 * time.Second
	DefaultCommitTimeout = 5 * time.Second // Meta expects an answer within 5 s
	DefaultPauseRetry    = 5 * time.Second
	// DefaultApplyMax is ApplyMax's default on SQLite: a chunk of 24
	// holds the writer for ≈ 7 ms. With 8, each commit carried so few
	// deliveries that processing, once behind at 1,000 messages/s, could
	// not catch up (reply p50 ≈ 1 s instead of ≈ 20 ms); 24 also raised
	// the reply capacity from ≈ 870 to ≈ 1,100 messages/s.
	DefaultApplyMax = 24
	// DefaultApplyMaxPostgres is ApplyMax's default on PostgreSQL, where
	// the store transaction never waits for processing (they use
	// different connections) and each commit waits for a WAL flush.
	DefaultApplyMaxPostgres = 64
	DefaultBacklogMax       = 8192
	DefaultBacklogBytes     = 32 << 20
	DefaultCatchUpEvery     = 5 * time.Second
	// DefaultMaxLag is how far behind processing may fall before new
	// deliveries are refused (Options.MaxLag).
	DefaultMaxLag = 3 * time.Second
	// DefaultFailLimit bad requests per DefaultFailWindow from one address
	// earn it 429s until the window ends. Meta never sends a bad signature,
	// so it never comes near.
	DefaultFailLimit  = 30
	DefaultFailWindow = time.Minute
)

// Ingester applies normalized events to conversations (inbox.Service). It
// runs inside the processing transaction, so the events and the deletion of
// their deliveries commit together; it must deduplicate redelivered events
// (by MID) because Meta delivers at least once.
type Ingester interface {
	Ingest(ctx context.Context, tx bun.Tx, ch channel.Channel, events []channel.Inbound) (inbox.Effects, error)
	// Notify starts what the committed transaction's effects hold
	// (replies to send, queues to wake).
	Notify(inbox.Effects)
}

// Options configure an Intake.
type Options struct {
	// Now is the clock (default time.Now); times are stored in UTC.
	Now func() time.Time
	// Log receives failures, never bodies or signatures (default slog.Default()).
	Log *slog.Logger
	// AppSecrets are the Meta app secrets a signature may be made with (more
	// than one during a rotation). Empty ones are ignored; with none, every
	// POST is refused.
	AppSecrets []string
	// VerifyToken answers the subscription handshake; empty refuses it.
	VerifyToken string
	// Master seals stored bodies (required).
	Master *keyring.Master
	// Jobs is the queue on which Register handles the processing jobs an
	// earlier version left (see Kind). Optional.
	Jobs *job.Queue
	// Channels routes events by account (required for processing).
	Channels *channel.Store
	// Inbox applies the events (required for processing).
	Inbox Ingester
	// MaxBody caps a request body in bytes (default DefaultMaxBody).
	MaxBody int64
	// FlushEvery is how long the writer waits for more deliveries after the
	// first of a batch (default DefaultFlushEvery).
	FlushEvery time.Duration
	// BatchMax is the most deliveries one transaction stores (default
	// DefaultBatchMax).
	BatchMax int
	// QueueSize is how many verified deliveries may wait for the writer
	// (default 4 × BatchMax). Together with QueueWait it bounds memory
	// under overload.
	QueueSize int
	// QueueWait is how long a request waits for room in a full queue before
	// it is answered 503 (default DefaultQueueWait).
	QueueWait time.Duration
	// CommitTimeout bounds one batch's transaction, including waiting for
	// the database (default DefaultCommitTimeout); past it the batch's
	// requests get 503.
	CommitTimeout time.Duration
	// Limiter counts bad requests per client address (default
	// DefaultFailLimit per DefaultFailWindow).
	Limiter *httpx.Limiter
	// ApplyMax is the most deliveries one processing transaction applies
	// (default DefaultApplyMax, DefaultApplyMaxPostgres on PostgreSQL).
	// Small on SQLite, so the one writer connection is held briefly and
	// acknowledgements stay fast while a backlog drains, yet large enough
	// that commits are shared by many deliveries under load.
	ApplyMax int
	// BacklogMax and BacklogBytes bound the committed deliveries held in
	// memory for processing (default DefaultBacklogMax and
	// DefaultBacklogBytes of bodies). Past either, the backlog is dropped
	// and processing reads the database instead, until it has caught up.
	BacklogMax   int
	BacklogBytes int
	// CatchUpEvery is how often processing applies the deliveries pending
	// for longer than that, which no process holds in memory any more (a
	// replica that died left them; default DefaultCatchUpEvery).
	CatchUpEvery time.Duration
	// MaxLag bounds how far behind processing may fall under load: while
	// the oldest delivery waiting to be applied arrived longer ago than
	// that, new deliveries are answered 503 instead of being stored, and
	// Meta delivers them again later (meta-platform.md §1.4). Without it
	// a burst above capacity is acknowledged whole, and every message
	// that follows waits behind it: after 15 s at twice capacity, for
	// 15 s more. It applies only once processing has caught up with
	// what was there when it started or resumed, so the backlog a kill
	// switch pause (or a restart) leaves is drained without refusing
	// anything. Default DefaultMaxLag; negative turns it off.
	MaxLag time.Duration
	// Paused, when it returns true, holds processing back: deliveries are
	// still verified, stored and acknowledged (security.md P-3).
	Paused func() bool
	// PauseRetry is how often paused processing looks again (default
	// DefaultPauseRetry).
	PauseRetry time.Duration
	// Held, when set, returns the workspaces whose processing alone is
	// paused (killswitch.Service.HeldWorkspaces), as a set the caller
	// never modifies. It is asked once per processing round, so it must
	// be cheap (a cached snapshot). A delivery with events for a held
	// workspace stays stored, set aside from processing (held_for), while
	// other workspaces' deliveries flow; when the workspace resumes, its
	// deliveries are applied in arrival order (processor.go, holds).
	Held func() map[string]bool
	// Observe is called with one Outcome… constant per event, for metrics.
	Observe func(outcome string)
}

// Intake receives Meta webhooks and processes them. Create it with New,
// mount Routes, call Register (to process, not only store) before Start,
// and Start before serving.
type Intake struct {
	// lastStored is when (UnixNano, real time) a store transaction last
	// committed: Busy's answer.
	lastStored atomic.Int64

	d          *db.DB
	opt        Options
	log        *slog.Logger
	secrets    []string
	limiter    *httpx.Limiter
	deliveries *deliveryStore

	queue    chan *delivery // verified deliveries waiting for the writer
	mu       sync.RWMutex   // guards started and stopped against submit
	started  bool
	stopped  bool
	stopping chan struct{} // closed by Stop: drain the queue and exit
	done     chan struct{} // closed when the writer has exited
	// proc applies what the writer stored; nil until Register. It stops
	// once the writer has exited.
	proc *processor
	// first lets store transactions go before processing ones (SQLite
	// only; nil otherwise).
	first *precedence

	// beforeCommit, set by tests only, runs at the end of each store
	// transaction with the number of deliveries it stores; an error rolls
	// it back.
	beforeCommit atomic.Pointer[func(n int) error]
	// beforeApply, set by tests only, runs at the start of each processing
	// transaction; an error rolls it back.
	beforeApply atomic.Pointer[func(bun.Tx) error]
}

// New returns an intake on d. It panics without Master, a programming
// error like a nil handler.
func New(d *db.DB, opt Options) *Intake {
	if d == nil || opt.Master == nil {
		panic("webhook: New needs a database and Options.Master")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	if opt.FlushEvery <= 0 {
		opt.FlushEvery = DefaultFlushEvery
	}
	if opt.BatchMax <= 0 {
		opt.BatchMax = DefaultBatchMax
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = 4 * opt.BatchMax
	}
	if opt.QueueWait <= 0 {
		opt.QueueWait = DefaultQueueWait
	}
	if opt.CommitTimeout <= 0 {
		opt.CommitTimeout = DefaultCommitTimeout
	}
	if opt.PauseRetry <= 0 {
		opt.PauseRetry = DefaultPauseRetry
	}
	if opt.ApplyMax <= 0 {
		opt.ApplyMax = DefaultApplyMax
		if d.Dialect == db.Postgres {
			opt.ApplyMax = DefaultApplyMaxPostgres
		}
	}
	if opt.BacklogMax <= 0 {
		opt.BacklogMax = DefaultBacklogMax
	}
	if opt.BacklogBytes <= 0 {
		opt.BacklogBytes = DefaultBacklogBytes
	}
	if opt.CatchUpEvery <= 0 {
		opt.CatchUpEvery = DefaultCatchUpEvery
	}
	if opt.MaxLag == 0 {
		opt.MaxLag = DefaultMaxLag
	}
	if opt.Limiter == nil {
		opt.Limiter = httpx.NewLimiter(DefaultFailLimit, DefaultFailWindow, opt.Now)
	}
	in := &Intake{
		d: d, opt: opt, log: opt.Log.With("component", "webhook"), limiter: opt.Limiter,
		deliveries: &deliveryStore{st: db.NewStatements(d, "webhook"), dialect: d.Dialect},
		queue:      make(chan *delivery, opt.QueueSize),
		stopping:   make(chan struct{}),
		done:       make(chan struct{}),
	}
	if d.Dialect == db.SQLite {
		in.first = newPrecedence()
	}
	for _, s := range opt.AppSecrets {
		if s != "" {
			in.secrets = append(in.secrets, s)
		}
	}
	return in
}

// Routes are the two endpoints of the callback URL. Both are public: the
// handshake is authenticated by the verify token, deliveries by their
// signature.
func (in *Intake) Routes() []access.Route {
	return []access.Route{
		{Method: http.MethodGet, Pattern: Path, Policy: access.Public(), Handler: in.handshake},
		{Method: http.MethodPost, Pattern: Path, Policy: access.Public(), Handler: in.receive},
	}
}

// Register turns processing on: Start will then start the processor as
// well as the writer. It also handles, on Options.Jobs when set, the
// processing jobs an earlier version left in the queue (Kind): each makes
// the processor catch up from the database and succeeds. Call it before
// Start and before the job queue starts. It panics without
// Options.Channels or Options.Inbox.
func (in *Intake) Register() {
	if in.opt.Channels == nil || in.opt.Inbox == nil {
		panic("webhook: Register needs Options.Channels and Options.Inbox")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.started || in.stopped {
		panic("webhook: Register after Start")
	}
	if in.proc != nil {
		return
	}
	in.proc = newProcessor(in, in.done)
	if in.opt.Jobs != nil {
		in.opt.Jobs.Register(Kind, func(context.Context, *job.Job) error {
			in.proc.catchUp()
			return nil
		})
	}
}

// Start prepares the store statements and starts the group-commit writer
// and, after Register, the processor, which first applies whatever an
// earlier process left pending. Until Start is called, and after Stop,
// POSTs are answered 503.
func (in *Intake) Start(ctx context.Context) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.started || in.stopped {
		return errors.New("webhook: start: already started")
	}
	if err := in.deliveries.prepare(ctx, in.opt.BatchMax); err != nil {
		return fmt.Errorf("webhook: start: %w", err)
	}
	if len(in.secrets) == 0 {
		in.log.Warn("no Meta app secret configured: every webhook delivery will be refused")
	}
	in.started = true
	go in.write()
	if in.proc != nil {
		go in.proc.run()
	}
	return nil
}

// Stop refuses new deliveries, lets the writer store (and answer) those
// already queued, then lets the processor finish the transaction it is in
// (what it has not applied stays pending for the next start), and waits
// for both until ctx ends. It returns ctx's error if they were still busy
// then; they finish their work regardless.
func (in *Intake) Stop(ctx context.Context) error {
	in.mu.Lock()
	if !in.started || in.stopped {
		in.stopped = true
		in.mu.Unlock()
		return nil
	}
	// Taking the lock waited for every submit in progress, so nothing is
	// sent to the queue after this: the writer's final drain sees it all.
	in.stopped = true
	in.mu.Unlock()
	close(in.stopping)
	// The processor stops when the writer has exited (in.done), so it
	// never misses a batch the writer stored while stopping.
	done := in.done
	if in.proc != nil {
		done = in.proc.done
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhook: stop: %w", ctx.Err())
	}
}

// now is the injected clock in UTC at microsecond precision, the precision
// both engines store.
func (in *Intake) now() time.Time { return in.opt.Now().UTC().Truncate(time.Microsecond) }

func (in *Intake) observe(outcome string) {
	if in.opt.Observe != nil {
		in.opt.Observe(outcome)
	}
}

// bodyAAD binds a stored body to its row.
func bodyAAD(id string) keyring.AAD {
	return keyring.AAD{Table: "webhook_deliveries", Column: "body", Row: id}
}

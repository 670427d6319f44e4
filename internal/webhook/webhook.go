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

// Kind is the job kind that applies stored deliveries.
const Kind = "webhook.process"

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>". The legacy
// SHA-1 X-Hub-Signature is never accepted on its own (security.md G-3).
const SignatureHeader = "X-Hub-Signature-256"

// Outcomes reported to Options.Observe, one per POST (the first six) or per
// stored delivery or account during processing (the last two). They are
// metric label values: a fixed set, never anything from the request.
const (
	OutcomeAccepted     = "accepted"      // stored; answered 200
	OutcomeBadSignature = "bad_signature" // missing, malformed or wrong signature, or no secret configured; 403
	OutcomeTooLarge     = "too_large"     // body over MaxBody; 413
	OutcomeBadRequest   = "bad_request"   // the body could not be read (client went away mid-body); 400
	OutcomeUnavailable  = "unavailable"   // not stored (database failing, overloaded, stopping); 503
	OutcomeRateLimited  = "rate_limited"  // too many bad requests from the client's address; 429
	OutcomeQuarantined  = "quarantined"   // an authentic delivery that cannot be processed was set aside
	OutcomeUnknownPage  = "unknown_page"  // events for an account no workspace connected were dropped
)

// Defaults for Options.
const (
	DefaultMaxBody       = 3 << 20 // Meta's largest payloads are about 3 MB (meta-platform.md §1.2)
	DefaultFlushEvery    = time.Millisecond
	DefaultBatchMax      = 256
	DefaultQueueWait     = 2 * time.Second
	DefaultCommitTimeout = 5 * time.Second // Meta expects an answer within 5 s
	DefaultPauseRetry    = 5 * time.Second
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
	// Jobs receives the processing jobs (required).
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
	// Paused, when it returns true, holds processing back: deliveries are
	// still verified, stored and acknowledged (security.md P-3).
	Paused func() bool
	// PauseRetry is how often a paused processing job looks again (default
	// DefaultPauseRetry).
	PauseRetry time.Duration
	// Observe is called with one Outcome… constant per event, for metrics.
	Observe func(outcome string)
}

// Intake receives Meta webhooks. Create it with New, mount Routes, call
// Register before the job queue starts, and Start before serving.
type Intake struct {
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

	// beforeCommit, set by tests only, runs at the end of each store
	// transaction; an error rolls it back.
	beforeCommit atomic.Pointer[func() error]
}

// New returns an intake on d. It panics without Master or Jobs, which are
// programming errors like a nil handler.
func New(d *db.DB, opt Options) *Intake {
	if d == nil || opt.Master == nil || opt.Jobs == nil {
		panic("webhook: New needs a database, Options.Master and Options.Jobs")
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
	if opt.Limiter == nil {
		opt.Limiter = httpx.NewLimiter(DefaultFailLimit, DefaultFailWindow, opt.Now)
	}
	in := &Intake{
		d: d, opt: opt, log: opt.Log.With("component", "webhook"), limiter: opt.Limiter,
		deliveries: &deliveryStore{st: db.NewStatements(d, "webhook")},
		queue:      make(chan *delivery, opt.QueueSize),
		stopping:   make(chan struct{}),
		done:       make(chan struct{}),
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

// Register installs the processing job kind on Options.Jobs; call it before
// the queue starts. It panics without Options.Channels or Options.Inbox.
//
// A processing job is retried without limit (with backoff up to a minute):
// a pause must be able to last as long as the operator needs, and giving up
// on a batch would strand its deliveries while later ones went ahead. A job
// that keeps failing shows in the queue's stats and its last error.
func (in *Intake) Register() {
	if in.opt.Channels == nil || in.opt.Inbox == nil {
		panic("webhook: Register needs Options.Channels and Options.Inbox")
	}
	in.opt.Jobs.Register(Kind, in.process,
		job.MaxAttempts(processAttempts), job.Backoff(time.Second, time.Minute), job.Timeout(2*time.Minute))
}

// processAttempts is "never give up" in practice: at the backoff's one
// minute ceiling it is more than a thousand years.
const processAttempts = 1 << 30

// Start prepares the store statements and starts the group-commit writer.
// Until it is called, and after Stop, POSTs are answered 503.
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
	return nil
}

// Stop refuses new deliveries, lets the writer store (and answer) those
// already queued, and waits for it until ctx ends. It returns ctx's error if
// the writer was still busy then; the writer finishes its work regardless.
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
	select {
	case <-in.done:
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

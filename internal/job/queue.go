package job

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/db"
)

// Options tune a Queue. The zero value is usable.
type Options struct {
	// Workers is how many handlers run at once in this process (default 16).
	// It is also the largest batch one claim takes.
	Workers int
	// PollInterval is how often the queue looks for work nobody told it
	// about: jobs enqueued by other processes, retries coming due, periodic
	// slots (default 500 ms). Enqueue and Notify wake it at once.
	PollInterval time.Duration
	// Lease is how long a claim is valid (default 30 s). A live worker renews
	// the leases of its running jobs every Lease/3; a crashed one stops, and
	// its jobs are reclaimed by any queue once the lease has run out.
	Lease time.Duration
	// Now is the clock (default time.Now). Its times are stored in UTC.
	Now func() time.Time
	// Log receives failures and lifecycle events (default slog.Default()).
	// It never sees payloads.
	Log *slog.Logger
	// WorkerID names this queue in locked_by (default hostname-pid-random).
	// It must differ between live queues.
	WorkerID string
}

// Defaults for Options and for a kind's settings.
const (
	DefaultWorkers      = 16
	DefaultPollInterval = 500 * time.Millisecond
	DefaultLease        = 30 * time.Second
	DefaultMaxAttempts  = 10
	DefaultTimeout      = 5 * time.Minute
	DefaultBackoffBase  = time.Second
	DefaultBackoffMax   = time.Hour
)

// stopGrace is how long Stop waits, after cancelling handlers, for them to
// return before releasing their jobs itself.
const stopGrace = 2 * time.Second

// errStopped is the cause on handler contexts cancelled by Stop.
var errStopped = errors.New("job: queue stopped")

// kind is one registered job kind and its settings.
type kind struct {
	h           Handler
	maxAttempts int
	timeout     time.Duration
	backoffBase time.Duration
	backoffMax  time.Duration
}

// KindOption adjusts how jobs of one kind run.
type KindOption func(*kind)

// MaxAttempts sets how many times a job of this kind runs before it is
// dead-lettered (default DefaultMaxAttempts; minimum 1).
func MaxAttempts(n int) KindOption {
	return func(k *kind) {
		if n >= 1 {
			k.maxAttempts = n
		}
	}
}

// Timeout bounds one run of a job of this kind (default DefaultTimeout).
func Timeout(d time.Duration) KindOption {
	return func(k *kind) {
		if d > 0 {
			k.timeout = d
		}
	}
}

// Backoff sets the retry delay: base after the first failure, doubling per
// attempt up to max, jittered (defaults DefaultBackoffBase, DefaultBackoffMax).
func Backoff(base, max time.Duration) KindOption {
	return func(k *kind) {
		if base > 0 {
			k.backoffBase = base
		}
		if max > 0 {
			k.backoffMax = max
		}
	}
}

// Queue enqueues jobs into the jobs table and, once started, runs them.
// Any number of queues (in one or many processes) may share a database.
// Its methods are safe for concurrent use.
type Queue struct {
	d   *db.DB
	opt Options
	log *slog.Logger
	st  stmts

	mu       sync.Mutex
	kinds    map[string]*kind
	periodic []*periodic
	started  bool
	stopped  bool
	names    []string // registered kinds, sorted: the claim filter
	claimSQL string   // built by Start for names

	wake     chan struct{} // buffered 1: "look for work now"
	work     chan *Job     // dispatcher → workers
	results  chan result   // workers → dispatcher
	stopping chan struct{} // closed by Stop: claim nothing more
	kill     chan struct{} // closed by Stop after its deadline: dispatcher exits
	done     chan struct{} // closed when the dispatcher has exited

	base      context.Context         // values of Start's ctx, never cancelled
	runCtx    context.Context         // parent of handler contexts
	cancelRun context.CancelCauseFunc // cancels runCtx with errStopped
	grace     time.Duration
}

// New returns a queue on d. Register kinds and periodic tasks, then Start
// it; a queue that is never started can still Enqueue (a producer).
func New(d *db.DB, opt Options) *Queue {
	if opt.Workers <= 0 {
		opt.Workers = DefaultWorkers
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = DefaultPollInterval
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.WorkerID == "" {
		opt.WorkerID = workerID()
	}
	return &Queue{
		d: d, opt: opt, log: opt.Log.With("component", "job", "worker", opt.WorkerID), st: stmts{db.NewStatements(d, "job")},
		kinds:    map[string]*kind{},
		wake:     make(chan struct{}, 1),
		stopping: make(chan struct{}),
		kill:     make(chan struct{}),
		done:     make(chan struct{}),
		grace:    stopGrace,
	}
}

// workerID is hostname-pid-random: readable in locked_by, and unique even
// for two queues in one process.
func workerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// now is the injected clock in UTC at microsecond precision, the precision
// both engines store, so times read back compare equal to times written.
func (q *Queue) now() time.Time { return q.opt.Now().UTC().Truncate(time.Microsecond) }

// Register installs the handler for a kind. Call it before Start; it panics
// on an empty or duplicate kind, or after Start (programming errors, like
// http.ServeMux).
func (q *Queue) Register(name string, h Handler, opts ...KindOption) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case name == "" || h == nil:
		panic("job: Register needs a kind and a handler")
	case q.started:
		panic("job: Register " + name + " after Start")
	case q.kinds[name] != nil:
		panic("job: kind " + name + " registered twice")
	}
	k := &kind{h: h, maxAttempts: DefaultMaxAttempts, timeout: DefaultTimeout,
		backoffBase: DefaultBackoffBase, backoffMax: DefaultBackoffMax}
	for _, o := range opts {
		o(k)
	}
	q.kinds[name] = k
}

// Start checks the registrations, prepares the queue's statements and
// starts the dispatcher and workers. ctx bounds the preparation and supplies
// values to handler contexts; cancelling it later stops nothing: the queue
// runs until Stop.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return errors.New("job: start: already started")
	}
	for _, p := range q.periodic {
		if q.kinds[p.kind] == nil {
			return fmt.Errorf("job: start: periodic task %s runs kind %s, which is not registered", p.name, p.kind)
		}
	}
	names := make([]string, 0, len(q.kinds))
	for name := range q.kinds {
		names = append(names, name)
	}
	sort.Strings(names)
	q.names = names
	q.claimSQL = ""
	if len(names) > 0 {
		q.claimSQL = claimSQL(q.d.Dialect, len(names))
	}
	if err := q.st.Prepare(ctx, q.hotStatements(), nil); err != nil {
		return fmt.Errorf("job: start: %w", err)
	}
	q.started = true
	q.base = context.WithoutCancel(ctx)
	q.runCtx, q.cancelRun = context.WithCancelCause(q.base)
	q.work = make(chan *Job, q.opt.Workers)
	q.results = make(chan result, q.opt.Workers)
	for range q.opt.Workers {
		go q.worker()
	}
	go q.dispatch()
	q.log.Info("job queue started", "workers", q.opt.Workers, "kinds", len(q.names), "periodic", len(q.periodic))
	return nil
}

// Notify wakes the queue to look for work now. Enqueue does it by itself
// outside a transaction; after committing a transaction that enqueued, call
// Notify so the job runs without waiting for the next poll. It never blocks
// and is a no-op on a queue that is not running.
func (q *Queue) Notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Stop stops claiming and waits for running handlers until ctx ends. Then it
// cancels their contexts, and every job still unfinished is released: back
// to pending, its attempt not counted, to run again here after a restart or
// on another replica. Nothing is lost. Stop returns ctx's error if it had to
// cancel handlers, and nil after a clean drain. Calling it again, or on a
// queue that never started, returns nil.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	if !q.started || q.stopped {
		q.mu.Unlock()
		return nil
	}
	q.stopped = true
	q.mu.Unlock()

	close(q.stopping)
	select {
	case <-q.done:
		q.log.Info("job queue stopped")
		return nil
	case <-ctx.Done():
	}
	// Out of time: handlers that honour their context return now, and the
	// dispatcher releases their jobs.
	q.cancelRun(errStopped)
	t := time.NewTimer(q.grace)
	defer t.Stop()
	select {
	case <-q.done:
		q.log.Warn("job queue stopped before its handlers finished; their jobs were released")
		return fmt.Errorf("job: stop: %w", ctx.Err())
	case <-t.C:
	}
	// Some handler ignores its context. Release everything still leased to
	// us; if that handler ever returns, its result matches no row.
	close(q.kill)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.opt.Lease)
	defer cancel()
	n, err := q.releaseAll(rctx)
	q.log.Warn("job queue stopped with handlers still running; their jobs were released", "released", n)
	if err != nil {
		return fmt.Errorf("job: stop: release: %w (after %w)", err, ctx.Err())
	}
	return fmt.Errorf("job: stop: %w", ctx.Err())
}

package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
)

// Flows is what the runner reads of the flow store (flow.Store): the
// workspace's live versions and their revision, and any version by number.
// All three read through the idb they are given, so the runner sees its
// own transaction.
type Flows interface {
	Published(ctx context.Context, idb bun.IDB, workspaceID string) ([]flow.Published, int64, error)
	Version(ctx context.Context, idb bun.IDB, workspaceID, id string, v int) (flow.Document, error)
	Revision(ctx context.Context, idb bun.IDB, workspaceID string) (int64, error)
}

// Notifier tells a workspace's team something a flow asks (notify_team).
// Notifications arrive with a later issue; until one is wired, the runner
// logs that the action had nowhere to go.
type Notifier interface {
	NotifyTeam(ctx context.Context, idb bun.IDB, workspaceID, conversationID, team, text string) error
}

// StageSync keeps whatever follows the lead stage (the default pipeline's
// board, pipeline.Store.SyncStage) in step with a set_stage action: it is
// called in the action's transaction, with the stage just set and the
// flow as author.
type StageSync interface {
	SyncStage(ctx context.Context, idb bun.IDB, workspaceID, contactID, stage string, by contact.By) error
}

// Options wire a Runner.
type Options struct {
	DB       *db.DB
	Keyring  *keyring.Keyring
	Flows    Flows
	Contacts *contact.Store
	// Inbox applies what runs decide through the one outbound path (or
	// UseInbox, when the inbox is built with the runner as its Responder).
	Inbox *inbox.Service
	// Jobs runs the runner's jobs (KindResume, KindHTTP); it must be the
	// queue the inbox wakes for Response.Jobs (inbox.Options.Jobs).
	Jobs *job.Queue
	// Caller makes http nodes' requests (nil: they fail).
	Caller Caller
	// PayloadKey is the key of the payloads the runner sends (derive it
	// from the master key). Required.
	PayloadKey []byte
	// Notifier delivers notify_team actions (nil: logged only).
	Notifier Notifier
	// Stages follows set_stage actions in their transaction (nil: the
	// lead stage is a free label only).
	Stages StageSync
	// TimeZone is the workspace's time zone, for business hours that
	// name none (nil: UTC for every workspace).
	// It reads through idb (the caller's transaction, when there is one).
	TimeZone func(ctx context.Context, idb bun.IDB, workspaceID string) *time.Location
	// Paused reports whether automated processing of the workspace is
	// paused now (the operator's kill switch, globally or for the
	// workspace; promise P-37). While it holds, the runner's jobs wait
	// without using up their attempts and ProfileSettled starts nothing:
	// no delay ends, no request is made, no action runs. It is asked for
	// every job, so it must be a lookup, never a query (nil: never).
	Paused func(workspaceID string) bool
	// Blocked reports why automation may not touch the contact ("" when
	// it may): restricted, objecting, consent-withdrawn or a minor
	// (dsr.Gate.Blocked; promises P-34, P-40). Work a job resumes for a
	// blocked contact ends the session without a word, and a request
	// node's request is not made. It reads through idb (the job's
	// transaction, or the reader pool before a request). Nil: nobody is
	// blocked.
	Blocked func(ctx context.Context, idb bun.IDB, workspaceID, contactID string) (string, error)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand returns a number in [0, n) for randomizers (default
	// math/rand/v2).
	Rand func(n int) int
	// MaxSteps bounds the nodes one run executes (default
	// DefaultMaxSteps).
	MaxSteps int
	// ProfileWait is how long a flow that reads names waits for a new
	// contact's profile before starting without it (default
	// DefaultProfileWait). See ProfileSettled.
	ProfileWait time.Duration
	// Log gets operational events: IDs and kinds, never contact data.
	Log *slog.Logger
}

// Cache sizes: compiled versions and workspaces' compiled triggers kept
// in memory.
const (
	programCacheSize = 2048
	liveCacheSize    = 4096
)

// Runner runs published flows in conversations. It is the inbox's
// Responder: it answers inside the transaction that stored the person's
// message, so the inbox's per-conversation ordering and deduplication
// hold for flows too. Waits become jobs (KindResume, KindHTTP).
type Runner struct {
	opt   Options
	log   *slog.Logger
	st    *db.Statements
	progs *cache[progKey, *Program]
	lives *cache[string, *live]
	zones sync.Map // IANA name → *time.Location
}

var _ inbox.Responder = (*Runner)(nil)

// New returns a Runner.
func New(opt Options) *Runner {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.IntN
	}
	if opt.MaxSteps <= 0 {
		opt.MaxSteps = DefaultMaxSteps
	}
	if opt.ProfileWait <= 0 {
		opt.ProfileWait = DefaultProfileWait
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Runner{
		opt: opt, log: opt.Log.With("component", "flow"), st: db.NewStatements(opt.DB, "flow/run"),
		progs: newCache[progKey, *Program](programCacheSize), lives: newCache[string, *live](liveCacheSize),
	}
}

// Prepare prepares the statements every inbound message runs (its
// session and the workspace's flow revision; writing a session; counting
// node events), so the engine does not parse them each time
// (db.Statements). Call it once at start, outside any transaction; until
// then they run through bun.
func (r *Runner) Prepare(ctx context.Context) error {
	writes := []string{sqlLoadSession, sqlSaveSession}
	for n := 1; n <= preparedStatRows; n++ {
		writes = append(writes, statsSQL(n))
	}
	if err := r.st.Prepare(ctx, writes, []string{sqlLoadSession}); err != nil {
		return fmt.Errorf("flow: prepare: %w", err)
	}
	return nil
}

// UseInbox gives the runner the inbox it applies job-driven runs through.
// The two refer to each other: New the runner, New the inbox with the
// runner as its Responder, then UseInbox, before anything runs.
func (r *Runner) UseInbox(s *inbox.Service) { r.opt.Inbox = s }

// now is the clock in UTC at the microsecond precision both engines store.
func (r *Runner) now() time.Time { return r.opt.Now().UTC().Truncate(time.Microsecond) }

// payloads is the payload codec of a workspace.
func (r *Runner) payloads(ws string) Payloads { return Payloads{Key: r.opt.PayloadKey, Workspace: ws} }

// zone loads an IANA time zone once.
func (r *Runner) zone(name string) (*time.Location, error) {
	if l, ok := r.zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	r.zones.Store(name, l)
	return l, nil
}

// location is the workspace's time zone.
func (r *Runner) location(ctx context.Context, idb bun.IDB, ws string) *time.Location {
	if r.opt.TimeZone != nil {
		if l := r.opt.TimeZone(ctx, idb, ws); l != nil {
			return l
		}
	}
	return time.UTC
}

// Simulate runs doc, a document of the workspace's flow flowID (its draft,
// usually), against a virtual contact, with the runner's Caller (so SSRF
// rules apply), clock and the workspace's published flows as goto_flow
// targets. See the package function Simulate.
func (r *Runner) Simulate(ctx context.Context, ws, flowID string, doc flow.Document, req SimRequest) (SimResult, error) {
	return Simulate(ctx, doc, req, SimOptions{
		FlowID: flowID, Caller: r.opt.Caller, Now: r.now(), Location: r.location(ctx, r.opt.DB.R, ws), Rand: r.opt.Rand, Zone: r.zone,
		// Simulated payloads are bound to a name no workspace has, so one
		// copied from the preview into a conversation decodes as nothing.
		Payloads: Payloads{Key: r.opt.PayloadKey, Workspace: "simulate:" + ws},
		Flows: func(ctx context.Context, id string) (flow.Document, int, bool) {
			rev, err := r.opt.Flows.Revision(ctx, r.opt.DB.R, ws)
			if err != nil {
				return flow.Document{}, 0, false
			}
			l, err := r.published(ctx, r.opt.DB.R, ws, rev)
			if err != nil {
				return flow.Document{}, 0, false
			}
			p, ok := l.flows[id]
			if !ok {
				return flow.Document{}, 0, false
			}
			prog, err := r.program(ctx, r.opt.DB.R, ws, id, p.Version)
			if err != nil {
				return flow.Document{}, 0, false
			}
			return prog.Doc, p.Version, true
		},
	})
}

// errStale ends a job whose session moved on: nothing to do.
var errStale = errors.New("run: stale")

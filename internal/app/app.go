package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/calllog"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/csvio"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/erasure"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/flow/run"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/killswitch"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/meta"
	"github.com/parleyhq/parley/internal/metacallback"
	"github.com/parleyhq/parley/internal/operator"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/search"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/timeline"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/webhook"
	"github.com/parleyhq/parley/internal/workspace"
)

// Options are the parts a test may substitute. Zero values mean the real
// thing.
type Options struct {
	Log *slog.Logger
	// Now is the clock every service uses.
	Now func() time.Time
	// DB is an already opened (and migrated) database; New opens the
	// configured one when nil, and then owns it.
	DB *db.DB
	// Limits overrides the authentication rate limits.
	Limits *access.Limits
}

// App is one running Parley process.
type App struct {
	Config     *config.Config
	Log        *slog.Logger
	Now        func() time.Time
	DB         *db.DB
	Master     *keyring.Master
	Keyring    *keyring.Keyring
	Accounts   *account.Service
	Workspaces *workspace.Service
	Jobs       *job.Queue
	Guard      *access.Guard
	Auth       *access.Auth
	API        *api.API
	Web        *web.Dashboard
	Metrics    *Metrics

	// Messaging (see messaging.go).
	Graph    *meta.Client
	Channels *channel.Store
	Connect  *connect.Service
	Contacts *contact.Store
	// Flows keeps the workspaces' flows: drafts and published versions.
	Flows *flow.Store
	// FlowRuns runs the published flows in conversations (the inbox's
	// Responder), and simulations.
	FlowRuns *run.Runner
	Inbox    *inbox.Service
	// Timeline keeps what happens to conversations besides messages, and
	// agents' private notes with @mentions.
	Timeline *timeline.Store
	// Canned keeps the workspaces' canned responses.
	Canned *canned.Store
	// Teams keeps teams, agents' availability and capacity, and picks
	// assignees round-robin (teams.go).
	Teams *team.Store
	// Activity keeps contacts' activity logs and notes; Pipelines the
	// sales pipelines and their boards (crm.go).
	Activity  *activity.Store
	Pipelines *pipeline.Store
	// Segments keeps saved filters over contacts; Imports and Exports move
	// contacts in and out as CSV (contactsio.go).
	Segments *segment.Store
	Imports  *csvio.Importer
	Exports  *csvio.Exporter
	// CallLogs records phones' uploaded call logs on leads' activity
	// (calllog.go, promise P-28).
	CallLogs *calllog.Syncer
	// Sends is the outbound queue: many workers, because each send waits
	// on the platform.
	Sends    *job.Queue
	Webhooks *webhook.Intake
	// Sim is the built-in Meta simulator, when PARLEY_SIMULATOR is on.
	Sim *Simulator
	// Search finds contacts and messages over a blind index of their
	// sealed text, kept up by a background indexer (search.go).
	Search *search.Index
	// Events carries live-update hints to open dashboards (the inbox
	// publishes, the dashboard's event stream subscribes).
	Events *realtime.Hub

	// Media keeps attachments, sealed under their contact's key, on
	// disk under DataDir/media (media.go, promise P-31).
	Media     *media.Store
	mediaDisk *media.Disk

	// Retention applies the workspaces' retention periods by an hourly
	// job (retention.go, promise P-35); media and dsr register theirs.
	Retention *retention.Service

	// DSR handles data-subject requests and contacts' privacy state
	// (dsr.go, promises P-34, P-40).
	DSR *dsr.Service

	// Erasure erases contacts and conversations completely and keeps
	// the tombstone log (erasure.go, promises P-33, P-34).
	Erasure *erasure.Service

	// MetaCallbacks answers Meta's data-deletion and deauthorize
	// callbacks and keeps their identity map (metacallback.go, P-32).
	MetaCallbacks *metacallback.Service

	// Deletion deletes workspaces on their owners' request and purges them
	// after the grace period (deletion.go, promise P-33).
	Deletion *workspace.Deleter

	// KillSwitch pauses outbound sending and automated processing during
	// an incident (killswitch.go, promise P-37); Operator is the operator
	// console's side: workspace summaries and impersonation (operator.go,
	// promise P-06).
	KillSwitch *killswitch.Service
	Operator   *operator.Service

	// Handler is the whole HTTP surface with its middleware.
	Handler http.Handler

	ownDB bool
	// searchLimiter is the search budget (searchLimit).
	searchLimiter *httpx.Limiter
	// bg is what Start runs outside the job queue (the phone reindex).
	bg background
}

// New wires a Parley from cfg: it opens and migrates the database, loads
// the master key and builds every service and the HTTP handler. It starts
// nothing; call Start.
func New(ctx context.Context, cfg *config.Config, opt Options) (*App, error) {
	a := &App{Config: cfg, Log: opt.Log, Now: opt.Now, DB: opt.DB}
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	if a.Now == nil {
		a.Now = func() time.Time { return time.Now().UTC() }
	}
	m, created, err := keyring.LoadMaster(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if created {
		a.Log.Warn("generated a new master key; back it up: without it nothing sealed can be read", "file", cfg.DataDir+"/"+keyring.MasterKeyFile)
	}
	a.Master = m
	if a.DB == nil {
		if a.DB, err = openDB(ctx, cfg); err != nil {
			return nil, err
		}
		a.ownDB = true
		n, err := a.DB.Migrate(ctx)
		if err != nil {
			a.DB.Close()
			return nil, err
		}
		if n > 0 {
			a.Log.Info("database migrated", "migrations", n, "dialect", a.DB.Dialect)
		}
	}

	a.Keyring = keyring.New(a.DB, m, keyring.Options{Now: a.Now})
	a.Accounts = account.NewService(a.DB, m, account.Options{Now: a.Now, BcryptCost: cfg.BcryptCost, SessionTTL: cfg.SessionTTL, Issuer: cfg.BaseURL.String()})
	a.Workspaces = workspace.NewService(a.DB, a.Keyring, workspace.Options{Now: a.Now, TrialDays: cfg.TrialDays})
	a.Jobs = job.New(a.DB, job.Options{Workers: cfg.Workers, Now: a.Now, Log: a.Log})
	// Before messaging: the webhook processor and the inbox honour it.
	a.killSwitch()
	// Before messaging: the inbox publishes to it.
	if a.Events, err = realtime.New(ctx, a.DB, realtime.Options{Logger: a.Log}); err != nil {
		a.closeOwned()
		return nil, fmt.Errorf("app: live updates: %w", err)
	}
	if err := a.messaging(ctx); err != nil {
		a.closeOwned()
		return nil, err
	}
	a.newErasure()
	a.retentionJob()
	if err := a.openMedia(); err != nil {
		a.closeOwned()
		return nil, err
	}
	a.privacy()
	a.metaCallbacks()
	a.workspaceDeletion()
	a.Guard = &access.Guard{Sessions: a.Accounts, Workspaces: a.Workspaces, Now: a.Now, Secure: cfg.Secure(), SessionTTL: cfg.SessionTTL, Log: a.Log}
	a.operatorConsole()
	limits := access.DefaultLimits(a.Now)
	if opt.Limits != nil {
		limits = *opt.Limits
	}
	a.Auth = &access.Auth{Accounts: a.Accounts, Guard: a.Guard, Limits: limits, DB: a.DB, Now: a.Now}
	a.API = &api.API{Accounts: a.Accounts, Workspaces: a.Workspaces, Auth: a.Auth, Guard: a.Guard, DB: a.DB, Now: a.Now, Log: a.Log, BaseURL: cfg.BaseURL.String(),
		Channels: a.Channels, Connect: a.Connect, Inbox: a.Inbox, Contacts: a.Contacts, Flows: a.Flows, FlowRuns: a.FlowRuns,
		Timeline: a.Timeline, Canned: a.Canned,
		Activity: a.Activity, Pipelines: a.Pipelines, ReconcilePipelines: a.ReconcilePipelines,
		Segments: a.Segments, Imports: a.Imports, Exports: a.Exports,
		CallLogs: a.CallLogs, Teams: a.Teams,
		MergeContacts: a.MergeContacts,
		Search:        a.Search, SearchLimit: a.searchLimit(),
		Media: a.Media, SendAttachment: a.SendAttachment}
	deps := web.Deps{Accounts: a.Accounts, Workspaces: a.Workspaces, Auth: a.Auth, Guard: a.Guard, DB: a.DB, Now: a.Now, Log: a.Log, BaseURL: cfg.BaseURL.String(),
		Channels: a.Channels, Connect: a.Connect, Inbox: a.Inbox, Contacts: a.Contacts, Flows: a.Flows, Events: a.Events,
		Timeline: a.Timeline, Canned: a.Canned,
		Activity: a.Activity, Pipelines: a.Pipelines, ReconcilePipelines: a.ReconcilePipelines,
		Segments: a.Segments, Imports: a.Imports, Exports: a.Exports,
		Teams: a.Teams, Presence: a.Teams, MergeContacts: a.MergeContacts,
		Search: a.Search, SearchLimit: a.searchLimit(),
		Media: a.Media, SendAttachment: a.SendAttachment, MediaPath: MediaPath}
	// The operator console (killswitch.go, operator.go).
	deps.KillSwitch, deps.Console = a.KillSwitch, a.Operator
	if a.Sim != nil {
		deps.Simulator = a.Sim
	}
	a.metaCallbackDeps(&deps)
	a.Web = web.New(deps)
	a.API.Retention, a.Web.Retention = a.Retention, a.Retention
	a.API.DSR, a.Web.DSR = a.DSR, a.DSR
	a.wireErasure()
	a.wireDeletion()
	a.Metrics = newMetrics(a)
	a.Handler = a.routes()
	return a, nil
}

func openDB(ctx context.Context, cfg *config.Config) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.DataDir, db.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database (PARLEY_DATABASE_URL / PARLEY_DATA_DIR): %w", err)
	}
	return d, nil
}

// Start starts the background work: the send workers, the inbox's direct
// path, the webhook writer and processor, the job workers and periodic
// tasks, and last the search indexer.
func (a *App) Start(ctx context.Context) error {
	// First: a process starting during an incident starts paused.
	if err := a.KillSwitch.Start(ctx); err != nil {
		return err
	}
	if a.Sim != nil {
		if err := a.Sim.restore(ctx); err != nil {
			return err
		}
	}
	if err := a.Sends.Start(ctx); err != nil {
		return err
	}
	if err := a.Inbox.Start(ctx); err != nil {
		return err
	}
	// After the inbox: the webhook processor starts by applying what an
	// earlier process left pending, and the replies that produces should
	// take the direct path, not wait for a job.
	if err := a.Webhooks.Start(ctx); err != nil {
		return err
	}
	a.reindexPhones(ctx)
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	// Last: the indexer only reads what the rest writes.
	a.Search.Start(ctx)
	return nil
}

// Listening tells the app where its own HTTP server answers, once it does:
// the built-in simulator posts its webhooks there.
func (a *App) Listening(baseURL string) {
	if a.Sim != nil {
		a.Sim.listening(baseURL)
	}
}

// Close stops taking webhooks, drains the job and send workers under ctx's
// deadline (unfinished jobs stay in the table and run after the next
// start) and closes the database.
func (a *App) Close(ctx context.Context) error {
	// The inbox hands the replies it holds to the Sends queue before
	// that stops. The hub closes last: what stops before it may still
	// publish (a closed hub refuses, which is only logged).
	a.bg.stop() // before the database closes under it
	defer a.KillSwitch.Stop()
	a.Search.Stop()
	errs := []error{a.Webhooks.Stop(ctx), a.Inbox.Stop(ctx), a.Jobs.Stop(ctx), a.Sends.Stop(ctx), a.Events.Close()}
	a.Auth.Wait()
	if a.Sim != nil {
		a.Sim.close()
	}
	a.closeMedia()
	if a.ownDB {
		errs = append(errs, a.DB.Close())
	}
	return errors.Join(errs...)
}

// closeOwned releases what New opened when New fails half way.
func (a *App) closeOwned() {
	if a.Events != nil {
		a.Events.Close()
	}
	if a.Sim != nil {
		a.Sim.close()
	}
	a.closeMedia()
	if a.ownDB {
		a.DB.Close()
	}
}

// routes assembles every surface behind the shared middleware. Order
// matters: the request ID and client address come first so every later
// log line and audit entry carries them; panics are caught inside the
// access log so they are counted as 500s.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	a.API.Mount(mux)
	a.Web.Mount(mux)
	for _, rt := range a.Webhooks.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, a.Guard.Handler(rt, httpx.WriteError))
	}
	for _, rt := range a.MetaCallbacks.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, a.Guard.Handler(rt, httpx.WriteError))
	}
	for _, rt := range a.systemRoutes() {
		mux.Handle(rt.Method+" "+rt.Pattern, a.Guard.Handler(rt, httpx.WriteError))
	}
	csrf := http.NewCrossOriginProtection()
	// No request body may exceed maxBody (JSON endpoints cap theirs lower;
	// forms and multipart bodies would otherwise spill to disk unbounded).
	// CSV uploads of contacts get more (bodyLimit, contactsio.go).
	protected := bodyLimit(csrf.Handler(mux))
	return httpx.Chain(protected,
		httpx.RequestIDs,
		httpx.RealIP(a.Config.TrustedProxies),
		httpx.AccessLog(a.Log, a.Metrics.observeHTTP),
		httpx.Recover(a.Log, httpx.WriteError),
		httpx.SecurityHeaders(a.Config.Secure()),
	)
}

// maxBody bounds every request body.
const maxBody = 4 << 20

// Routes lists every route of every surface, for the inventory tests.
func (a *App) Routes() []access.Route {
	routes := append(a.API.Routes(), a.Web.Routes()...)
	routes = append(routes, a.Webhooks.Routes()...)
	routes = append(routes, a.MetaCallbacks.Routes()...)
	return append(routes, a.systemRoutes()...)
}

package app

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/channel/messenger"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/flow/httpcall"
	"github.com/parleyhq/parley/internal/flow/run"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/meta"
	"github.com/parleyhq/parley/internal/timeline"
	"github.com/parleyhq/parley/internal/webhook"
)

// sendWorkers bounds the outbound sends in flight in this process. A send
// waits on the platform (hundreds of milliseconds on a slow day), so the
// concurrency needed is rate × latency: 1,000 messages/s at 200 ms is 200.
// Per-page pacing (messenger.Adapter) keeps each page under Meta's limit.
const sendWorkers = 256

// kindPurgeLogins deletes Facebook Logins abandoned before choosing pages.
const kindPurgeLogins = "channel.purge_logins"

// messaging wires Messenger end to end: the Graph client, the connected
// channels, contacts and conversations, the outbound queue and the webhook
// intake. With the simulator on, the Meta settings point at it.
func (a *App) messaging(ctx context.Context) error {
	cfg := a.Config
	if cfg.Simulator {
		sim, err := startSimulator(a)
		if err != nil {
			return err
		}
		a.Sim = sim
	}
	graphURL, err := url.Parse(cfg.Meta.GraphURL)
	if err != nil {
		return fmt.Errorf("PARLEY_META_GRAPH_URL: %w", err)
	}
	a.Graph = meta.New(meta.Options{
		GraphURL: cfg.Meta.GraphURL, Version: cfg.Meta.GraphVersion, DialogURL: cfg.Meta.DialogURL,
		AppID: cfg.Meta.AppID, AppSecret: cfg.Meta.AppSecret.Reveal(),
		HTTP: httpx.NewClient(httpx.ClientOptions{AllowHosts: []string{graphURL.Host}}),
	})
	a.Channels = channel.NewStore(a.DB, a.Keyring, a.Now)
	a.Connect = connect.New(a.DB, a.Keyring, a.Graph, a.Channels, connect.Options{
		Now: a.Now, StateKey: a.Master.Derive("channel-login-state"),
		RedirectURL: cfg.BaseURL.String() + "/channels/messenger/callback",
		// Which Facebook user each channel's token came from, for Meta's
		// deletion and deauthorize callbacks (metacallback.go).
		Identities: metaIdentities{a},
	})
	adapter := messenger.NewAdapter(a.Graph, messenger.AdapterOptions{Now: a.Now})
	a.Contacts = contact.NewStore(a.DB, a.Keyring, a.Now)
	a.crm()
	a.contactsIO()
	a.callLogs()
	a.Flows = flow.NewStore(a.DB, a.Keyring, a.Contacts, a.Now)
	// The privacy gate (P-40): restricted, objecting, consent-withdrawn
	// and minor contacts get no automated messages and start no flow.
	gate := dsr.NewGate(a.DB)
	// Flows answer through the inbox (they are its Responder) and the
	// inbox applies their later work (delays, requests) for them.
	a.FlowRuns = run.New(run.Options{
		DB: a.DB, Keyring: a.Keyring, Flows: a.Flows, Contacts: a.Contacts, Jobs: a.Jobs,
		Caller:     httpcall.New(httpcall.Options{Outbound: httpx.ClientOptions{Log: a.Log}}),
		PayloadKey: a.Master.Derive("flow-payloads"), Now: a.Now, Log: a.Log,
		// set_stage moves the contact's card on the default pipeline.
		Stages: a.Pipelines,
		// Business hours without a zone of their own are the workspace's.
		TimeZone: a.workspaceZone,
		// What delays, timeouts and requests resume later waits while the
		// kill switch pauses processing (P-37), and ends without a word
		// for a blocked contact (P-34, P-40).
		Paused: func(ws string) bool {
			s := a.KillSwitch.Current()
			return s.ProcessingPausedAll() || s.ProcessingHeld()[ws]
		},
		Blocked: gate.Blocked,
	})
	a.Sends = job.New(a.DB, job.Options{Workers: sendWorkers, Now: a.Now, Log: a.Log.With("queue", "sends")})
	// The inbox records every ownership, assignment and status change on
	// the timeline in the transaction of the change.
	a.Timeline = timeline.NewStore(a.DB, a.Keyring, a.Now)
	a.Canned = canned.NewStore(a.DB, a.Now)
	// Teams pick assignees for the inbox round-robin (teams.go).
	a.teams()
	a.Inbox = inbox.New(a.DB, a.Keyring, inbox.Options{
		Now: a.Now, Log: a.Log, Channels: a.Channels, Contacts: a.Contacts,
		Senders:   map[channel.Type]channel.Sender{channel.Messenger: adapter},
		Profiles:  map[channel.Type]channel.ProfileFetcher{channel.Messenger: adapter},
		Adapters:  map[channel.Type]func(channel.Content) ([]channel.Content, error){channel.Messenger: messenger.Adapt},
		Responder: a.FlowRuns,
		// A flow greeting a new contact by name waits for their profile;
		// the runner hears when the fetch ends.
		OnProfile: a.FlowRuns,
		// Open dashboards hear what changed, IDs only.
		Changed: a.publishChange,
		// An unsent message leaves the search index (search.go).
		Unsent:   a.forgetMessage,
		AppID:    cfg.Meta.AppID,
		Timeline: a.Timeline,
		// Assignment: teams and round-robin among online agents.
		Teams: a.Teams,
		Jobs:  a.Jobs, Sends: a.Sends, Direct: true,
		// Outbound paused by the kill switch: replies stay queued.
		SendHold: a.KillSwitch.OutboundPaused,
		// Data-subject rights: automated sends to a restricted, objecting,
		// consent-withdrawn or minor contact are refused (P-34, P-40).
		Automation: gate.Automation,
	})
	a.Inbox.Register()
	a.searchIndex()
	a.FlowRuns.UseInbox(a.Inbox)
	a.FlowRuns.Register()
	if err := a.FlowRuns.Prepare(ctx); err != nil {
		return err
	}
	if err := gate.Prepare(ctx); err != nil {
		return err
	}
	if err := a.Inbox.Prepare(ctx); err != nil {
		return err
	}
	if err := a.Timeline.Prepare(ctx); err != nil {
		return err
	}
	if err := a.Channels.Prepare(ctx); err != nil {
		return err
	}
	if err := a.Keyring.Prepare(ctx); err != nil {
		return err
	}
	a.Jobs.Register(kindPurgeLogins, func(ctx context.Context, _ *job.Job) error {
		_, err := a.Connect.PurgeLogins(ctx)
		return err
	})
	a.Jobs.Periodic("purge expired Facebook logins", time.Hour, kindPurgeLogins)
	a.Jobs.Periodic("resend replies a crash left behind", inbox.SweepEvery, inbox.KindSweep)
	var secrets []string
	if s := cfg.Meta.AppSecret.Reveal(); s != "" {
		secrets = append(secrets, s)
	}
	a.Webhooks = webhook.New(a.DB, webhook.Options{
		Now: a.Now, Log: a.Log, AppSecrets: secrets, VerifyToken: cfg.Meta.VerifyToken.Reveal(),
		Master: a.Master, Jobs: a.Jobs, Channels: a.Channels, Inbox: a.Inbox,
		Observe: a.observeWebhook,
		// The kill switch (killswitch.go): processing paused for every
		// workspace, or held back for some; looked at every second.
		Paused: a.KillSwitch.ProcessingPaused, Held: a.KillSwitch.HeldWorkspaces, PauseRetry: time.Second,
	})
	a.Webhooks.Register()
	return nil
}

// workspaceZone is the workspace's time zone for the flow runner, or nil
// (the runner then uses UTC) when it cannot be read; the failure is
// logged, since opening hours are then read in UTC.
func (a *App) workspaceZone(ctx context.Context, idb bun.IDB, workspaceID string) *time.Location {
	loc, err := a.Workspaces.TimeZoneTx(ctx, idb, workspaceID)
	if err != nil {
		a.Log.Warn("workspace time zone unavailable; flows use UTC", "workspace", workspaceID, "err", err)
		return nil
	}
	return loc
}

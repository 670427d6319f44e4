package inbox

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/timeline"
)

// Job kinds the Service registers.
const (
	// KindSend delivers one queued message, on Options.Sends, with the
	// conversation as ordering key.
	KindSend = "inbox.send"
	// KindProfile fetches a contact's profile, on Options.Jobs, with one
	// unfinished job per contact at most.
	KindProfile = "contact.profile"
)

// Options wire a Service to its collaborators.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log gets operational events: IDs, kinds and error classes, never
	// message content or names (default slog.Default()).
	Log      *slog.Logger
	Channels *channel.Store
	Contacts *contact.Store
	// Senders, Profiles and Adapters are the platform adapters, by channel
	// type. An adapter fits content to the platform's limits: it splits what
	// is too long into several messages and refuses what cannot be sent
	// with a *channel.ContentError. A type without one gets
	// channel.CheckContent only.
	Senders  map[channel.Type]channel.Sender
	Profiles map[channel.Type]channel.ProfileFetcher
	Adapters map[channel.Type]func(channel.Content) ([]channel.Content, error)
	// Responder answers inbound messages of bot- and AI-owned
	// conversations (nil: nobody answers automatically).
	Responder Responder
	// OnProfile hears when a contact's profile fetch has ended, so that
	// automation waiting for the contact's name can go on (nil: nobody
	// listens). See ProfileListener.
	OnProfile ProfileListener
	// Changed hears what changed once it is committed (inbound messages,
	// replies queued, sent or failed, owner and status changes), for live
	// dashboards (nil: nobody listens). Ingest and Automate carry their
	// changes in Effects: Notify tells them.
	Changed ChangeListener
	// AppID is Parley's Meta app ID: echoes carrying it are Parley's own
	// sends. An echo whose metadata names one of Parley's messages is
	// Parley's too, whatever its app ID.
	AppID string
	// Jobs runs profile fetches; Sends runs outgoing messages (give it many
	// workers: sends wait on the platform).
	Jobs  *job.Queue
	Sends *job.Queue
	// Teams picks assignees and knows the workspace's teams (nil: no
	// automatic assignment, and SetTeam refuses every team).
	Teams Teams
	// Timeline records owner, assignment, team, status and snooze changes,
	// handoffs and mark-seen in the transaction of each change, and gives
	// the events Service.Timeline merges with messages (nil: nothing is
	// recorded, and the timeline has messages only).
	Timeline *timeline.Store
	// Unsent hears, inside the transaction that redacts it, of a message
	// the person unsent, so that copies derived from its text go with it
	// (the app wires search.Index.Forget). An error rolls the unsend back,
	// to be retried (nil: nobody listens).
	Unsent func(ctx context.Context, tx bun.Tx, workspaceID, messageID string) error
	// Direct sends replies straight after the transaction that queued them
	// commits, with the Sends queue as the safety net (direct.go). Off,
	// every reply is a job. It needs Sends.
	Direct bool
	// Automation, when set, may refuse an automated send (flow, AI,
	// broadcast) to the contact: it returns an error wrapping ErrRestricted
	// (a restricted, objecting, consent-withdrawn or minor contact; package
	// dsr). Ingest asks it once before the Responder (a refused contact's
	// message starts no flow and waits for a person), queue asks it for
	// every other automated send inside the send's transaction, and the
	// send job asks again before calling the platform, failing those it now
	// refuses CodeRestricted (nil: nothing is refused).
	Automation func(ctx context.Context, idb bun.IDB, workspaceID, contactID string, sender SenderType) error
	// SendHold reports whether outbound sending for the workspace is
	// paused now (the operator's kill switch, killswitch.Service.
	// OutboundPaused; promise P-37). It is asked before every send, so it
	// must be a lookup, never a query. While it holds, nothing reaches the
	// platform: messages stay queued, in order, and go out on resume,
	// each checked against the messaging policy again then (send.go).
	SendHold func(workspaceID string) bool
}

// Service is the inbox: it applies inbound events, queues and sends
// replies, and reads conversations back.
type Service struct {
	d   *db.DB
	kr  *keyring.Keyring
	opt Options
	log *slog.Logger
	st  *db.Statements // the hot path's statements, prepared (Prepare)
	dir *direct        // nil without Options.Direct
	// typing throttles typing indicators (Typing).
	typing typing
}

// New returns a Service on d sealing bodies with kr.
func New(d *db.DB, kr *keyring.Keyring, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	s := &Service{d: d, kr: kr, opt: opt, log: opt.Log.With("component", "inbox"), st: db.NewStatements(d, "inbox"),
		typing: typing{on: map[string]time.Time{}}}
	if opt.Direct && opt.Sends != nil {
		s.dir = newDirect(s)
	}
	return s
}

// Stop ends the direct path (Options.Direct): replies it has not sent yet
// become jobs, and sends in flight get until ctx ends to finish. Call it
// before stopping the queues.
func (s *Service) Stop(ctx context.Context) error {
	if s.dir == nil {
		return nil
	}
	return s.dir.stop(ctx)
}

// Retry settings of the job kinds. A send is retried for about an hour on
// transient failures (backoff doubling from 2 s, capped at 10 min); the
// attempts also cover the waits for the echo of an uncertain send.
const (
	sendMaxAttempts    = 12
	sendTimeout        = time.Minute
	profileMaxAttempts = 5
)

// Register installs the job handlers: KindSend on Sends; KindProfile,
// KindSweep, KindWake, KindReturnToBot and KindMarkSeen on Jobs. Call it once, before the queues start.
func (s *Service) Register() {
	s.opt.Sends.Register(KindSend, s.handleSend, job.MaxAttempts(sendMaxAttempts), job.Timeout(sendTimeout),
		job.Backoff(2*time.Second, 10*time.Minute))
	s.opt.Jobs.Register(KindSweep, s.sweep, job.Timeout(time.Minute))
	s.opt.Jobs.Register(KindWake, s.handleWake, job.Timeout(30*time.Second))
	s.opt.Jobs.Register(KindReturnToBot, s.handleReturnToBot, job.Timeout(30*time.Second))
	s.opt.Jobs.Register(KindMarkSeen, s.handleMarkSeen, job.MaxAttempts(3), job.Timeout(30*time.Second),
		job.Backoff(5*time.Second, time.Minute))
	s.opt.Jobs.Register(KindProfile, s.handleProfile, job.MaxAttempts(profileMaxAttempts), job.Timeout(30*time.Second),
		job.Backoff(30*time.Second, 30*time.Minute))
}

// Effects say which queues got jobs in a transaction, so that the caller
// wakes them once it has committed.
type Effects struct {
	Sends int // jobs on Options.Sends
	Jobs  int // jobs on Options.Jobs
	// direct are replies for the direct path, sent once committed.
	direct []outbound
	// changes are told to Options.Changed once committed.
	changes []Change
	// echoed are Parley's messages whose echo this transaction matched:
	// their send results need not be stored again (direct.echoed).
	echoed []string
}

// Add returns the sum of e and o.
func (e Effects) Add(o Effects) Effects {
	r := Effects{Sends: e.Sends + o.Sends, Jobs: e.Jobs + o.Jobs, direct: append(e.direct, o.direct...), echoed: append(e.echoed, o.echoed...)}
	r.changes = append(r.changes, e.changes...)
	for _, c := range o.changes {
		r.addChange(c)
	}
	return r
}

// Notify starts what e holds: it sends the direct path's replies, wakes
// the queues that got jobs and tells Options.Changed what changed. Call it
// after the transaction that produced e has committed, never before: a
// reply must not leave, nor a dashboard refresh, for work that might still
// roll back.
func (s *Service) Notify(e Effects) {
	for _, c := range e.changes {
		s.changed(context.Background(), c)
	}
	if s.dir != nil {
		if len(e.echoed) > 0 {
			s.dir.echoed(e.echoed)
		}
		if len(e.direct) > 0 {
			s.dir.submit(e.direct)
		}
	}
	if e.Sends > 0 && s.opt.Sends != nil {
		s.opt.Sends.Notify()
	}
	if e.Jobs > 0 && s.opt.Jobs != nil {
		s.opt.Jobs.Notify()
	}
}

// Responder answers an inbound event of a conversation owned by the bot or
// the AI agent, inside the transaction that stored the event. What it
// returns is applied as Automate applies it: the replies are queued
// through the same policy and adapter as everyone else's, then the
// handoff and the resolve. It must not fail for anything but a database
// error: a failure rolls the whole batch back, to be retried.
type Responder interface {
	Respond(ctx context.Context, tx bun.Tx, in Incoming) (Response, error)
}

// Response is what automation (a Responder, or a flow resumed by a job
// through Automate) does to a conversation, in this order: send Replies,
// then hand the conversation to people (Handoff, optionally to Team), then
// mark it resolved (Resolve).
type Response struct {
	Replies []channel.Content
	// FlowID is the author ID of the replies: the flow that wrote them (""
	// for the channel's fixed automatic reply).
	FlowID string
	// Handoff gives the conversation to people: automation stays quiet
	// until someone hands it back.
	Handoff bool
	// Team is the team the handoff asks for: the conversation moves to it
	// when the workspace has it (Options.Teams), and an assignee is picked
	// among its members.
	Team string
	// Resolve marks the conversation resolved (a new message reopens it).
	Resolve bool
	// Jobs counts the jobs the responder enqueued on Options.Jobs inside
	// the transaction, so that the queue is woken after commit.
	Jobs int
}

// Incoming is what a Responder gets: the event and what it was stored as.
type Incoming struct {
	Channel channel.Channel
	// Contact is the sender, names not opened (contact.Store.Get opens
	// them, for a responder that greets by name).
	Contact contact.Contact
	// Conversation is the state after the event was applied.
	Conversation Conversation
	// Message is the stored inbound message.
	Message Message
	// Event is the normalized platform event.
	Event channel.Inbound
	// NewContact is true when this event created the contact.
	NewContact bool
	// ProfilePending is true when the contact's profile has never been
	// fetched and a fetch is queued (by this event or an earlier one):
	// their names are not known yet, but will be shortly. Options.OnProfile
	// hears when the fetch ends. A responder that greets by name may wait
	// for it rather than answer with a fallback.
	ProfilePending bool
}

// ProfileListener hears that the profile fetch of a contact has ended,
// fetched or unavailable, once it is stored (after the transaction that
// stored it has committed, so a listener reading the contact sees it).
// Transient failures that will be retried are not reported: a listener
// that waits must have a timeout of its own. The listener's error is
// logged and changes nothing of the fetch.
type ProfileListener interface {
	ProfileSettled(ctx context.Context, workspaceID, channelID, contactID string) error
}

// AutoReply is the simplest Responder: it answers every message and
// postback with the channel's fixed automatic reply, when it has one.
type AutoReply struct{}

// Respond implements Responder.
func (AutoReply) Respond(_ context.Context, _ bun.Tx, in Incoming) (Response, error) {
	return AutoReplyTo(in), nil
}

// AutoReplyTo is AutoReply's answer to in: the channel's fixed automatic
// reply to a message or postback, or nothing. A Responder that found
// nothing better to say falls back to it.
func AutoReplyTo(in Incoming) Response {
	if in.Channel.AutoReply == "" || (in.Event.Kind != channel.EventMessage && in.Event.Kind != channel.EventPostback) {
		return Response{}
	}
	return Response{Replies: []channel.Content{{Text: in.Channel.AutoReply}}}
}

// Author is who sends a message through Reply.
type Author struct {
	// Type is agent for a person, flow, ai or broadcast for automation.
	Type SenderType
	// ID is the agent's user ID (default: Actor.UserID), the flow's or the
	// broadcast's ID.
	ID string
	// Actor is the request behind an agent's reply.
	Actor audit.Actor
	// cleared is set by ingest when Options.Automation already allowed
	// automation for this contact in the same transaction (before the
	// Responder ran), so queue does not ask again for each reply.
	cleared bool
}

// PolicyError is a send the messaging policy refused (promise P-16);
// nothing was stored. Decision says why, in words for the person.
type PolicyError struct {
	Decision channel.Decision
}

func (e *PolicyError) Error() string { return "inbox: message refused: " + e.Decision.Reason }

// ErrInvalid wraps arguments a caller got wrong (an unknown owner, an
// author that cannot send).
var ErrInvalid = errors.New("invalid")

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// now is the injected clock in UTC at microsecond precision, the precision
// both engines store, so times read back compare equal to times written.
func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

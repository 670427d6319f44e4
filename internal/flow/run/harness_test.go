package run

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// author is the member behind the test's changes.
var author = audit.Actor{UserID: "user-1"}

// clock is a settable test clock.
type clock = fakeclock.Clock

// stubCaller answers http nodes' requests as told and records them.
type stubCaller struct {
	mu   sync.Mutex
	reqs []CallRequest
	res  CallResponse
	err  error
}

func (s *stubCaller) Call(_ context.Context, req CallRequest) (CallResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	return s.res, s.err
}

// harness is a runner behind an inbox on a fresh database, with one
// workspace, one connected page and the flow store; jobs are run by hand.
type harness struct {
	t        testing.TB
	d        *db.DB
	clock    *clock
	kr       *keyring.Keyring
	channels *channel.Store
	contacts *contact.Store
	flows    *flow.Store
	jobs     *job.Queue
	sends    *job.Queue
	inbox    *inbox.Service
	runner   *Runner
	caller   *stubCaller
	ws       string
	ch       channel.Channel
	seq      int
	rand     int
	// unprepared leaves the runner's statements to bun (counted by hooks).
	unprepared bool
	// profiles, when set, makes the inbox fetch new contacts' profiles
	// (jobs the harness never runs: tests store profiles themselves) and
	// tell the runner when one is stored.
	profiles channel.ProfileFetcher
}

func newHarness(t testing.TB, d *db.DB) *harness {
	t.Helper()
	h := &harness{t: t, d: d, clock: fakeclock.New(fixture.Epoch), caller: &stubCaller{}}
	h.kr, _ = fixture.Keyring(t, d, h.clock.Now)
	h.channels = channel.NewStore(d, h.kr, h.clock.Now)
	h.contacts = contact.NewStore(d, h.kr, h.clock.Now)
	h.flows = flow.NewStore(d, h.kr, h.contacts, h.clock.Now)
	quiet := slog.New(slog.DiscardHandler)
	h.jobs = job.New(d, job.Options{Now: h.clock.Now, Log: quiet})
	h.sends = job.New(d, job.Options{Now: h.clock.Now, Log: quiet})
	h.ws = fixture.Workspace(t, d, h.kr)
	h.ch = fixture.Messenger(t, h.channels, h.ws, "page-"+h.ws, "page-token")
	var err error
	h.ch, err = h.channels.Configure(context.Background(), author, h.ws, h.ch.ID, "Thanks, we will write back.", channel.Settings{GetStarted: "GET_STARTED"})
	if err != nil {
		t.Fatal(err)
	}
	h.restart()
	return h
}

// restart builds a new runner and inbox on the same database: a process
// restart, with empty caches and nothing in memory.
func (h *harness) restart() {
	quiet := slog.New(slog.DiscardHandler)
	h.runner = New(Options{
		DB: h.d, Keyring: h.kr, Flows: h.flows, Contacts: h.contacts, Jobs: h.jobs, Caller: h.caller,
		PayloadKey: []byte("test-payload-key"), Now: h.clock.Now, Log: quiet,
		Rand: func(n int) int { return h.rand % n },
	})
	opt := inbox.Options{
		Now: h.clock.Now, Log: quiet, Channels: h.channels, Contacts: h.contacts,
		Responder: h.runner, Jobs: h.jobs, Sends: h.sends,
	}
	if h.profiles != nil {
		opt.Profiles = map[channel.Type]channel.ProfileFetcher{channel.Messenger: h.profiles}
		opt.OnProfile = h.runner
	}
	h.inbox = inbox.New(h.d, h.kr, opt)
	h.runner.UseInbox(h.inbox)
	if h.unprepared {
		return
	}
	if err := h.runner.Prepare(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// publish creates a flow from doc and publishes it; it returns its ID.
func (h *harness) publish(doc string) string {
	h.t.Helper()
	d, err := flow.Parse([]byte(doc))
	if err != nil {
		h.t.Fatal(err)
	}
	f, _, err := h.flows.Create(context.Background(), h.ws, author, d)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, _, problems, err := h.flows.Publish(context.Background(), h.ws, f.ID, author); err != nil {
		h.t.Fatalf("publish: %v %+v", err, problems)
	}
	return f.ID
}

// republish saves doc as the flow's draft and publishes it.
func (h *harness) republish(id, doc string) {
	h.t.Helper()
	d, err := flow.Parse([]byte(doc))
	if err != nil {
		h.t.Fatal(err)
	}
	if _, _, err := h.flows.SaveDraft(context.Background(), h.ws, id, author, d); err != nil {
		h.t.Fatal(err)
	}
	if _, _, problems, err := h.flows.Publish(context.Background(), h.ws, id, author); err != nil {
		h.t.Fatalf("publish: %v %+v", err, problems)
	}
}

// field defines a custom field.
func (h *harness) field(key string, typ contact.FieldType) {
	h.t.Helper()
	if _, err := h.contacts.DefineField(context.Background(), author, h.ws, key, contact.FieldSpec{Label: key, Type: typ}); err != nil {
		h.t.Fatal(err)
	}
}

// ingest applies events in one transaction, as the webhook intake does.
func (h *harness) ingest(events ...channel.Inbound) {
	h.t.Helper()
	err := h.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, err := h.inbox.Ingest(ctx, tx, h.ch, events)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// event is a message event from psid, with a fresh message ID unless mid
// is given.
func (h *harness) event(psid, mid string, kind channel.EventKind, c channel.Content) channel.Inbound {
	if mid == "" {
		h.seq++
		mid = fmt.Sprintf("m_%d", h.seq)
	}
	return channel.Inbound{Type: channel.Messenger, Kind: kind, AccountID: h.ch.ExternalID, UserID: psid, At: h.clock.Now(), MID: mid, Content: c}
}

// say is psid writing text.
func (h *harness) say(psid, text string) {
	h.ingest(h.event(psid, "", channel.EventMessage, channel.Content{Text: text}))
}

// tap is psid tapping a quick reply.
func (h *harness) tap(psid string, q channel.QuickReply) {
	h.ingest(h.event(psid, "", channel.EventMessage, channel.Content{Text: q.Title, Payload: q.Payload}))
}

// conversation returns the conversation of psid.
func (h *harness) conversation(psid string) inbox.Conversation {
	h.t.Helper()
	var id string
	if err := h.d.R.NewRaw(`SELECT cv.id FROM conversations cv JOIN contacts ct ON ct.id = cv.contact_id
		WHERE ct.channel_id = ? AND ct.external_id = ?`, h.ch.ID, psid).Scan(context.Background(), &id); err != nil {
		h.t.Fatalf("conversation of %s: %v", psid, err)
	}
	c, err := h.inbox.Conversation(context.Background(), h.ws, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// said returns what was sent to psid (queued), oldest first, and forgets
// it, so the next call returns only what came after.
func (h *harness) said(psid string) []channel.Content {
	h.t.Helper()
	conv := h.conversation(psid)
	ms, err := h.inbox.Messages(context.Background(), h.ws, conv.ID, inbox.MaxLimit, "")
	if err != nil {
		h.t.Fatal(err)
	}
	var out []channel.Content
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Direction == inbox.Out && ms[i].Status == inbox.StatusQueued {
			out = append(out, ms[i].Content)
		}
	}
	if _, err := h.d.W.NewRaw(`UPDATE messages SET status = 'sent' WHERE conversation_id = ? AND status = 'queued'`, conv.ID).Exec(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// saidTexts is said's texts.
func (h *harness) saidTexts(psid string) []string {
	h.t.Helper()
	var out []string
	for _, c := range h.said(psid) {
		out = append(out, c.Text)
	}
	return out
}

// session returns psid's session.
func (h *harness) session(psid string) session {
	h.t.Helper()
	conv := h.conversation(psid)
	s, _, err := h.runner.loadSession(context.Background(), h.d.R, h.ws, conv.ID, conv.ContactID)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// pending lists the runner's unfinished jobs.
type pendingJob struct {
	ID      int64     `bun:"id"`
	Kind    string    `bun:"kind"`
	Payload []byte    `bun:"payload"`
	RunAt   time.Time `bun:"run_at"`
}

func (h *harness) pending() []pendingJob {
	h.t.Helper()
	var rows []pendingJob
	if err := h.d.R.NewRaw(`SELECT id, kind, payload, run_at FROM jobs WHERE kind IN (?, ?) ORDER BY id`, KindResume, KindHTTP).
		Scan(context.Background(), &rows); err != nil {
		h.t.Fatal(err)
	}
	var out []pendingJob
	for _, r := range rows {
		var p resumeJob
		if json.Unmarshal(r.Payload, &p) == nil && p.WS == h.ws {
			out = append(out, r)
		}
	}
	return out
}

// jobOf is the job a pending row describes, as a worker would get it.
func jobOf(j pendingJob) *job.Job { return &job.Job{ID: j.ID, Kind: j.Kind, Payload: j.Payload} }

// runDue runs, by hand and in order, the runner's jobs that are due, and
// returns how many ran.
func (h *harness) runDue() int {
	h.t.Helper()
	n := 0
	for _, j := range h.pending() {
		if j.RunAt.After(h.clock.Now()) {
			continue
		}
		handler := h.runner.handleResume
		if j.Kind == KindHTTP {
			handler = h.runner.handleHTTP
		}
		if err := handler(context.Background(), jobOf(j)); err != nil {
			h.t.Fatalf("job %s: %v", j.Kind, err)
		}
		if _, err := h.d.W.NewRaw(`DELETE FROM jobs WHERE id = ?`, j.ID).Exec(context.Background()); err != nil {
			h.t.Fatal(err)
		}
		n++
	}
	return n
}

// stats returns a version's node statistics.
func (h *harness) stats(flowID string, v int) map[string]NodeStats {
	h.t.Helper()
	s, err := Stats(context.Background(), h.d.R, h.ws, flowID, v)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// errors returns a flow's recorded errors' messages.
func (h *harness) errors(flowID string) []FlowError {
	h.t.Helper()
	e, err := Errors(context.Background(), h.d.R, h.ws, flowID, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

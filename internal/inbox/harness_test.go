package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/timeline"
)

// auditActor is the member behind changes in these tests.
var auditActor = audit.Actor{UserID: "user-1"}

// ourApp is Parley's Meta app ID in these tests.
const ourApp = "1517776481860111"

// clock is a settable test clock.
type clock = fakeclock.Clock

// fakeSender plays the platform's Send API. Each call takes the next
// scripted outcome (success when none is left) and records what was sent.
type fakeSender struct {
	mu     sync.Mutex
	calls  []channel.Outbound
	script []error
	// during, when set, runs inside Send before it answers (to deliver an
	// echo before the answer is stored).
	during func(m channel.Outbound, mid string)
	n      int
	acts   []string // sender actions, as "to:action"
}

func (f *fakeSender) Send(_ context.Context, _ channel.Channel, _ string, m channel.Outbound) (channel.SendResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, m)
	f.n++
	mid := fmt.Sprintf("m_out_%d", f.n)
	var err error
	if len(f.script) > 0 {
		err, f.script = f.script[0], f.script[1:]
	}
	during := f.during
	f.mu.Unlock()
	if err != nil {
		return channel.SendResult{}, err
	}
	if during != nil {
		during(m, mid)
	}
	return channel.SendResult{MID: mid}, nil
}

func (f *fakeSender) SenderAction(_ context.Context, _ channel.Channel, _, to, action string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, to+":"+action)
	return nil
}

func (f *fakeSender) sent() []channel.Outbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]channel.Outbound(nil), f.calls...)
}

func (f *fakeSender) fail(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, errs...)
}

// fakeProfiles plays the User Profile API.
type fakeProfiles struct {
	mu      sync.Mutex
	calls   int
	profile channel.Profile
	script  []error
}

func (f *fakeProfiles) Profile(_ context.Context, _ channel.Channel, _, _ string) (channel.Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.script) > 0 {
		err := f.script[0]
		f.script = f.script[1:]
		if err != nil {
			return channel.Profile{}, err
		}
	}
	return f.profile, nil
}

func (f *fakeProfiles) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls }

// testAdapter splits text longer than 30 characters and refuses empty
// messages, like a platform adapter would (with smaller limits).
func testAdapter(c channel.Content) ([]channel.Content, error) {
	if c.Text == "" && len(c.Attachments) == 0 {
		return nil, &channel.ContentError{Field: "text", Message: "Write something."}
	}
	if utf8.RuneCountInString(c.Text) <= 30 {
		return []channel.Content{c}, nil
	}
	var out []channel.Content
	r := []rune(c.Text)
	for len(r) > 0 {
		n := min(30, len(r))
		out = append(out, channel.Content{Text: string(r[:n])})
		r = r[n:]
	}
	return out, nil
}

// harness is an inbox on a fresh database with one workspace and one
// connected page.
type harness struct {
	t        testing.TB
	d        *db.DB
	kr       *keyring.Keyring
	clock    *clock
	svc      *Service
	channels *channel.Store
	contacts *contact.Store
	sender   *fakeSender
	profiles *fakeProfiles
	jobs     *job.Queue
	sends    *job.Queue
	ws       string
	ch       channel.Channel
}

func newHarness(t testing.TB, d *db.DB) *harness {
	t.Helper()
	h := &harness{t: t, d: d, clock: fakeclock.New(fixture.Epoch), sender: &fakeSender{},
		profiles: &fakeProfiles{profile: channel.Profile{FirstName: "Dara", LastName: "Sok", Locale: "km_KH"}}}
	h.kr, _ = fixture.Keyring(t, d, h.clock.Now)
	h.channels = channel.NewStore(d, h.kr, h.clock.Now)
	h.contacts = contact.NewStore(d, h.kr, h.clock.Now)
	quiet := slog.New(slog.DiscardHandler)
	h.jobs = job.New(d, job.Options{Now: h.clock.Now, Log: quiet, PollInterval: 10 * time.Millisecond})
	h.sends = job.New(d, job.Options{Now: h.clock.Now, Log: quiet, PollInterval: 10 * time.Millisecond})
	h.svc = New(d, h.kr, Options{
		Now: h.clock.Now, Log: quiet, Channels: h.channels, Contacts: h.contacts,
		Senders:   map[channel.Type]channel.Sender{channel.Messenger: h.sender},
		Profiles:  map[channel.Type]channel.ProfileFetcher{channel.Messenger: h.profiles},
		Adapters:  map[channel.Type]func(channel.Content) ([]channel.Content, error){channel.Messenger: testAdapter},
		Responder: AutoReply{}, AppID: ourApp, Jobs: h.jobs, Sends: h.sends,
		Timeline: timeline.NewStore(d, h.kr, h.clock.Now),
	})
	if err := h.svc.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.ws = fixture.Workspace(t, d, h.kr)
	h.ch = fixture.Messenger(t, h.channels, h.ws, "page-"+h.ws, "page-token")
	var err error
	h.ch, err = h.channels.Configure(context.Background(), auditActor, h.ws, h.ch.ID, "Thanks! We'll get back to you.", channel.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// unprepared replaces the service by one whose statements all go through
// bun, as before Prepare.
func (h *harness) unprepared() {
	opt := h.svc.opt
	h.contacts = contact.NewStore(h.d, h.kr, h.clock.Now)
	opt.Contacts = h.contacts
	h.svc = New(h.d, h.kr, opt)
}

// bothPaths runs fn on a prepared service and on one whose statements all
// go through bun (as before Prepare): the two paths must agree.
func bothPaths(t *testing.T, d *db.DB, fn func(t *testing.T, h *harness)) {
	t.Helper()
	for _, prepared := range []bool{true, false} {
		name := "prepared"
		if !prepared {
			name = "bun"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, d)
			if !prepared {
				h.unprepared()
			}
			fn(t, h)
		})
	}
}

// ingest applies events in one transaction, as the webhook intake does.
func (h *harness) ingest(events ...channel.Inbound) Effects {
	h.t.Helper()
	eff, err := h.ingestOn(h.ch, events...)
	if err != nil {
		h.t.Fatal(err)
	}
	return eff
}

func (h *harness) ingestOn(ch channel.Channel, events ...channel.Inbound) (Effects, error) {
	var eff Effects
	err := h.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var err error
		eff, err = h.svc.Ingest(ctx, tx, ch, events)
		return err
	})
	return eff, err
}

// text is a text message from psid with platform ID mid, sent now.
func (h *harness) text(psid, mid, text string) channel.Inbound {
	return channel.Inbound{Type: channel.Messenger, Kind: channel.EventMessage, AccountID: h.ch.ExternalID, UserID: psid,
		At: h.clock.Now(), MID: mid, Content: channel.Content{Text: text}}
}

// echo is the echo of a message the page sent to psid.
func (h *harness) echo(psid, mid, appID, metadata, text string) channel.Inbound {
	return channel.Inbound{Type: channel.Messenger, Kind: channel.EventEcho, AccountID: h.ch.ExternalID, UserID: psid,
		At: h.clock.Now(), MID: mid, AppID: appID, Metadata: metadata, Content: channel.Content{Text: text}}
}

// queued is a job as stored in the jobs table.
type queued struct {
	ID        int64
	Kind      string
	Payload   idJob
	Key       string
	UniqueKey string
	State     string
}

// queuedJobs lists the jobs of a kind for the harness's workspace, oldest
// first.
func (h *harness) queuedJobs(kind string) []queued {
	h.t.Helper()
	var rows []struct {
		ID        int64   `bun:"id"`
		Kind      string  `bun:"kind"`
		Payload   []byte  `bun:"payload"`
		Key       *string `bun:"ordering_key"`
		UniqueKey *string `bun:"unique_key"`
		State     string  `bun:"state"`
	}
	if err := h.d.R.NewRaw(`SELECT id, kind, payload, ordering_key, unique_key, state FROM jobs WHERE kind = ? ORDER BY id`, kind).
		Scan(context.Background(), &rows); err != nil {
		h.t.Fatal(err)
	}
	var out []queued
	for _, r := range rows {
		q := queued{ID: r.ID, Kind: r.Kind, Key: str(r.Key), UniqueKey: str(r.UniqueKey), State: r.State}
		if err := json.Unmarshal(r.Payload, &q.Payload); err != nil {
			h.t.Fatal(err)
		}
		if q.Payload.WS == h.ws { // tests may share a database
			out = append(out, q)
		}
	}
	return out
}

// deleteJob removes a job the test ran by hand.
func (h *harness) deleteJob(id int64) {
	h.t.Helper()
	if _, err := h.d.W.NewRaw(`DELETE FROM jobs WHERE id = ?`, id).Exec(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// runSends runs every queued send job once, by hand, in order, removing
// those that finished or failed for good, and returns their results.
func (h *harness) runSends() []result {
	h.t.Helper()
	var out []result
	for _, j := range h.queuedJobs(KindSend) {
		r := h.svc.deliver(context.Background(), j.Payload, false)
		if r.action != retry {
			h.deleteJob(j.ID)
		}
		out = append(out, r)
	}
	return out
}

// runProfiles runs every queued profile job once, by hand.
func (h *harness) runProfiles(last bool) []error {
	h.t.Helper()
	var out []error
	for _, j := range h.queuedJobs(KindProfile) {
		err := h.svc.fetchProfile(context.Background(), j.Payload, last)
		if err == nil {
			h.deleteJob(j.ID)
		}
		out = append(out, err)
	}
	return out
}

// messages returns the conversation's messages, oldest first.
func (h *harness) messages(convID string) []Message {
	h.t.Helper()
	ms, err := h.svc.Messages(context.Background(), h.ws, convID, MaxLimit, "")
	if err != nil {
		h.t.Fatal(err)
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

// conversationOf returns the conversation of psid on the harness page.
func (h *harness) conversationOf(psid string) Conversation {
	h.t.Helper()
	c, err := h.svc.findConversation(context.Background(), h.d.R, h.ch, psid)
	if err != nil {
		h.t.Fatalf("conversation of %s: %v", psid, err)
	}
	return c
}

// count runs a count query.
func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

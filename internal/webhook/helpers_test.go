package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/gate"
	"github.com/parleyhq/parley/internal/webhook"
)

// The VERIFIED vectors of meta-platform.md §1.6 (app secret test_app_secret).
const (
	appSecret   = "test_app_secret"
	verifyToken = "meatyhamhock"

	asciiBody = `{"object":"page","entry":[{"id":"PAGE_ID","time":1458692752478,"messaging":[{"sender":{"id":"PSID"},"recipient":{"id":"PAGE_ID"},"timestamp":1458692752478,"message":{"mid":"mid.1457764197618:41d102a3e1ae206a38","text":"hello, world!"}}]}]}`
	asciiSig  = "sha256=eec1906d2e5dc1a43a1014f196b421cf9d7b6696ead890eadf906dbbfe03f791"
	asciiSHA1 = "sha1=0600f7e1796ae99ceee406bc24742ed367d67a2a"
	asciiMID  = "mid.1457764197618:41d102a3e1ae206a38"

	khmerEscaped    = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sok Dara"},"wa_id":"85512345678"}],"messages":[{"from":"85512345678","id":"wamid.TEST_KHMER_1","timestamp":"1749416383","type":"text","text":{"body":"\u179f\u17bd\u179f\u17d2\u178f\u17b8 \u1781\u17d2\u1789\u17bb\u17c6\u1785\u1784\u17cb\u1791\u17b7\u1789"}}]},"field":"messages"}]}]}`
	khmerEscapedSig = "sha256=f39d473327941e3373acc1692f241ce36018d54f36c46be3e17e3d7605141748"
	khmerRawSig     = "sha256=623c27181efee6bac08d5ec079640250663e78c03b090d4f1bf435e1a4deca58"

	pageID = "PAGE_ID"
)

// khmerRaw is the Khmer body with the characters as raw UTF-8 (472 bytes):
// the same JSON value as khmerEscaped, other bytes, another signature.
var khmerRaw = strings.Replace(khmerEscaped, khmerEscapes, khmerText, 1)

const (
	khmerEscapes = `\u179f\u17bd\u179f\u17d2\u178f\u17b8 \u1781\u17d2\u1789\u17bb\u17c6\u1785\u1784\u17cb\u1791\u17b7\u1789`
	khmerText    = "\u179f\u17bd\u179f\u17d2\u178f\u17b8 \u1781\u17d2\u1789\u17bb\u17c6\u1785\u1784\u17cb\u1791\u17b7\u1789"
)

// sign is the test's own HMAC-SHA256 signer, independent of package meta,
// so a bug there cannot hide in both.
func sign(body, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// waitLimit bounds every wait: generous for a loaded 2-core machine.
const waitLimit = 60 * time.Second

// waitFor polls cond until it holds or waitLimit passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLog() *slog.Logger {
	if os.Getenv("PARLEY_TEST_WEBHOOK_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// counter records Observe outcomes.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) observe(o string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[o]++
}

func (c *counter) get(o string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[o]
}

// env is one intake on one database, with a job queue (for the jobs an
// earlier version left) and a fake inbox.
type env struct {
	d       *db.DB
	master  *keyring.Master
	jobs    *job.Queue
	in      *webhook.Intake
	inbox   *fakeInbox
	counts  *counter
	handler http.Handler
	now     time.Time
	// held pauses processing (through Options.Paused) until env.process;
	// a test that sets its own Paused does without it.
	held atomic.Bool
}

// setup returns a started intake on d, processing registered but held
// (call env.process to let it go); edit adjusts its options first. The job
// queue is not started.
func setup(t testing.TB, d *db.DB, edit func(*webhook.Options)) *env {
	t.Helper()
	e := &env{d: d, inbox: &fakeInbox{}, counts: &counter{}, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e.held.Store(true)
	m, err := keyring.NewMaster(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.master = m
	clock := func() time.Time { return e.now }
	e.jobs = job.New(d, job.Options{Log: testLog(), PollInterval: 20 * time.Millisecond, Workers: 4, Now: time.Now})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		e.jobs.Stop(ctx)
	})
	opt := webhook.Options{
		Now: clock, Log: testLog(), AppSecrets: []string{appSecret}, VerifyToken: verifyToken,
		Master: m, Jobs: e.jobs, Channels: channel.NewStore(d, keyring.New(d, m, keyring.Options{Now: clock}), clock),
		Inbox: e.inbox, Observe: e.counts.observe,
		Paused: e.held.Load, PauseRetry: 10 * time.Millisecond,
		// Off unless a test turns it on: a test that holds processing on
		// a slow machine must not see its deliveries refused.
		MaxLag: -1,
	}
	if edit != nil {
		edit(&opt)
	}
	e.in = webhook.New(d, opt)
	e.in.Register()
	if err := e.in.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := e.in.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	mux := http.NewServeMux()
	for _, rt := range e.in.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, httpx.Serve(testLog(), httpx.WriteError, rt.Handler))
	}
	e.handler = mux
	return e
}

// process lets processing go: the held processor resumes and catches up
// with what was stored meanwhile.
func (e *env) process(t testing.TB) {
	t.Helper()
	e.held.Store(false)
}

// caughtUp lets processing go and waits until the processor has caught
// up with what was stored before (its start-up read of the database is
// over): a delivery stored from then on reaches it through memory only.
// Unlike settling a first delivery, it leaves no Notify of that delivery
// still to come, which a hold armed next could catch instead.
func (e *env) caughtUp(t testing.TB) {
	t.Helper()
	e.process(t)
	waitFor(t, "the processor to catch up", e.in.CaughtUp)
}

// post sends body with the given signature headers (none when sigs is
// empty) from the client address ip, through the handler.
func (e *env) post(body string, ip string, sigs ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewBufferString(body))
	r.Header.Set("Content-Type", "application/json")
	for _, s := range sigs {
		r.Header.Add(webhook.SignatureHeader, s)
	}
	if ip != "" {
		r.RemoteAddr = ip + ":4321"
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

// count runs a COUNT(*) query.
func count(t testing.TB, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.W.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func deliveries(t testing.TB, d *db.DB) int {
	return count(t, d, `SELECT COUNT(*) FROM webhook_deliveries`)
}

// pending counts the deliveries waiting for processing.
func pending(t testing.TB, d *db.DB) int {
	return count(t, d, `SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'`)
}

// processJobs counts jobs of the kind an earlier version enqueued per
// stored batch; nothing enqueues them any more.
func processJobs(t testing.TB, d *db.DB) int {
	return count(t, d, `SELECT COUNT(*) FROM jobs WHERE kind = ?`, webhook.Kind)
}

// stored is a delivery row as a test reads it.
type stored struct {
	ID         string    `bun:"id"`
	Source     string    `bun:"source"`
	Body       []byte    `bun:"body"`
	State      string    `bun:"state"`
	Error      string    `bun:"error"`
	ReceivedAt time.Time `bun:"received_at"`
}

func storedRows(t testing.TB, d *db.DB) []stored {
	t.Helper()
	var rows []stored
	if err := d.W.NewRaw(`SELECT id, source, body, state, error, received_at FROM webhook_deliveries ORDER BY id`).
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// connect creates a workspace with an active Messenger channel for page.
func connect(t testing.TB, d *db.DB, workspaceID, channelID, page string) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := d.W.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?, ?, 'trial', ?, ?)`,
		workspaceID, "Shop "+workspaceID, now, now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.NewRaw(`INSERT INTO channels (id, workspace_id, type, external_id, name, status, created_at, updated_at)
		VALUES (?, ?, 'messenger', ?, ?, 'active', ?, ?)`, channelID, workspaceID, page, "Page "+page, now, now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// The real inbox is what the app plugs in.
var _ webhook.Ingester = (*inbox.Service)(nil)

// fakeInbox stands in for inbox.Service: it stores one row per message ID
// through the processing transaction (so a rollback takes it back) and
// ignores duplicates, the way the inbox deduplicates redeliveries. It also
// writes every event it is given to test_applied, duplicates included, so
// a test can count how often a delivery was applied by a committed
// transaction, and it records the order of events and how many each
// transaction applied.
type fakeInbox struct {
	mu    sync.Mutex
	calls int
	fail  error     // returned (after writing) while set
	gate  gate.Gate // holds a Notify (see hold)
	mids  []string
	perTx map[*sql.Tx]int
}

const (
	ingestedTable = `CREATE TABLE test_ingested (mid TEXT PRIMARY KEY, channel_id TEXT NOT NULL, workspace_id TEXT NOT NULL)`
	appliedTable  = `CREATE TABLE test_applied (mid TEXT NOT NULL)`
)

func (f *fakeInbox) Ingest(ctx context.Context, tx bun.Tx, ch channel.Channel, events []channel.Inbound) (inbox.Effects, error) {
	f.mu.Lock()
	f.calls++
	fail := f.fail
	for _, ev := range events {
		f.mids = append(f.mids, ev.MID)
	}
	if f.perTx == nil {
		f.perTx = map[*sql.Tx]int{}
	}
	f.perTx[tx.Tx] += len(events)
	f.mu.Unlock()
	for _, ev := range events {
		if _, err := tx.NewRaw(`INSERT INTO test_ingested (mid, channel_id, workspace_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			ev.MID, ch.ID, ch.WorkspaceID).Exec(ctx); err != nil {
			return inbox.Effects{}, err
		}
		if _, err := tx.NewRaw(`INSERT INTO test_applied (mid) VALUES (?)`, ev.MID).Exec(ctx); err != nil {
			return inbox.Effects{}, err
		}
	}
	return inbox.Effects{Jobs: len(events)}, fail
}

// Notify wakes nothing: the fake queues no work. After hold, the next
// call holds the processor (outside any transaction) until released, so
// deliveries stored meanwhile pile up behind it.
func (f *fakeInbox) Notify(inbox.Effects) { f.gate.Pass() }

// hold makes the next Notify wait until the returned function is called;
// held is closed once it waits.
func (f *fakeInbox) hold() (held <-chan struct{}, release func()) { return f.gate.Hold() }

func (f *fakeInbox) setFail(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

func (f *fakeInbox) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// order is the MIDs in the order Ingest saw them, rolled-back attempts
// included.
func (f *fakeInbox) order() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.mids...)
}

// txSizes is how many events each transaction that called Ingest applied.
func (f *fakeInbox) txSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, n := range f.perTx {
		out = append(out, n)
	}
	return out
}

func createIngested(t testing.TB, d *db.DB) {
	t.Helper()
	for _, q := range []string{ingestedTable, appliedTable} {
		if _, err := d.W.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// applied counts the committed applications of each MID.
func appliedCounts(t testing.TB, d *db.DB) map[string]int {
	t.Helper()
	var mids []string
	if err := d.W.NewRaw(`SELECT mid FROM test_applied`).Scan(context.Background(), &mids); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range mids {
		out[m]++
	}
	return out
}

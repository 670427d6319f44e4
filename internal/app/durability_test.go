package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Durability test settings.
const (
	// killAfter acknowledged deliveries (plus up to killJitter more) the
	// process is killed, so the moment falls somewhere else in the
	// pipeline each run.
	killAfter  = 300
	killJitter = 300
	// killAfterReplies replies must have reached the Send API too.
	killAfterReplies = 20
	// loadWorkers post deliveries concurrently, loadRate per second in
	// all: faster than replies are processed, so at the kill there are
	// deliveries stored but not processed, sends queued and sends in
	// flight.
	loadWorkers = 16
	loadRate    = 400
	// drainLimit bounds the wait after the restart. The killed process's
	// jobs are reclaimed only when their leases run out (job.DefaultLease,
	// 30 s), and a send whose outcome was lost waits up to a minute for its
	// echo.
	drainLimit = 3 * time.Minute
	// sendLatency is how long the simulated Send API takes to answer.
	sendLatency = 100 * time.Millisecond
)

// security.md §3.M M-1, M-2: Parley is killed with SIGKILL while signed
// message webhooks pour in and replies go out, then restarted on the same
// data. Every delivery it acknowledged is processed after the restart: its
// message is stored exactly once and gets exactly one automatic reply,
// sent at most once to the Send API (never twice, even when the kill
// fell between the send and the recording of its result). Deliveries
// that were not acknowledged may be missing (Meta redelivers them), but
// what is stored is whole: one message, one reply.
func TestSIGKILLUnderLoadLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds parley and runs it as a subprocess under load")
	}
	bin := filepath.Join(t.TempDir(), "parley")
	build := exec.Command("go", "build", "-o", bin, "./cmd/parley")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/parley: %v\n%s", err, out)
	}
	for _, dialect := range dbtest.Dialects(t) {
		t.Run(string(dialect), func(t *testing.T) {
			// Most of the time is spent waiting for leases to run out
			// after the restart: the engines wait side by side.
			t.Parallel()
			killUnderLoad(t, bin, dialect)
		})
	}
}

func killUnderLoad(t *testing.T, bin string, dialect db.Dialect) {
	ctx := t.Context()
	dataDir := t.TempDir()
	var check *db.DB // opened on the same database once Parley has stopped
	dsn := ""
	if dialect == db.Postgres {
		check, dsn = dbtest.PostgresDSN(t) // an empty schema; Parley migrates it
	}

	// Meta: it redelivers what Parley did not acknowledge, long enough to
	// reach the restarted process, as the real one does for hours. Echoes
	// are off: a send whose answer the kill cut off then has no echo to
	// settle it, and the restarted process must decide alone, without
	// sending it again (M-3).
	sim := metasim.New(metasim.Options{NoEchoes: true, RetryDelays: []time.Duration{
		200 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
	}})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)

	addr := freeAddr(t)
	env := map[string]string{
		"PARLEY_ADDR":              addr,
		"PARLEY_DATA_DIR":          dataDir,
		"PARLEY_DATABASE_URL":      dsn,
		"PARLEY_SIMULATOR":         "off",
		"PARLEY_META_APP_ID":       sim.AppID(),
		"PARLEY_META_APP_SECRET":   sim.AppSecret(),
		"PARLEY_META_VERIFY_TOKEN": "durability-verify-token",
		"PARLEY_META_GRAPH_URL":    simURL,
		"PARLEY_META_DIALOG_URL":   simURL,
		"PARLEY_LOG_LEVEL":         "warn",
		"PARLEY_BCRYPT_COST":       "4",
	}
	p := startParley(t, bin, env)
	base := "http://" + addr
	sim.SetWebhookURL(base + "/webhooks/meta")
	// A Send API slow enough that sends are in flight at the kill: the
	// simulator records a send before it answers, so a kill in between
	// leaves a reply sent whose outcome Parley never learnt.
	sim.SetLatency("/messages", sendLatency)
	owner := sim.AddUser("Durability Owner")
	page := sim.AddPage(owner.ID, "Durability page")
	connectWithAutoReply(t, base, page)

	// Load: every delivery comes from a new person, so each conversation
	// holds one inbound message and must hold one reply.
	var (
		mu      sync.Mutex
		acked   = map[string]string{} // mid → PSID
		stop    atomic.Bool
		nAcked  atomic.Int64
		workers sync.WaitGroup
	)
	// The load is paced, so that by the kill replies are flowing too: the
	// kill then lands among deliveries stored but not processed, replies
	// queued and sends waiting for the Send API's answer.
	pace := time.NewTicker(time.Second / loadRate)
	defer pace.Stop()
	for range loadWorkers {
		workers.Go(func() {
			for !stop.Load() {
				select {
				case <-pace.C:
				case <-ctx.Done():
					return
				}
				psid := sim.AddPerson(page.ID, metasim.Person{FirstName: "Load", LastName: "Tester", Locale: "en_US"})
				mid, status, err := sim.SendText(ctx, page.ID, psid, "hello after a crash?")
				if err != nil || status != http.StatusOK {
					continue // not acknowledged: Meta (the simulator) redelivers it
				}
				mu.Lock()
				acked[mid] = psid
				mu.Unlock()
				nAcked.Add(1)
			}
		})
	}
	target := int64(killAfter + rand.IntN(killJitter))
	began := time.Now()
	waitUntil(t, time.Minute, "acknowledged deliveries and replies before the kill", func() bool {
		return nAcked.Load() >= target && len(sim.Sent(page.ID)) >= killAfterReplies
	})
	p.kill()
	stop.Store(true)
	workers.Wait()
	logBacklog(t, fmt.Sprintf("killed after %s of load", time.Since(began).Round(time.Millisecond)), dataDir, dsn, nAcked.Load())

	// Restart on the same data and address (the simulator's redeliveries
	// go there), and wait until every piece of work is done: no redelivery
	// left in the simulator, no delivery or job left in the database.
	p = startParley(t, bin, env)
	if err := waitIdle(ctx, sim, drainLimit); err != nil {
		t.Fatalf("simulator still delivering webhooks: %v", err)
	}
	waitDrained(t, p, dialect, dataDir, dsn)
	if err := p.stop(); err != nil {
		t.Fatalf("stop parley: %v\n%s", err, p.logs())
	}
	if dialect == db.SQLite {
		if check, err = db.Open(ctx, "", dataDir, db.Options{}); err != nil {
			t.Fatal(err)
		}
		defer check.Close()
	}
	verifyExactlyOnce(t, check, sim, page.ID, acked)
}

// verifyExactlyOnce proves the durability promises on the stopped
// Parley's database and the simulator's record of Send API calls.
func verifyExactlyOnce(t *testing.T, d *db.DB, sim *metasim.Sim, pageID string, acked map[string]string) {
	ctx := t.Context()
	var rows []struct {
		ID             string `bun:"id"`
		ConversationID string `bun:"conversation_id"`
		Direction      string `bun:"direction"`
		ExternalID     string `bun:"external_id"`
		Status         string `bun:"status"`
		ErrorCode      string `bun:"error_code"`
		PSID           string `bun:"psid"`
	}
	if err := d.R.NewRaw(`SELECT m.id, m.conversation_id, m.direction, COALESCE(m.external_id, '') AS external_id,
		m.status, m.error_code, c.external_id AS psid
		FROM messages m JOIN contacts c ON c.id = m.contact_id`).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	inbound := map[string]int{}   // mid → stored inbound messages
	replies := map[string][]int{} // conversation → indexes of its outbound messages
	convOf := map[string]string{} // mid → conversation
	for i, r := range rows {
		switch r.Direction {
		case "in":
			inbound[r.ExternalID]++
			convOf[r.ExternalID] = r.ConversationID
		case "out":
			replies[r.ConversationID] = append(replies[r.ConversationID], i)
		}
	}
	sends := map[string]int{} // PSID → Send API messages the simulator accepted
	for _, s := range sim.Sent(pageID) {
		sends[s.PSID]++
	}

	// M-1: every acknowledged delivery is stored, exactly once.
	lost := 0
	for mid := range acked {
		switch n := inbound[mid]; {
		case n == 0:
			lost++
		case n > 1:
			t.Errorf("message %s stored %d times", mid, n)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged deliveries were lost", lost, len(acked))
	}
	// M-2: every stored message (acknowledged or redelivered later) got
	// exactly one reply, which reached the Send API at most once; a reply
	// recorded as sent reached it exactly once.
	unknown := 0
	for mid, conv := range convOf {
		out := replies[conv]
		if len(out) != 1 {
			t.Errorf("message %s has %d automatic replies, want 1", mid, len(out))
			continue
		}
		r := rows[out[0]]
		switch n := sends[r.PSID]; {
		case n > 1:
			t.Errorf("the reply to %s was sent %d times to the Send API", mid, n)
		case r.Status == "sent" || r.Status == "delivered" || r.Status == "read":
			if n != 1 {
				t.Errorf("the reply to %s is %s but the Send API got it %d times", mid, r.Status, n)
			}
		case r.Status == "failed" && r.ErrorCode == "unknown_outcome":
			unknown++ // killed mid-call and no echo came: never resent
		default:
			t.Errorf("the reply to %s ended %s (%s), want sent", mid, r.Status, r.ErrorCode)
		}
	}
	var dead, pending int
	if err := d.R.NewRaw(`SELECT count(*) FROM jobs WHERE state = 'dead'`).Scan(ctx, &dead); err != nil {
		t.Fatal(err)
	}
	if err := d.R.NewRaw(`SELECT count(*) FROM webhook_deliveries`).Scan(ctx, &pending); err != nil {
		t.Fatal(err)
	}
	if dead > 0 || pending > 0 {
		t.Errorf("after the drain: %d dead jobs, %d webhook deliveries left (want none)", dead, pending)
	}
	t.Logf("%d acknowledged, %d stored in all, %d replies of unknown outcome, %d webhooks the simulator gave up",
		len(acked), len(convOf), unknown, len(sim.Failures()))
}

// parleyProc is a parley subprocess.
type parleyProc struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer // its stderr and stdout, for failures
	mu     *sync.Mutex
	exited chan struct{}
	err    error
}

// startParley runs bin serve with exactly env (plus PATH and HOME) and
// waits until /readyz answers 200.
func startParley(t *testing.T, bin string, env map[string]string) *parleyProc {
	t.Helper()
	p := &parleyProc{out: &bytes.Buffer{}, mu: &sync.Mutex{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	w := lockedWriter{p.mu, p.out}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	c := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + env["PARLEY_ADDR"] + "/readyz"
	waitUntil(t, time.Minute, "parley ready", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("parley exited before it was ready: %v\n%s", p.err, p.logs())
		default:
		}
		res, err := c.Get(url)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return p
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would,
// and reaps it.
func (p *parleyProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop shuts the process down gracefully (SIGTERM) and returns its exit
// status.
func (p *parleyProc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(time.Minute):
		p.kill()
		return fmt.Errorf("did not stop within a minute")
	}
}

func (p *parleyProc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// waitDrained polls the database from outside the process (WAL allows it
// on SQLite) until no webhook delivery is pending, no job is left but dead
// ones and no reply is queued or sending.
func waitDrained(t *testing.T, p *parleyProc, dialect db.Dialect, dataDir, dsn string) {
	t.Helper()
	d, err := db.Open(t.Context(), dsn, dataDir, db.Options{ReadConns: 1, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var left int
	ok := poll(drainLimit, func() bool {
		err := d.R.NewRaw(`SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending')
			+ (SELECT count(*) FROM jobs WHERE state <> 'dead')
			+ (SELECT count(*) FROM messages WHERE status IN ('queued','sending'))`).Scan(t.Context(), &left)
		return err == nil && left == 0
	})
	if !ok {
		t.Fatalf("%s: %d deliveries and jobs still pending %s after the restart\n%s", dialect, left, drainLimit, p.logs())
	}
}

// logBacklog records how much work the killed process left behind, to
// show the kill fell in the middle of the pipeline (what the test is for).
func logBacklog(t *testing.T, when, dataDir, dsn string, acked int64) {
	t.Helper()
	d, err := db.Open(t.Context(), dsn, dataDir, db.Options{ReadConns: 1, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n struct {
		Deliveries int `bun:"deliveries"`
		Jobs       int `bun:"jobs"`
		Inbound    int `bun:"inbound"`
		Sending    int `bun:"sending"`
		Sent       int `bun:"sent"`
	}
	if err := d.R.NewRaw(`SELECT (SELECT count(*) FROM webhook_deliveries) AS deliveries,
		(SELECT count(*) FROM jobs WHERE state <> 'dead') AS jobs,
		(SELECT count(*) FROM messages WHERE direction = 'in') AS inbound,
		(SELECT count(*) FROM messages WHERE status = 'sending') AS sending,
		(SELECT count(*) FROM messages WHERE direction = 'out' AND status <> 'queued' AND status <> 'sending') AS sent`).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d deliveries acknowledged; %d messages stored, %d deliveries not yet processed, %d jobs unfinished, %d replies sent, %d sends in flight",
		when, acked, n.Inbound, n.Deliveries, n.Jobs, n.Sent, n.Sending)
}

// connectWithAutoReply signs up, creates a workspace, connects the page by
// its token and sets an automatic reply, all through the JSON API.
func connectWithAutoReply(t *testing.T, base string, page metasim.Page) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	call := func(method, path string, in any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(in)
		req, _ := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, body)
		}
		var out map[string]any
		json.Unmarshal(body, &out)
		return out
	}
	call("POST", "/api/v1/auth/signup", map[string]any{"email": "durable@example.com", "password": "Durable-Passphrase-93b1f0", "age_confirmed": true}, http.StatusCreated)
	ws := call("POST", "/api/v1/workspaces", map[string]string{"name": "Durability"}, http.StatusCreated)["id"].(string)
	ch := call("POST", "/api/v1/workspaces/"+ws+"/channels", map[string]string{"type": "messenger", "page_id": page.ID, "access_token": page.Token}, http.StatusCreated)["id"].(string)
	call("PUT", "/api/v1/workspaces/"+ws+"/channels/"+ch+"/settings", map[string]string{"auto_reply": "We got your message."}, http.StatusOK)
}

// freeAddr returns a loopback address with a port nobody listens on. The
// restarted process reuses it, so the simulator's redeliveries find it.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitIdle waits until the simulator has no webhook in flight or waiting
// for a redelivery.
func waitIdle(ctx context.Context, sim *metasim.Sim, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return sim.WaitIdle(ctx)
}

// waitUntil polls cond until it holds, failing the test after limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(limit, cond) {
		t.Fatalf("timed out after %s waiting for %s", limit, what)
	}
}

func poll(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

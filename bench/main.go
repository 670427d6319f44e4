// Command bench is Parley's load benchmark (`make bench`, or `go run
// ./bench`). It builds bin/parley, runs it as a subprocess on SQLite in a
// temporary directory with an in-process Meta simulator (internal/metasim)
// standing in for the Graph API, drives it the way Meta and a customer
// would, and prints one `BENCH <name> <value> <unit>` line per figure on
// stdout (a readable summary goes to stderr). Everything talks to
// 127.0.0.1 only, and the whole run is bounded in count and time (about
// a minute and a half on a 2-core machine, never more than runLimit).
//
// The scenarios, in order (each starts once Parley has drained the
// previous one's work):
//
//   - flow (scenario_flow.go): trigger matching, in this process, against
//     1,000 keyword triggers; and the flow runner's CPU per executed
//     message node;
//   - ingest (scenario_ingest.go): webhook intake throughput, closed loop,
//     and acknowledgement latency at a fixed 2,000 deliveries/s;
//   - reply (scenario_reply.go): an inbound text to an automatic reply
//     arriving at the Send API, at 1,000 messages/s over 10 Pages, with
//     Parley's CPU per message; then the same load against a Send API that
//     answers after 200 ms;
//   - overload (scenario_overload.go): capacity, then twice that offered
//     for 15 s: goodput, resets, latency, memory, recovery and, once Parley
//     has stopped, a check in its database that nothing acknowledged was
//     lost;
//   - floor (scenario_floor.go): the reply scenario's load against a Go
//     service that only verifies, parses and answers over the same HTTP
//     exchanges and stores nothing: the CPU per message no implementation
//     can go below on this machine, printed beside Parley's;
//   - memory (scenario_memory.go): another Parley process on the issue's
//     data set of two million contacts and a million conversations
//     (generated once and cached, copied per run): resident memory idle,
//     and conversation list calls through the API. It has its own time
//     bounds (generating the set takes minutes); BENCH_NO_DATASET=1 skips
//     it.
//
// Files: parley.go controls the subprocess; load.go holds the HTTP poster
// and the open- and closed-loop generators; stats.go the percentiles;
// replies.go times replies through the simulator's OnSend hook; store.go
// reads Parley's database from outside.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/metasim"
)

func main() {
	if os.Getenv(floorAddrEnv) != "" {
		if err := floorMain(); err != nil {
			fmt.Fprintln(os.Stderr, "bench floor service:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Bounds of the whole run.
const (
	runLimit      = 4 * time.Minute // hard stop; a run takes about a minute and a half
	pageCount     = 10
	peoplePerPage = 200         // the fixed pool of people writing to each Page
	drainLimit    = time.Minute // for one scenario's backlog
)

// bench is one run: the simulator, the Parley process, and what the
// scenarios share.
type bench struct {
	sim     *metasim.Sim
	parley  *Parley
	store   *store
	poster  *Poster
	replies *tracker
	bin     string            // the parley binary
	secret  string            // the Meta app secret webhooks are signed with
	pages   []string          // connected Page IDs
	tokens  map[string]string // their Page access tokens, by ID
	simURL  string            // the simulator's Graph API root
	people  []person          // the pool, spread over the pages
	out     *report
	// acked holds every acknowledged message ID to a connected page, by
	// scenario, for the final loss check.
	acked map[string][]string
	// ackBaseline is the acknowledgement p99 at 2,000/s: "normal" for the
	// overload's recovery.
	ackBaseline time.Duration
	// debugAddr serves Parley's profiler when BENCH_PROFILE asks for one.
	debugAddr string
}

// person is a simulated Messenger user of one page.
type person struct{ page, psid string }

func run(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, runLimit)
	defer cancel()
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	bin := filepath.Join(root, "bin", "parley")
	fmt.Fprintln(os.Stderr, "bench: building", bin)
	if err := buildParley(ctx, root, bin); err != nil {
		return err
	}

	b := &bench{replies: newTracker(), bin: bin, out: &report{}, acked: map[string][]string{}, tokens: map[string]string{}}
	// Echoes stay on, as on Meta for an app subscribed to message_echoes:
	// every reply comes back to Parley as a webhook, and processing it is
	// part of a reply's cost.
	b.sim = metasim.New(metasim.Options{OnSend: b.replies.onSend})
	simURL, err := b.sim.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	b.simURL = simURL
	defer b.sim.Close()
	b.secret = b.sim.AppSecret()

	data := filepath.Join(dir, "data")
	if os.Getenv(profileEnv) != "" {
		if b.debugAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	logFile := filepath.Join(dir, "parley.log")
	b.parley, err = startParley(ctx, bin, logFile, map[string]string{
		"PARLEY_DATA_DIR":          data,
		"PARLEY_SIMULATOR":         "off",
		"PARLEY_META_APP_ID":       b.sim.AppID(),
		"PARLEY_META_APP_SECRET":   b.secret,
		"PARLEY_META_VERIFY_TOKEN": "bench-verify-token",
		"PARLEY_META_GRAPH_URL":    simURL,
		"PARLEY_META_DIALOG_URL":   simURL,
		"PARLEY_LOG_LEVEL":         "warn",
		"PARLEY_BCRYPT_COST":       "4",
		"PARLEY_DEBUG_ADDR":        b.debugAddr,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			fmt.Fprintln(os.Stderr, tail(logFile, 4000))
		}
	}()
	defer b.parley.Kill() // no-op once stopped
	b.sim.SetWebhookURL(b.parley.URL + "/webhooks/meta")
	b.poster = newPoster(b.parley.URL+"/webhooks/meta", maxInFlight)
	defer b.poster.Close()

	if b.store, err = openStore(ctx, data); err != nil {
		return err
	}
	defer func() {
		if b.store != nil {
			b.store.Close()
		}
	}()
	if err = b.setup(ctx); err != nil {
		return err
	}
	for _, sc := range []struct {
		name string
		run  func(context.Context) error
	}{{"flow", b.flowMatch}, {"ingest", b.ingest}, {"reply", b.reply}, {"overload", b.overload}, {"floor", b.floor}} {
		if !wanted(sc.name) {
			continue
		}
		if err = sc.run(ctx); err != nil {
			return err
		}
	}
	// The loss check reads the database afresh once Parley has stopped.
	b.store.Close()
	b.store = nil
	if err = b.parley.Stop(30 * time.Second); err != nil {
		return fmt.Errorf("stop parley: %w", err)
	}
	if err = b.checkLoss(ctx, data); err != nil {
		return err
	}
	if wanted("memory") {
		// Not bounded by runLimit: generating the data set takes minutes.
		if err = b.memory(parent); err != nil {
			return err
		}
	}
	b.out.summary()
	return nil
}

// setup connects the pages through the API, then has every person of the
// pool write once, which opens their messaging windows in the simulator and
// creates their contacts and conversations: the scenarios then measure a
// steady state of people already talking to the business.
func (b *bench) setup(ctx context.Context) error {
	owner := b.sim.AddUser("Bench Owner")
	var creds []pageCred
	for i := range pageCount {
		p := b.sim.AddPage(owner.ID, fmt.Sprintf("Bench page %d", i+1))
		creds = append(creds, pageCred{ID: p.ID, Token: p.Token})
		b.pages = append(b.pages, p.ID)
		b.tokens[p.ID] = p.Token
	}
	if _, err := setupWorkspace(ctx, b.parley.URL, creds); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	for i := range pageCount * peoplePerPage {
		pg := b.pages[i%pageCount]
		psid := b.sim.AddPerson(pg, metasim.Person{FirstName: "Bench", LastName: fmt.Sprint(i), Locale: "en_US"})
		b.people = append(b.people, person{page: pg, psid: psid})
	}
	start := time.Now()
	var failed atomic.Int64
	forEach(len(b.people), 32, func(i int) {
		p := b.people[i]
		if _, status, err := b.sim.SendText(ctx, p.page, p.psid, "hello"); err != nil || status != 200 {
			failed.Add(1)
		}
	})
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("setup: %d warm-up messages not acknowledged", n)
	}
	if err := b.settle(ctx, len(b.people)); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: %d pages connected, %d people warmed up in %s\n", pageCount, len(b.people), time.Since(start).Round(time.Millisecond))
	return nil
}

// settle waits until the replies a scenario expects (one per acknowledged
// message since the last reset) have arrived, the simulator has delivered
// every echo and Parley has no work left.
func (b *bench) settle(ctx context.Context, wantReplies int) error {
	if !b.replies.waitCount(ctx, wantReplies, drainLimit) {
		return fmt.Errorf("only %d of %d replies arrived within %s", b.replies.count(), wantReplies, drainLimit)
	}
	return b.drain(ctx)
}

// drain waits for the simulator's background deliveries (echoes) and then
// for Parley's backlog.
func (b *bench) drain(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, drainLimit)
	defer cancel()
	if err := b.sim.WaitIdle(wctx); err != nil {
		return fmt.Errorf("simulator still delivering webhooks: %w", err)
	}
	return b.store.waitDrained(ctx, drainLimit)
}

package inbox

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dataset"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// counter counts the statements bun runs on a database.
type counter struct{ n atomic.Int64 }

func (c *counter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (c *counter) AfterQuery(context.Context, *bun.QueryEvent)                        { c.n.Add(1) }

// The hot path stays lean: a text message from a known person, answered by
// the automatic reply, costs a fixed, small number of statements. The
// service here is not prepared, so every statement goes through bun and is
// counted (the job queue, not started, does the same). The bound catches an
// N+1 creeping in; the figure is logged.
func TestIngestStatementCount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.unprepared()
		h.ingest(h.text("psid-1", "m_0", "first message: creates the contact"))
		h.runProfiles(false)
		c := &counter{}
		d.W.AddQueryHook(c)
		h.ingest(h.text("psid-1", "m_1", "hello again"))
		n := c.n.Load() - 2 // BEGIN and COMMIT
		t.Logf("statements for one known person's message and its automatic reply: %d (%s)", n, d.Dialect)
		const bound = 12 // 11 on SQLite, +1 advisory lock on PostgreSQL
		if n > bound {
			t.Errorf("%d statements, want at most %d", n, bound)
		}
	})
}

// BenchmarkIngest measures the hot path, prepared: events from 100 known
// people (profiles fetched), each answered by the automatic reply
// (enqueued, not sent), one event per transaction and in batches of 16 (as
// the webhook intake's group commit makes them); ns/op is per event.
func BenchmarkIngest(b *testing.B) {
	dialects := []db.Dialect{db.SQLite}
	if os.Getenv(dbtest.EnvPostgres) != "" {
		dialects = append(dialects, db.Postgres)
	}
	for _, dl := range dialects {
		for _, batch := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/batch=%d", dl, batch), func(b *testing.B) {
				d := dbtest.Open(b, dl)
				h := newHarness(b, d)
				if err := h.sends.Start(context.Background()); err != nil { // prepares the enqueue statements
					b.Fatal(err)
				}
				b.Cleanup(func() { h.sends.Stop(context.Background()) })
				for i := range 100 {
					if _, err := h.ingestOn(h.ch, h.text(fmt.Sprint("psid-", i), fmt.Sprint("warm-", i), "hi")); err != nil {
						b.Fatal(err)
					}
				}
				h.runProfiles(false)
				b.ResetTimer()
				events := make([]channel.Inbound, 0, batch)
				for i := range b.N {
					events = append(events, h.text(fmt.Sprint("psid-", i%100), fmt.Sprint("m_", i), "hello, I would like to book a table for two"))
					if len(events) == batch || i == b.N-1 {
						if _, err := h.ingestOn(h.ch, events...); err != nil {
							b.Fatal(err)
						}
						events = events[:0]
					}
				}
			})
		}
	}
}

// BenchmarkInboxList measures List on the data set — one workspace
// of two million contacts and a million conversations on SQLite
// (testutil/dataset, generated once and cached under os.TempDir()) — one
// call per iteration, in turn: the first page, a deep keyset page (after
// the 10,000th conversation) and a common filter (open, unassigned). It
// reports the 99th percentile latency of all calls as inbox_list_p99_ms
// (target ≤ 30) and of each case; the log has the medians.
// PARLEY_BENCH_CONTACTS sets a smaller set (half as many conversations)
// for a quick run.
func BenchmarkInboxList(b *testing.B) {
	if testing.Short() {
		b.Skip("needs the generated data set of two million contacts")
	}
	ctx := context.Background()
	size := dataset.Full()
	if s := os.Getenv("PARLEY_BENCH_CONTACTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("PARLEY_BENCH_CONTACTS=%q", s)
		}
		size = dataset.Size{Contacts: n, Conversations: n / 2}
	}
	set, err := dataset.Ensure(ctx, size, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	d, kr, err := set.Open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	svc := New(d, kr, Options{Contacts: contact.NewStore(d, kr, time.Now)})
	ws := set.WorkspaceID

	const deep = 10_000
	var at []time.Time
	var id []string
	if err := d.R.NewRaw(`SELECT last_activity_at, id FROM conversations WHERE workspace_id = ?
		ORDER BY last_activity_at DESC, id DESC LIMIT 1 OFFSET ?`, ws, min(deep, size.Conversations/2)-1).Scan(ctx, &at, &id); err != nil || len(id) != 1 {
		b.Fatalf("position of the deep page: %v", err)
	}
	cases := []struct {
		name string
		opt  ListOptions
	}{
		{"first", ListOptions{}},
		{"deep", ListOptions{Cursor: cursor{at: at[0].UTC(), id: id[0]}.encode()}},
		{"open_unassigned", ListOptions{Status: []Status{StatusOpen}, Assignee: Unassigned}},
	}
	// Warm the caches (pages, keys) the way a running server's are.
	for range 10 {
		for _, c := range cases {
			if _, err := svc.List(ctx, ws, c.opt); err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
		}
	}
	took := make([][]time.Duration, len(cases))
	var all []time.Duration
	cpu0 := cpuTime(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % len(cases)
		t0 := time.Now()
		p, err := svc.List(ctx, ws, cases[k].opt)
		el := time.Since(t0)
		if err != nil {
			b.Fatalf("%s: %v", cases[k].name, err)
		}
		if len(p.Conversations) == 0 {
			b.Fatalf("%s: empty page", cases[k].name)
		}
		took[k] = append(took[k], el)
		all = append(all, el)
	}
	b.StopTimer()
	// Processor time per call does not grow when other processes share
	// the machine, as the latencies do.
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu_ms/op")
	b.ReportMetric(percentileMS(all, 99), "inbox_list_p99_ms")
	summary := fmt.Sprintf("%d contacts, %d conversations, database %d MB;", size.Contacts, size.Conversations, set.Bytes()>>20)
	for k, c := range cases {
		b.ReportMetric(percentileMS(took[k], 99), c.name+"_p99_ms")
		summary += fmt.Sprintf(" %s p50 %.2f ms p99 %.2f ms;", c.name, percentileMS(took[k], 50), percentileMS(took[k], 99))
	}
	if b.N > 1 { // not the one-call probe run
		b.Log(summary)
	}
}

// cpuTime is the processor time this process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// percentileMS is the p-th percentile of ds in milliseconds.
func percentileMS(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)*p-1)/100]) / float64(time.Millisecond)
}

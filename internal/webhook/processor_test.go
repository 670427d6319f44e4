package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// never is a periodic catch-up that does not come within a test, so
// whatever is applied was found by the processor's own catch-up.
const never = time.Hour

// When deliveries arrive faster than the processor applies them and its
// in-memory backlog is full, the writer does not wait: memory is dropped
// and the processor reads the database instead, in arrival order, until
// it has caught up. Nothing is lost or applied twice, and the order holds.
func TestBacklogOverflow(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*webhook.Options)
	}{
		{"by count", func(o *webhook.Options) { o.BacklogMax = 4 }},
		{"by bytes", func(o *webhook.Options) { o.BacklogBytes = 2 * len(messageBody(pageID, "m.overflow.00")) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				createIngested(t, d)
				connect(t, d, "ws-1", "ch-1", pageID)
				e := setup(t, d, func(o *webhook.Options) {
					o.CatchUpEvery = never
					o.ApplyMax = 5
					c.edit(o)
				})
				e.process(t)
				held, release := e.inbox.hold()
				defer release()
				want := []string{"m.overflow.first"}
				accept(t, e, messageBody(pageID, want[0]))
				<-held // the processor is busy: the next deliveries pile up
				for i := range 30 {
					mid := fmt.Sprintf("m.overflow.%02d", i)
					want = append(want, mid)
					accept(t, e, messageBody(pageID, mid))
				}
				if n := e.in.Backlog(); n > 4 {
					t.Fatalf("%d deliveries held in memory, more than the bound", n)
				}
				release()
				settle(t, d)
				if got := e.inbox.order(); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("applied in order %v, want %v", got, want)
				}
				got := appliedCounts(t, d)
				for _, mid := range want {
					if got[mid] != 1 {
						t.Errorf("%s applied %d times, want once", mid, got[mid])
					}
				}
				// Back to memory afterwards.
				accept(t, e, messageBody(pageID, "m.overflow.after"))
				settle(t, d)
				if n := appliedCounts(t, d)["m.overflow.after"]; n != 1 {
					t.Errorf("after catching up: applied %d times, want once", n)
				}
			})
		})
	}
}

// Stop lets the processor finish the transaction it is in and leaves the
// rest pending; the next start applies it at once, without waiting for a
// lease or the periodic catch-up.
func TestStopLeavesRestPendingAndStartAppliesIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		first := setup(t, d, func(o *webhook.Options) { o.CatchUpEvery = never })
		first.process(t)
		held, release := first.inbox.hold()
		defer release()
		accept(t, first, messageBody(pageID, "m.stop.0"))
		<-held // committed; the processor waits after it
		var want []string
		for i := range 5 {
			mid := fmt.Sprintf("m.stop.%d", i+1)
			want = append(want, mid)
			accept(t, first, messageBody(pageID, mid))
		}
		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			stopped <- first.in.Stop(ctx)
		}()
		<-first.in.WriterDone() // stopping: the processor exits after this transaction
		release()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if n := pending(t, d); n != 5 {
			t.Fatalf("%d deliveries pending after Stop, want the 5 not yet applied", n)
		}
		if got := appliedCounts(t, d); got["m.stop.0"] != 1 || len(got) != 1 {
			t.Fatalf("applied before Stop: %v, want m.stop.0 only", got)
		}

		// A new process on the same database: no job queue, no periodic
		// catch-up; its start alone finds the deliveries.
		second := setup(t, d, func(o *webhook.Options) { o.CatchUpEvery = never })
		second.process(t)
		settle(t, d)
		if got := second.inbox.order(); !slices.Equal(got, want) {
			t.Errorf("after the restart applied %v, want %v", got, want)
		}
		got := appliedCounts(t, d)
		for _, mid := range append(want, "m.stop.0") {
			if got[mid] != 1 {
				t.Errorf("%s applied %d times, want once", mid, got[mid])
			}
		}
	})
}

// Two processes on one database, as two replicas: each stores what it
// receives and, catching up continually, also reads what the other
// stored. However their reads overlap, no delivery is applied twice and
// none is missed. (On PostgreSQL the advisory lock serialises their
// transactions; the claim decides who applies what.)
func TestTwoProcessors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		fast := func(o *webhook.Options) {
			o.ApplyMax = 4
			o.CatchUpEvery = time.Millisecond // both read the database all the time
		}
		a, b := setup(t, d, fast), setup(t, d, fast)
		a.process(t)
		b.process(t)
		const n = 200
		var wg sync.WaitGroup
		var bad sync.Map
		for i := range n {
			e := a
			if i%2 == 1 {
				e = b
			}
			wg.Go(func() {
				body := messageBody(pageID, fmt.Sprintf("m.two.%03d", i))
				if w := e.post(body, "", sign(body, appSecret)); w.Code != http.StatusOK {
					bad.Store(i, w.Code)
				}
			})
		}
		wg.Wait()
		bad.Range(func(k, v any) bool { t.Errorf("delivery %v: status %v", k, v); return true })
		settle(t, d)
		got := appliedCounts(t, d)
		for i := range n {
			if mid := fmt.Sprintf("m.two.%03d", i); got[mid] != 1 {
				t.Errorf("%s applied %d times, want once", mid, got[mid])
			}
		}
		// Which process applied what is up to timing; log it.
		t.Logf("events seen by Ingest (rolled-back attempts included): a %d, b %d", len(a.inbox.order()), len(b.inbox.order()))
	})
}

// Processing jobs an earlier version left in the queue are still handled:
// each makes the processor catch up from the database, which applies
// their deliveries (and anything else pending), and succeeds, also when
// its deliveries are long gone.
func TestOldProcessJobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, func(o *webhook.Options) { o.CatchUpEvery = never })
		e.process(t)
		accept(t, e, messageBody(pageID, "m.old.warmup"))
		settle(t, d) // the processor works from memory now

		// A delivery stored the way the earlier version did, with its job;
		// this process never held it in memory.
		id := uuid.Must(uuid.NewV7()).String()
		body := messageBody(pageID, "m.old")
		sealed, err := e.master.SealPlatform([]byte(body), keyring.AAD{Table: "webhook_deliveries", Column: "body", Row: id})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := d.W.NewRaw(`INSERT INTO webhook_deliveries (id, source, body, state, error, received_at) VALUES (?, 'meta', ?, 'pending', '', ?)`,
			id, sealed, e.now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, ids := range [][]string{{id}, {"0190c0de-0000-7000-8000-000000000000"}} {
			if _, err := e.jobs.Enqueue(ctx, nil, webhook.Kind, map[string]any{"ids": ids}); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.jobs.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the old jobs to finish", func() bool { return count(t, d, `SELECT COUNT(*) FROM jobs`) == 0 })
		settle(t, d)
		if n := appliedCounts(t, d)["m.old"]; n != 1 {
			t.Errorf("the old job's delivery applied %d times, want once", n)
		}
	})
}

// A processing transaction applies at most ApplyMax deliveries, from
// memory and from the database alike, so the writer is never held long.
func TestChunkSize(t *testing.T) {
	const applyMax, n = 3, 20
	for _, from := range []string{"memory", "database"} {
		t.Run(from, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				createIngested(t, d)
				connect(t, d, "ws-1", "ch-1", pageID)
				e := setup(t, d, func(o *webhook.Options) {
					o.ApplyMax = applyMax
					o.CatchUpEvery = never
				})
				release := func() {}
				if from == "memory" {
					e.process(t)
					var held <-chan struct{}
					held, release = e.inbox.hold()
					defer release()
					accept(t, e, messageBody(pageID, "m.chunk.first"))
					<-held
				}
				// Concurrent requests, so the writer stores them in
				// batches larger than a chunk.
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						body := messageBody(pageID, fmt.Sprintf("m.chunk.%d", i))
						e.post(body, "", sign(body, appSecret))
					})
				}
				wg.Wait()
				if from == "memory" {
					if got := e.in.Backlog(); got != n {
						t.Fatalf("%d deliveries held in memory, want %d", got, n)
					}
					release()
				} else {
					e.process(t)
				}
				settle(t, d)
				sizes := e.inbox.txSizes()
				for _, s := range sizes {
					if s > applyMax {
						t.Errorf("a transaction applied %d deliveries, more than %d", s, applyMax)
					}
				}
				got := appliedCounts(t, d)
				for i := range n {
					if mid := fmt.Sprintf("m.chunk.%d", i); got[mid] != 1 {
						t.Errorf("%s applied %d times, want once", mid, got[mid])
					}
				}
				if len(sizes) < n/applyMax {
					t.Errorf("%d transactions for %d deliveries, want at least %d", len(sizes), n, n/applyMax)
				}
			})
		})
	}
}

package job

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// states lists the state of each job in id order.
func states(t *testing.T, d *db.DB) []State {
	t.Helper()
	var out []State
	if err := d.R.NewRaw(`SELECT state FROM jobs ORDER BY id`).Scan(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Only the earliest unfinished job of a key is pending; the others wait
// outside the claim index until it finishes or dies.
func TestKeyedJobsWaitBehindTheirHead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{})
		mustEnqueue(t, q, "k", nil, Key("a"))
		mustEnqueue(t, q, "k", nil, Key("a"))
		mustEnqueue(t, q, "k", nil, Key("b"))
		mustEnqueue(t, q, "k", nil)
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := q.Enqueue(ctx, tx, "k", nil, Key("a"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []State{Pending, Waiting, Pending, Pending, Waiting}
		if diff := cmp.Diff(want, states(t, d)); diff != "" {
			t.Errorf("states (-want +got):\n%s", diff)
		}
		if s, err := q.Stats(ctx); err != nil || s != (Stats{Pending: 3, Waiting: 2}) {
			t.Errorf("stats = %+v, %v", s, err)
		}
	})
}

// A waiting job whose head vanished without promoting it (a process died
// between the two on PostgreSQL) is found and run by any queue.
func TestRepairPromotesStrandedJobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{})
		ran := make(chan string, 4)
		q.Register("k", func(ctx context.Context, j *Job) error {
			var s string
			j.Decode(&s)
			ran <- s
			return nil
		})
		head := mustEnqueue(t, q, "k", "head", Key("a"))
		mustEnqueue(t, q, "k", "stranded", Key("a"))
		mustEnqueue(t, q, "k", "behind", Key("a"))
		if _, err := d.W.NewRaw(`DELETE FROM jobs WHERE id = ?`, head).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		start(t, q)
		got := []string{recv(t, ran, "the stranded job"), recv(t, ran, "the job behind it")}
		if diff := cmp.Diff([]string{"stranded", "behind"}, got); diff != "" {
			t.Errorf("ran (-want +got):\n%s", diff)
		}
	})
}

// On PostgreSQL a producer's uncommitted job is invisible when the key's
// head finishes. The queue must not promote past it, nor forget it: the
// promotion waits until the producer commits. (SQLite has one writer, so a
// producer's transaction and a round never overlap.)
func TestPromotionWaitsForProducerCommit(t *testing.T) {
	d := dbtest.Postgres(t)
	ctx := context.Background()
	// Housekeeping (and so repair) runs every Lease/3: far beyond this
	// test's waits, so only the postponed promotion can run the new job.
	q := newQueue(t, d, Options{Lease: 10 * time.Minute})
	started := make(chan string, 4)
	proceed := make(chan struct{})
	q.Register("k", func(ctx context.Context, j *Job) error {
		var s string
		j.Decode(&s)
		started <- s
		if s == "head" {
			<-proceed
		}
		return nil
	})
	start(t, q)
	mustEnqueue(t, q, "k", "head", Key("conv"))
	recv(t, started, "the head")

	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := q.Enqueue(ctx, tx, "k", "next", Key("conv")); err != nil {
		t.Fatal(err)
	}
	close(proceed) // the head finishes while the producer holds the key
	waitFor(t, "the head to be deleted", func() bool { return len(states(t, d)) == 0 })
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	q.Notify()
	if got := recv(t, started, "the next job"); got != "next" {
		t.Errorf("ran %q, want next", got)
	}
}

// Jobs sharing an ordering key never overlap and run in the order they were
// enqueued — across retries and across two queues sharing the database —
// while jobs with different keys run concurrently.
func TestPerKeyOrdering(t *testing.T) {
	eachShared(t, func(t *testing.T, d1, d2 *db.DB) {
		const keys, perKey = 3, 50
		type state struct {
			active bool
			next   int
		}
		var (
			mu       sync.Mutex
			st       = map[string]*state{}
			problems []string
			firsts   = make(chan struct{}, keys)
			together = make(chan struct{})
			finished = make(chan struct{}, keys*perKey)
		)
		lock, unlock := mu.Lock, mu.Unlock
		for k := range keys {
			st[fmt.Sprint("conv-", k)] = &state{}
		}
		go func() {
			for range keys {
				<-firsts
			}
			close(together)
		}()
		type item struct{ Seq int }
		handler := func(ctx context.Context, j *Job) error {
			var it item
			if err := j.Decode(&it); err != nil {
				return err
			}
			lock()
			s := st[j.Key]
			if s.active {
				problems = append(problems, fmt.Sprintf("%s: job %d started while another job of the key ran", j.Key, it.Seq))
			}
			if it.Seq != s.next {
				problems = append(problems, fmt.Sprintf("%s: job %d ran when %d was next", j.Key, it.Seq, s.next))
			}
			s.active = true
			unlock()

			if it.Seq == 0 && j.Attempts == 1 {
				// Every key's first job waits here for the others: this
				// only completes if different keys run at the same time.
				firsts <- struct{}{}
				select {
				case <-together:
				case <-time.After(waitLimit):
					lock()
					problems = append(problems, "the first jobs of different keys did not run concurrently")
					unlock()
				}
			}
			time.Sleep(200 * time.Microsecond) // widen the window an overlap would need

			fail := it.Seq%7 == 3 && j.Attempts == 1
			lock()
			s.active = false
			if !fail {
				s.next++
			}
			unlock()
			if fail {
				return errors.New("transient")
			}
			finished <- struct{}{}
			return nil
		}
		var qs []*Queue
		for _, d := range []*db.DB{d1, d2} {
			q := newQueue(t, d, Options{Workers: 4})
			q.Register("ordered", handler, Backoff(time.Millisecond, 5*time.Millisecond))
			qs = append(qs, q)
		}
		// Enqueue everything first, interleaving keys, then start both.
		for i := range perKey {
			for k := range keys {
				mustEnqueue(t, qs[0], "ordered", item{i}, Key(fmt.Sprint("conv-", k)))
			}
		}
		for _, q := range qs {
			start(t, q)
		}
		for range keys * perKey {
			recv(t, finished, "every job to finish")
		}
		lock()
		defer unlock()
		for _, p := range problems {
			t.Error(p)
		}
		for k, s := range st {
			if s.next != perKey {
				t.Errorf("%s ran %d jobs, want %d", k, s.next, perKey)
			}
		}
	})
}

// A dead job does not block later jobs with its key.
func TestDeadJobDoesNotBlockItsKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q := newQueue(t, d, Options{})
		ran := make(chan string, 4)
		q.Register("step", func(ctx context.Context, j *Job) error {
			var s string
			j.Decode(&s)
			ran <- s
			if s == "first" {
				return Permanent(errors.New("broken"))
			}
			return nil
		})
		start(t, q)
		mustEnqueue(t, q, "step", "first", Key("c"))
		mustEnqueue(t, q, "step", "second", Key("c"))
		if got := []string{recv(t, ran, "first"), recv(t, ran, "second")}; !cmp.Equal(got, []string{"first", "second"}) {
			t.Errorf("ran %v", got)
		}
	})
}

// The hot statements use their indexes on SQLite — with no statistics and
// with statistics that make a busy key look cheap to scan for — so their
// cost does not grow with the backlog.
func TestSQLiteQueriesUseIndexes(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	q := newQueue(t, d, Options{})
	now := time.Now().UTC()
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for i := range 3000 {
			key := "hot"
			if i%3 == 0 {
				key = fmt.Sprint("k", i)
			}
			if _, err := q.insert(ctx, tx, newRow{kind: "a", key: key, payload: []byte{}, runAt: now, now: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stmts := map[string]string{
		"claim":   claimSQL(db.SQLite, 2),
		"insert":  insertKeyedSQLite,
		"promote": promoteSQL(4),
		"delete":  deleteSQL(4),
		"release": releaseSQL(4),
	}
	for _, stats := range []bool{false, true} {
		if stats {
			if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
				t.Fatal(err)
			}
		}
		for name, s := range stmts {
			t.Run(fmt.Sprintf("%s stats=%v", name, stats), func(t *testing.T) {
				rows, err := d.W.QueryContext(ctx, `EXPLAIN QUERY PLAN `+s, make([]any, strings.Count(s, "?"))...)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var plan []string
				for rows.Next() {
					var id, parent, unused int
					var detail string
					if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, detail)
				}
				for _, line := range plan {
					// Scanning jobs_leased is fine: it holds only running
					// jobs, a few per worker.
					if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "VALUES") && !strings.HasSuffix(line, "INDEX jobs_leased") {
						t.Errorf("full scan in plan:\n%s", strings.Join(plan, "\n"))
					}
				}
			})
		}
	}
}

package job

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// A job enqueued in a transaction exists exactly when the transaction
// commits: a rolled-back one never runs, a committed one does.
func TestTransactionalEnqueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{Workers: 1})
		ran := make(chan string, 10)
		q.Register("note", func(ctx context.Context, j *Job) error {
			var s string
			if err := j.Decode(&s); err != nil {
				return err
			}
			ran <- s
			return nil
		})
		start(t, q)

		rollback := errors.New("rollback")
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES ('w1', 'w', 'trial', ?, ?)`, time.Now().UTC(), time.Now().UTC()).Exec(ctx); err != nil {
				return err
			}
			if _, err := q.Enqueue(ctx, tx, "note", "rolled back"); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("tx: %v", err)
		}
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := q.Enqueue(ctx, tx, "note", "committed")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		q.Notify()

		// One worker, oldest first: had the rolled-back job existed it
		// would have run before the committed one.
		if got := recv(t, ran, "the committed job"); got != "committed" {
			t.Fatalf("first job to run: %q, want %q", got, "committed")
		}
		waitFor(t, "the finished job to be deleted", func() bool { return countJobs(t, d) == 0 })
		select {
		case s := <-ran:
			t.Fatalf("job %q ran as well", s)
		default:
		}
	})
}

func TestEnqueueStoresPayloadAndSchedule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		q := newQueue(t, d, Options{Now: newClock(now).Now})
		type msg struct {
			Conversation string `json:"conversation"`
		}
		tests := []struct {
			name        string
			payload     any
			opts        []EnqueueOption
			wantPayload string
			wantRunAt   time.Time
			wantKey     string
		}{
			{"struct as json", msg{"c1"}, []EnqueueOption{Key("c1")}, `{"conversation":"c1"}`, now, "c1"},
			{"raw bytes verbatim", []byte{0, 1, 2}, nil, "\x00\x01\x02", now, ""},
			{"nil as json null", nil, nil, "null", now, ""},
			{"delay", "x", []EnqueueOption{Delay(time.Minute)}, `"x"`, now.Add(time.Minute), ""},
			{"run at", "x", []EnqueueOption{RunAt(now.Add(time.Hour).In(time.FixedZone("ICT", 7*3600)))}, `"x"`, now.Add(time.Hour), ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id, err := q.Enqueue(ctx, nil, "k", tc.payload, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				j, ok := row(t, d, id)
				if !ok {
					t.Fatal("no row")
				}
				if string(j.Payload) != tc.wantPayload || !j.RunAt.Equal(tc.wantRunAt) || j.Key != tc.wantKey ||
					j.State != Pending || j.Attempts != 0 || !j.CreatedAt.Equal(now) {
					t.Errorf("row = %+v (payload %q), want payload %q, run_at %v, key %q, pending, 0 attempts",
						j, j.Payload, tc.wantPayload, tc.wantRunAt, tc.wantKey)
				}
			})
		}
		t.Run("rejected", func(t *testing.T) {
			before := countJobs(t, d)
			if _, err := q.Enqueue(ctx, nil, "", "x"); err == nil {
				t.Error("empty kind accepted")
			}
			if _, err := q.Enqueue(ctx, nil, "k", make(chan int)); err == nil {
				t.Error("unencodable payload accepted")
			}
			if n := countJobs(t, d); n != before {
				t.Errorf("rejected enqueues added %d rows", n-before)
			}
		})
	})
}

func TestRetryThenSuccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q := newQueue(t, d, Options{})
		type run struct {
			attempt   int
			lastError string
		}
		runs := make(chan run, 10)
		q.Register("flaky", func(ctx context.Context, j *Job) error {
			runs <- run{j.Attempts, j.LastError}
			if j.Attempts < 3 {
				return fmt.Errorf("provider unavailable (try %d)", j.Attempts)
			}
			return nil
		}, Backoff(time.Millisecond, 4*time.Millisecond))
		start(t, q)
		id := mustEnqueue(t, q, "flaky", nil)
		var got []run
		for range 3 {
			got = append(got, recv(t, runs, "a run"))
		}
		want := []run{{1, ""}, {2, "provider unavailable (try 1)"}, {3, "provider unavailable (try 2)"}}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(run{})); diff != "" {
			t.Errorf("runs (-want +got):\n%s", diff)
		}
		waitFor(t, "the job to be deleted", func() bool { _, ok := row(t, d, id); return !ok })
	})
}

// A failed run is rescheduled by the backoff (or by RetryAfter), measured
// on the injected clock, and keeps its error.
func TestFailureSchedulesRetry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		q := newQueue(t, d, Options{Now: newClock(now).Now})
		q.Register("backoff", func(ctx context.Context, j *Job) error { return errors.New("nope") },
			Backoff(time.Minute, time.Hour))
		q.Register("later", func(ctx context.Context, j *Job) error {
			return RetryAfter(2*time.Hour, errors.New("rate limited"))
		}, Backoff(time.Minute, time.Hour))
		start(t, q)
		a := mustEnqueue(t, q, "backoff", nil)
		b := mustEnqueue(t, q, "later", nil)
		for _, tc := range []struct {
			id       int64
			min, max time.Time
			err      string
		}{
			{a, now.Add(30 * time.Second), now.Add(time.Minute), "nope"},
			{b, now.Add(2 * time.Hour), now.Add(2 * time.Hour), "rate limited"},
		} {
			var j Job
			waitFor(t, "the failure to be recorded", func() bool {
				j, _ = row(t, d, tc.id)
				return j.LastError != ""
			})
			if j.State != Pending || j.Attempts != 1 || j.LastError != tc.err || j.RunAt.Before(tc.min) || j.RunAt.After(tc.max) {
				t.Errorf("job %d = state %s, attempts %d, error %q, run_at %v; want pending, 1, %q, run_at in [%v, %v]",
					tc.id, j.State, j.Attempts, j.LastError, j.RunAt, tc.err, tc.min, tc.max)
			}
			if by, until := lease(t, d, tc.id); by != "" || !until.IsZero() {
				t.Errorf("job %d still leased to %q until %v", tc.id, by, until)
			}
		}
	})
}

func TestDeadLettersListRetryAndPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{})
		var healed atomic.Bool
		ran := make(chan int64, 20)
		fail := func(err error) Handler {
			return func(ctx context.Context, j *Job) error {
				ran <- j.ID
				if healed.Load() {
					return nil
				}
				return err
			}
		}
		q.Register("permanent", fail(Permanent(errors.New("bad recipient"))))
		q.Register("exhausted", fail(errors.New("still down")), MaxAttempts(3), Backoff(time.Millisecond, time.Millisecond))
		q.Register("panics", func(ctx context.Context, j *Job) error {
			ran <- j.ID
			if healed.Load() {
				return nil
			}
			var m map[string]int
			m["x"]++ // nil map: panics
			return nil
		}, MaxAttempts(1))
		q.Register("ok", func(ctx context.Context, j *Job) error { ran <- j.ID; return nil })
		start(t, q)

		perm := mustEnqueue(t, q, "permanent", nil)
		exh := mustEnqueue(t, q, "exhausted", nil)
		pan := mustEnqueue(t, q, "panics", nil)
		waitFor(t, "three dead jobs", func() bool {
			s, err := q.Stats(ctx)
			return err == nil && s.Dead == 3
		})
		// The panic did not take the queue down: it still runs jobs.
		okID := mustEnqueue(t, q, "ok", nil)
		waitFor(t, "a job after the panic", func() bool { _, ok := row(t, d, okID); return !ok })

		dead, err := q.Dead(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		type summary struct {
			ID       int64
			Kind     string
			Attempts int
			Error    string
			Payload  []byte
		}
		var got []summary
		for _, j := range dead {
			if j.State != Dead {
				t.Errorf("listed job %d in state %s", j.ID, j.State)
			}
			got = append(got, summary{j.ID, j.Kind, j.Attempts, j.LastError, j.Payload})
		}
		want := []summary{
			{pan, "panics", 1, "panic: assignment to entry in nil map", nil},
			{exh, "exhausted", 3, "still down", nil},
			{perm, "permanent", 1, "permanent: bad recipient", nil},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("dead letters (-want +got):\n%s", diff)
		}
		if page, err := q.Dead(ctx, exh, 10); err != nil || len(page) != 1 || page[0].ID != perm {
			t.Errorf("page before %d = %+v, %v; want only %d", exh, page, err, perm)
		}

		healed.Store(true)
		for len(ran) > 0 {
			<-ran
		}
		newID, err := q.Retry(ctx, exh)
		if err != nil {
			t.Fatal(err)
		}
		if newID <= okID {
			t.Errorf("retried job got id %d, want a new id above %d", newID, okID)
		}
		if got := recv(t, ran, "the retried job"); got != newID {
			t.Errorf("ran %d, want the retried job %d", got, newID)
		}
		waitFor(t, "the retried job to finish", func() bool { _, ok := row(t, d, newID); return !ok })
		if _, ok := row(t, d, exh); ok {
			t.Error("the dead row is still there after Retry")
		}
		if _, err := q.Retry(ctx, exh); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("retrying a job that is no longer dead: %v, want ErrNotFound", err)
		}
		if _, err := q.Retry(ctx, 1<<40); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("retrying a missing job: %v, want ErrNotFound", err)
		}

		n, err := q.PurgeDead(ctx, time.Now().Add(time.Minute))
		if err != nil || n != 2 {
			t.Errorf("PurgeDead = %d, %v; want 2", n, err)
		}
		if s, err := q.Stats(ctx); err != nil || s != (Stats{}) {
			t.Errorf("stats after purge = %+v, %v; want all zero", s, err)
		}
	})
}

func TestUniqueKeyDedupes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{})
		first := mustEnqueue(t, q, "k", "one", Unique("evt-1"))
		if again := mustEnqueue(t, q, "k", "two", Unique("evt-1")); again != first {
			t.Errorf("duplicate enqueue returned %d, want the existing %d", again, first)
		}
		// Inside a transaction too, and while the job is running.
		if _, err := d.W.NewRaw(`UPDATE jobs SET state = 'running' WHERE id = ?`, first).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			id, err := q.Enqueue(ctx, tx, "k", "three", Unique("evt-1"))
			if err == nil && id != first {
				err = fmt.Errorf("enqueue in tx returned %d, want %d", id, first)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		other := mustEnqueue(t, q, "k", "x", Unique("evt-2"))
		if n := countJobs(t, d); n != 2 || other == first {
			t.Fatalf("%d rows, ids %d and %d; want 2 distinct jobs", n, first, other)
		}
		if j, _ := row(t, d, first); string(j.Payload) != `"one"` {
			t.Errorf("payload = %s: a duplicate overwrote the original", j.Payload)
		}

		// A dead job does not hold its key.
		if _, err := d.W.NewRaw(`UPDATE jobs SET state = 'dead' WHERE id = ?`, first).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		fresh := mustEnqueue(t, q, "k", "four", Unique("evt-1"))
		if fresh == first {
			t.Fatal("enqueue after the holder died returned the dead job")
		}
		// Retrying the dead one while fresh holds the key adds nothing.
		got, err := q.Retry(ctx, first)
		if err != nil || got != fresh {
			t.Errorf("Retry = %d, %v; want the holder %d", got, err, fresh)
		}
		if n := countJobs(t, d); n != 2 {
			t.Errorf("%d rows after Retry, want 2 (the dead row replaced by nothing)", n)
		}
	})
}

// A job whose runs keep dying with their worker (the lease expires each
// time) is dead-lettered once its attempts are used up, without running
// again.
func TestCrashLoopingJobGoesDead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{Lease: 300 * time.Millisecond})
		var ran atomic.Int32
		q.Register("oom", func(ctx context.Context, j *Job) error { ran.Add(1); return nil }, MaxAttempts(2))
		id := mustEnqueue(t, q, "oom", nil)
		past := time.Now().UTC().Add(-time.Minute)
		if _, err := d.W.NewRaw(`UPDATE jobs SET state = 'running', attempts = 2, locked_by = 'gone', locked_until = ? WHERE id = ?`, past, id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		start(t, q)
		var j Job
		waitFor(t, "the job to die", func() bool { j, _ = row(t, d, id); return j.State == Dead })
		if ran.Load() != 0 || j.Attempts != 3 || !strings.Contains(j.LastError, "gave up after 2 attempts; last: lease expired") {
			t.Errorf("ran %d times, attempts %d, error %q", ran.Load(), j.Attempts, j.LastError)
		}
	})
}

// A live worker renews its lease, so a job running longer than the lease
// is not reclaimed by another queue.
func TestLeaseIsRenewedWhileRunning(t *testing.T) {
	eachShared(t, func(t *testing.T, d1, d2 *db.DB) {
		const leaseFor = 300 * time.Millisecond
		var runs atomic.Int32
		started := make(chan int64, 4)
		release := make(chan struct{})
		h := func(ctx context.Context, j *Job) error {
			runs.Add(1)
			started <- j.ID
			<-release
			return nil
		}
		q1 := newQueue(t, d1, Options{Lease: leaseFor})
		q1.Register("long", h)
		start(t, q1)
		id := mustEnqueue(t, q1, "long", nil)
		recv(t, started, "the job to start")
		q2 := newQueue(t, d2, Options{Lease: leaseFor})
		q2.Register("long", h)
		start(t, q2)

		_, first := lease(t, d1, id)
		// Several leases' worth of renewals: without them q2 would have
		// reclaimed and started the job by now.
		waitFor(t, "the lease to be renewed past three lease periods", func() bool {
			_, until := lease(t, d1, id)
			return until.After(first.Add(3 * leaseFor))
		})
		close(release)
		waitFor(t, "the job to finish", func() bool { _, ok := row(t, d1, id); return !ok })
		if n := runs.Load(); n != 1 {
			t.Errorf("the job ran %d times, want 1", n)
		}
	})
}

func TestStopDrainsRunningJobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// No poll rounds: a claim already under way when Stop begins may
		// legitimately take a job, so only wake-ups may prompt one here.
		q := newQueue(t, d, Options{PollInterval: time.Hour})
		started := make(chan string, 4)
		proceed := make(chan struct{})
		q.Register("k", func(ctx context.Context, j *Job) error {
			var s string
			j.Decode(&s)
			started <- s
			<-proceed
			return nil
		})
		start(t, q)
		a := mustEnqueue(t, q, "k", "a")
		recv(t, started, "job a to start")
		stopped := make(chan error, 1)
		go func() { stopped <- q.Stop(context.Background()) }()
		waitFor(t, "Stop to begin", func() bool {
			select {
			case <-q.stopping:
				return true
			default:
				return false
			}
		})
		b := mustEnqueue(t, q, "k", "b") // after Stop: must not be claimed
		close(proceed)
		if err := recv(t, stopped, "Stop to return"); err != nil {
			t.Fatalf("Stop after a clean drain: %v", err)
		}
		if _, ok := row(t, d, a); ok {
			t.Error("the drained job was not finished")
		}
		if j, ok := row(t, d, b); !ok || j.State != Pending || j.Attempts != 0 {
			t.Errorf("job enqueued during Stop = %+v (exists %v), want untouched pending", j, ok)
		}
		select {
		case s := <-started:
			t.Errorf("job %s started after Stop", s)
		default:
		}
	})
}

// When the deadline passes, Stop cancels handlers and releases their jobs
// without counting the attempt, and they run again later.
func TestStopReleasesUnfinishedJobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, tc := range []struct {
			name       string
			honoursCtx bool
		}{{"handler returns on cancel", true}, {"handler ignores cancel", false}} {
			t.Run(tc.name, func(t *testing.T) {
				q := newQueue(t, d, Options{})
				q.grace = 100 * time.Millisecond
				started := make(chan struct{}, 1)
				stuck := make(chan struct{})
				defer close(stuck)
				q.Register("slow", func(ctx context.Context, j *Job) error {
					started <- struct{}{}
					if tc.honoursCtx {
						<-ctx.Done()
						return ctx.Err()
					}
					<-stuck
					return nil
				})
				start(t, q)
				id := mustEnqueue(t, q, "slow", nil)
				recv(t, started, "the job to start")
				ctx, cancel := context.WithCancel(context.Background())
				cancel() // no time to drain
				if err := q.Stop(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("Stop = %v, want context.Canceled", err)
				}
				j, ok := row(t, d, id)
				by, until := lease(t, d, id)
				if !ok || j.State != Pending || j.Attempts != 0 || by != "" || !until.IsZero() {
					t.Fatalf("after Stop: %+v exists %v locked by %q until %v; want released pending with 0 attempts", j, ok, by, until)
				}

				again := make(chan int, 1)
				q2 := newQueue(t, d, Options{})
				q2.Register("slow", func(ctx context.Context, j *Job) error { again <- j.Attempts; return nil })
				start(t, q2)
				if n := recv(t, again, "the released job to run again"); n != 1 {
					t.Errorf("re-run saw attempt %d, want 1", n)
				}
				waitFor(t, "the job to finish", func() bool { _, ok := row(t, d, id); return !ok })
			})
		}
	})
}

func TestStartStopMisuse(t *testing.T) {
	d := dbtest.SQLite(t)
	q := newQueue(t, d, Options{})
	if err := q.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
	q.Register("dup", func(context.Context, *Job) error { return nil })
	q.Periodic("p", time.Hour, "unregistered")
	if err := q.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("Start with a periodic task of an unregistered kind: %v", err)
	}
	q2 := newQueue(t, d, Options{})
	q2.Register("k", func(context.Context, *Job) error { return nil })
	start(t, q2)
	if err := q2.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	for name, f := range map[string]func(){
		"register after start": func() { q2.Register("x", func(context.Context, *Job) error { return nil }) },
		"periodic after start": func() { q2.Periodic("x", time.Hour, "k") },
		"duplicate kind":       func() { q.Register("dup", func(context.Context, *Job) error { return nil }) },
		"nil handler":          func() { q.Register("nil", nil) },
		"duplicate periodic":   func() { q.Periodic("p", time.Minute, "k") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			f()
		})
	}
	if err := q2.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := q2.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

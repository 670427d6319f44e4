package job

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

// waitLimit bounds every wait in these tests. It is generous because a
// loaded 2-core CI machine is slow; a healthy run waits milliseconds.
const waitLimit = 60 * time.Second

// testOptions are fast-polling options for tests; fields set in o win.
func testOptions(o Options) Options {
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.Lease == 0 {
		o.Lease = 10 * time.Second
	}
	if o.Workers == 0 {
		o.Workers = 4
	}
	if o.Log == nil {
		// PARLEY_TEST_JOB_LOG=1 shows the queues' logs while debugging.
		if os.Getenv("PARLEY_TEST_JOB_LOG") != "" {
			o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		} else {
			o.Log = slog.New(slog.DiscardHandler)
		}
	}
	return o
}

// newQueue returns an unstarted queue on d that is stopped when the test ends.
func newQueue(t testing.TB, d *db.DB, o Options) *Queue {
	t.Helper()
	q := New(d, testOptions(o))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		q.Stop(ctx)
	})
	return q
}

func start(t testing.TB, q *Queue) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

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

// recv takes one value from ch or fails after waitLimit.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// row reads one job row straight from the table (with its payload).
func row(t testing.TB, d *db.DB, id int64) (Job, bool) {
	t.Helper()
	var js []Job
	if err := d.R.NewRaw(`SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id).Scan(context.Background(), &js); err != nil {
		t.Fatal(err)
	}
	if len(js) == 0 {
		return Job{}, false
	}
	return js[0], true
}

// lease reads locked_by and locked_until of a job.
func lease(t testing.TB, d *db.DB, id int64) (by string, until time.Time) {
	t.Helper()
	var b *string
	var u *time.Time
	if err := d.R.NewRaw(`SELECT locked_by, locked_until FROM jobs WHERE id = ?`, id).Scan(context.Background(), &b, &u); err != nil {
		t.Fatal(err)
	}
	if b != nil {
		by = *b
	}
	if u != nil {
		until = *u
	}
	return by, until
}

func countJobs(t testing.TB, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(`SELECT count(*) FROM jobs`).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustEnqueue(t testing.TB, q *Queue, kind string, payload any, opts ...EnqueueOption) int64 {
	t.Helper()
	id, err := q.Enqueue(context.Background(), nil, kind, payload, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// shared opens two independent handles on one migrated database of the
// given dialect — as two processes would — and returns what a child process
// needs to open a third: dsn for PostgreSQL, dir for SQLite.
func shared(t *testing.T, dl db.Dialect) (d1, d2 *db.DB, dsn, dir string) {
	t.Helper()
	ctx := context.Background()
	open := func() *db.DB {
		d, err := db.Open(ctx, dsn, dir, db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	if dl == db.Postgres {
		d1, dsn = dbtest.PostgresDSN(t)
	} else {
		dir = t.TempDir()
		d1 = open()
	}
	if _, err := d1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return d1, open(), dsn, dir
}

// eachShared runs fn once per available engine with two handles on one database.
func eachShared(t *testing.T, fn func(t *testing.T, d1, d2 *db.DB)) {
	for _, dl := range dbtest.Dialects(t) {
		t.Run(string(dl), func(t *testing.T) {
			d1, d2, _, _ := shared(t, dl)
			fn(t, d1, d2)
		})
	}
}

// clock is a settable test clock.
type clock = fakeclock.Clock

func newClock(t time.Time) *clock { return fakeclock.New(t) }

// helperEnv marks a child process started by TestKilledWorkerJobRunsAgain.
const helperEnv = "PARLEY_JOB_HELPER"

func isHelper() bool { return os.Getenv(helperEnv) != "" }

package job

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// A snoozed job runs again without using up its attempts, however often it
// snoozes, and keeps the head of its ordering key: the job behind it runs
// only after it finished (the kill switch's outbound hold, security.md
// §3.P P-2, P-5).
func TestSnoozeKeepsAttemptsAndOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Each reading of the clock is an hour later, so a snoozed job is
		// due at the next round whatever the delay.
		var hours atomic.Int64
		base := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		now := func() time.Time { return base.Add(time.Duration(hours.Add(1)) * time.Hour) }
		q := newQueue(t, d, Options{Now: now})
		type run struct {
			name    string
			attempt int
		}
		runs := make(chan run, 20)
		var snoozes atomic.Int64
		q.Register("held", func(ctx context.Context, j *Job) error {
			var name string
			if err := j.Decode(&name); err != nil {
				return err
			}
			runs <- run{name, j.Attempts}
			if name == "first" && snoozes.Add(1) <= 4 {
				return Snooze(time.Second, errors.New("outbound paused"))
			}
			return nil
		}, MaxAttempts(2))
		start(t, q)
		ctx := context.Background()
		for _, name := range []string{"first", "second"} {
			if _, err := q.Enqueue(ctx, d.W, "held", name, Key("conversation")); err != nil {
				t.Fatal(err)
			}
		}
		q.Notify()
		var got []run
		for range 6 {
			got = append(got, recv(t, runs, "a run"))
		}
		want := []run{{"first", 1}, {"first", 1}, {"first", 1}, {"first", 1}, {"first", 1}, {"second", 1}}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(run{})); diff != "" {
			t.Errorf("runs (-want +got):\n%s", diff)
		}
		waitFor(t, "both jobs to finish", func() bool {
			var n int
			if err := d.R.NewRaw(`SELECT count(*) FROM jobs`).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n == 0
		})
	})
}

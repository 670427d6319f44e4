package job

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
)

// slots lists the Slot payloads of the jobs in the table, oldest first.
func slots(t *testing.T, d *db.DB) []Slot {
	t.Helper()
	var js []Job
	if err := d.R.NewRaw(`SELECT `+jobColumns+` FROM jobs ORDER BY id`).Scan(context.Background(), &js); err != nil {
		t.Fatal(err)
	}
	out := []Slot{}
	for _, j := range js {
		var s Slot
		if err := j.Decode(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// Two queues on one database (as two replicas) each schedule every slot,
// and every slot is enqueued exactly once, even when they race.
func TestPeriodicOncePerSlotAcrossQueues(t *testing.T) {
	eachShared(t, func(t *testing.T, d1, d2 *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
		clk := newClock(t0.Add(25 * time.Minute))
		var qs []*Queue
		for _, d := range []*db.DB{d1, d2} {
			q := newQueue(t, d, Options{Now: clk.Now})
			q.Register("rollup", func(context.Context, *Job) error { return nil })
			q.Periodic("usage-rollup", time.Hour, "rollup")
			qs = append(qs, q)
		}
		// Slot 10:00 (the current one, at start) is enqueued by the first
		// queue to look. Its job then runs (here: is deleted) before the
		// second queue looks, so only job_periodic remembers the slot.
		qs[0].schedule(ctx, clk.Now())
		if diff := cmp.Diff([]Slot{{"usage-rollup", t0}}, slots(t, d1)); diff != "" {
			t.Fatalf("first slot (-want +got):\n%s", diff)
		}
		if _, err := d1.W.NewRaw(`DELETE FROM jobs`).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		qs[1].schedule(ctx, clk.Now())
		// Later in the same slot nothing new is due.
		clk.Set(t0.Add(59 * time.Minute))
		qs[1].schedule(ctx, clk.Now())
		qs[0].schedule(ctx, clk.Now())
		if got := slots(t, d1); len(got) != 0 {
			t.Fatalf("slot 10:00 enqueued again: %v", got)
		}
		// Slot 11:00: the queues race (schedule runs on one goroutine per
		// queue, as in the dispatcher).
		clk.Set(t0.Add(time.Hour + time.Second))
		var wg sync.WaitGroup
		for _, q := range qs {
			wg.Go(func() { q.schedule(ctx, clk.Now()) })
		}
		wg.Wait()
		// A queue that restarts (and so forgot what it saw) does not
		// enqueue the current slot again.
		fresh := newQueue(t, d2, Options{Now: clk.Now})
		fresh.Register("rollup", func(context.Context, *Job) error { return nil })
		fresh.Periodic("usage-rollup", time.Hour, "rollup")
		fresh.schedule(ctx, clk.Now())

		if diff := cmp.Diff([]Slot{{"usage-rollup", t0.Add(time.Hour)}}, slots(t, d1)); diff != "" {
			t.Errorf("enqueued slots (-want +got):\n%s", diff)
		}

		// Started, a queue runs the slot's job once.
		ran := make(chan time.Time, 10)
		runner := newQueue(t, d1, Options{Now: clk.Now})
		runner.Register("rollup", func(ctx context.Context, j *Job) error {
			var s Slot
			if err := j.Decode(&s); err != nil {
				return err
			}
			ran <- s.Start
			return nil
		})
		runner.Periodic("usage-rollup", time.Hour, "rollup")
		start(t, runner)
		if got := recv(t, ran, "slot 11:00"); !got.Equal(t0.Add(time.Hour)) {
			t.Errorf("ran slot %v, want 11:00", got)
		}
		waitFor(t, "the table to empty", func() bool { return countJobs(t, d1) == 0 })
		select {
		case s := <-ran:
			t.Errorf("slot %v ran twice", s)
		default:
		}
	})
}

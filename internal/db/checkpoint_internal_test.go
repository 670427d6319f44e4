package db

import (
	"context"
	"testing"
)

// The checkpointer runs a checkpoint only when something was committed
// since the last one: a checkpoint while nothing is written made readers
// wait in SQLite's busy handler (search p99 13 → 400 ms).
func TestCheckpointOnlyAfterCommits(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, "", t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The test drives the checks itself: stop the ticking loop, keep its
	// connection.
	c := d.ckpt
	c.once.Do(func() { close(c.stop) })
	<-c.done
	c.runs.Store(0)
	seen := int64(-1)
	check := func(want int64) {
		t.Helper()
		if err := c.checkpoint(&seen); err != nil {
			t.Fatal(err)
		}
		if got := c.runs.Load(); got != want {
			t.Fatalf("%d checkpoints run, want %d", got, want)
		}
	}
	check(1) // the first look always checkpoints
	check(1) // nothing committed since
	if _, err := d.W.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	check(2)
	check(2)
	if _, err := d.W.ExecContext(ctx, `INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	check(3)
}

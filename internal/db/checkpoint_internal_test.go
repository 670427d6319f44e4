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
	d, c := openWithoutCheckpoints(t)
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

// The writer leaves checkpoints to the checkpointer until the log is far
// larger than a second of heavy writing: at 1,000 messages a second Parley
// writes ≈ 16,000 frames a second, and a writer threshold of 16,000 made
// the commit that crossed it copy the whole log itself, holding the one
// writer for 20–130 ms about once a second (acknowledgements waited
// behind it). One commit of 17,000 pages must not set off a checkpoint in
// the writer: the next commit then still appends to the same log instead
// of restarting it.
func TestWriterLeavesCheckpointsToTheCheckpointer(t *testing.T) {
	ctx := context.Background()
	d, c := openWithoutCheckpoints(t)
	const pages = 17000
	if _, err := d.W.ExecContext(ctx, `CREATE TABLE t (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.ExecContext(ctx, `INSERT INTO t VALUES (zeroblob(?))`, pages*4096); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.ExecContext(ctx, `INSERT INTO t VALUES (x'00')`); err != nil {
		t.Fatal(err)
	}
	var busy, logged, copied int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logged, &copied); err != nil {
		t.Fatal(err)
	}
	if logged <= pages {
		t.Fatalf("the log holds %d frames after a %d-page commit and one more: the writer checkpointed and restarted it itself", logged, pages)
	}
}

// openWithoutCheckpoints opens SQLite in a temporary directory with its
// checkpointer's ticking loop stopped, so the test drives the checks itself
// through the connection it returns.
func openWithoutCheckpoints(t *testing.T) (*DB, *checkpointer) {
	t.Helper()
	d, err := Open(context.Background(), "", t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c := d.ckpt
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return d, c
}

package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
)

// The write-ahead log is copied into the database file in the background:
// writes far below the writer's own (backstop) threshold still reach the
// main file, so no commit has to pay for a checkpoint, and Close stops the
// checkpointer.
func TestBackgroundCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d, err := db.Open(ctx, "", dir, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "parley.db")
	if _, err := d.W.ExecContext(ctx, `CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	before := size(t, main)
	// About 2 MB, 500 pages: a quarter of SQLite's default threshold and
	// far below the writer's backstop, so only a background checkpoint
	// moves it into the main file.
	blob := []byte(strings.Repeat("x", 4000))
	for range 500 {
		if _, err := d.W.ExecContext(ctx, `INSERT INTO filler (b) VALUES (?)`, blob); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for size(t, main) < before+2_000_000 {
		if time.Now().After(deadline) {
			t.Fatalf("main database file still %d bytes (was %d): the log was never checkpointed", size(t, main), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

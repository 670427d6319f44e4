package db_test

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Statements give the same results prepared or not, inside a transaction
// or outside, on both engines: a statement that is not prepared when a
// transaction needs it runs through bun (it cannot be prepared there: on
// SQLite the transaction holds the only writer connection), and one used
// outside a transaction is prepared on first use.
func TestStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.W.ExecContext(ctx, `CREATE TABLE stmt_probe (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		const (
			insert = `INSERT INTO stmt_probe (id, name) VALUES (?, ?)`
			byID   = `SELECT name FROM stmt_probe WHERE id = ?`
		)
		in := func(n int) string {
			return `SELECT id FROM stmt_probe WHERE id IN (` + db.Placeholders(n) + `) ORDER BY id`
		}
		s := db.NewStatements(d, "probe")

		// Inside a transaction before Prepare: bun runs them.
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := s.Exec(ctx, tx, insert, 1, "one"); err != nil {
				return err
			}
			var name string
			if err := s.Row(ctx, tx, []any{&name}, byID, 1); err != nil || name != "one" {
				t.Errorf("unprepared row in tx: %q, %v", name, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		var ins []string
		for _, n := range db.ListSizes() {
			ins = append(ins, in(n))
		}
		if err := s.Prepare(ctx, append([]string{insert, byID}, ins...), []string{byID}); err != nil {
			t.Fatal(err)
		}
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for i, name := range []string{"two", "three", "four"} {
				if _, err := s.Exec(ctx, tx, insert, i+2, name); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var name string
		if err := s.Row(ctx, d.R, []any{&name}, byID, 3); err != nil || name != "three" {
			t.Errorf("prepared read on the pool: %q, %v", name, err)
		}
		err = s.Row(ctx, d.W, []any{&name}, byID, 99)
		if !errors.Is(err, sql.ErrNoRows) || !errors.Is(db.NoRows(err), db.ErrNotFound) {
			t.Errorf("missing row: %v", err)
		}

		// Padded IN lists: 3 IDs become a list of 4, the last repeated.
		var got []int64
		err = db.InLists([]int64{4, 1, 3}, func(list []any) error {
			if len(list) != db.ListSize(3) {
				t.Errorf("list of %d, want %d", len(list), db.ListSize(3))
			}
			rows, err := s.Query(ctx, d.R, in(len(list)), list...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				got = append(got, id)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{1, 3, 4}, got); diff != "" {
			t.Errorf("IN list (-want +got):\n%s", diff)
		}

		// A bad statement is an error naming the owner, not a panic.
		if err := s.Prepare(ctx, []string{`SELECT nope FROM nowhere`}, nil); err == nil {
			t.Error("preparing a bad statement succeeded")
		}
	})
}

// InLists sends long lists in chunks of at most MaxList.
func TestInListsChunks(t *testing.T) {
	vals := make([]int, db.MaxList+3)
	var sizes []int
	if err := db.InLists(vals, func(list []any) error { sizes = append(sizes, len(list)); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{db.MaxList, 4}, sizes); diff != "" {
		t.Errorf("chunk sizes (-want +got):\n%s", diff)
	}
	if err := db.InLists([]int(nil), func([]any) error { t.Error("called for no values"); return nil }); err != nil {
		t.Fatal(err)
	}
}

// Preparing waits for a connection without keeping a transaction from its
// statements: while one goroutine's Prepare waits for SQLite's only writer,
// the transaction holding the writer can still run statements of the same
// set (not prepared: through bun) and commit, and then the Prepare goes
// ahead. Prepare used to hold the set's lock while it waited, and the two
// waited for each other: after a crash, start-up (the job queue preparing
// its statements) stalled until webhook processing's transaction, which
// was enqueueing a job, timed out a minute later.
func TestPrepareWaitsWithoutBlockingTransactions(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, "", t.TempDir(), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.W.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	st := db.NewStatements(d, "test")
	const insert, count = `INSERT INTO t (x) VALUES (?)`, `SELECT count(*) FROM t`
	waits := d.W.DB.Stats().WaitCount
	prepared := make(chan error, 1)
	txDone := make(chan error, 1)
	go func() {
		txDone <- d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			// Let Prepare start and wait for the writer this transaction holds.
			go func() { prepared <- st.Prepare(ctx, []string{insert}, nil) }()
			for d.W.DB.Stats().WaitCount == waits {
				runtime.Gosched()
			}
			if _, err := st.Exec(ctx, tx, insert, 1); err != nil {
				return err
			}
			var n int
			return st.Row(ctx, tx, []any{&n}, count)
		})
	}()
	// A hang guard, not a timing: the two used to wait for each other
	// until the transaction's own deadline.
	select {
	case err := <-txDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the transaction is stuck behind a Prepare waiting for its connection")
	}
	if err := <-prepared; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.Row(ctx, d.W, []any{&n}, count); err != nil || n != 1 {
		t.Fatalf("count %d, %v; want 1", n, err)
	}
}

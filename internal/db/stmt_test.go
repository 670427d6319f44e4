package db_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

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

package db_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// columns returns "table.column" for every application table.
func columns(t *testing.T, d *db.DB) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	switch d.Dialect {
	case db.SQLite:
		var tables []string
		if err := d.R.NewRaw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'goose_%'`).Scan(ctx, &tables); err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			var cols []string
			if err := d.R.NewRaw(`SELECT name FROM pragma_table_info(?)`, tb).Scan(ctx, &cols); err != nil {
				t.Fatal(err)
			}
			for _, c := range cols {
				out = append(out, tb+"."+c)
			}
		}
	case db.Postgres:
		if err := d.R.NewRaw(`SELECT table_name || '.' || column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name NOT LIKE 'goose_%'`).Scan(ctx, &out); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// Both engines must end with the same tables and columns, so every store
// can run the same queries on either.
func TestDialectsAgree(t *testing.T) {
	lite := columns(t, dbtest.SQLite(t))
	pg := columns(t, dbtest.Postgres(t))
	if len(lite) == 0 {
		t.Fatal("no tables after migration")
	}
	if diff := cmp.Diff(lite, pg); diff != "" {
		t.Errorf("sqlite and postgres schemas differ (-sqlite +postgres):\n%s", diff)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		n, err := d.Migrate(context.Background())
		if err != nil || n != 0 {
			t.Fatalf("second migrate ran %d migrations, err %v", n, err)
		}
		cur, latest, err := d.MigrationStatus(context.Background())
		if err != nil || cur != latest || cur == 0 {
			t.Fatalf("status = %d/%d, %v", cur, latest, err)
		}
	})
}

// Times go in as UTC and come back equal at microsecond precision and in
// order, on both engines; stores rely on comparing them in SQL.
func TestTimeRoundTripAndOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		stamps := []time.Time{base, base.Add(500 * time.Millisecond), base.Add(123456 * time.Microsecond), base.Add(time.Second)}
		for i, ts := range stamps {
			if _, err := d.W.NewRaw(`INSERT INTO workspaces (id, name, plan, trial_ends_at, created_at, updated_at) VALUES (?, ?, 'trial', ?, ?, ?)`,
				string(rune('a'+i)), "w", ts, ts, ts).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var got []time.Time
		if err := d.R.NewRaw(`SELECT created_at FROM workspaces WHERE created_at > ? ORDER BY created_at`, base).Scan(ctx, &got); err != nil {
			t.Fatal(err)
		}
		want := []time.Time{stamps[2], stamps[1], stamps[3]}
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Errorf("row %d: got %v, want %v", i, got[i], want[i])
			}
		}
	})
}

func TestTxRollsBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES ('x', 'x', 'trial', ?, ?)`, now, now).Exec(ctx); err != nil {
				return err
			}
			return context.Canceled
		})
		if err != context.Canceled {
			t.Fatalf("err = %v", err)
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM workspaces`).Scan(ctx, &n); err != nil || n != 0 {
			t.Fatalf("count = %d, %v", n, err)
		}
		_, err = d.W.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES ('y', 'y', 'trial', ?, ?)`, now, now).Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.W.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES ('y', 'y', 'trial', ?, ?)`, now, now).Exec(ctx)
		if !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: %v, want a unique violation", err)
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		if _, err := d.W.NewRaw(`INSERT INTO audit_log (id, action, created_at) VALUES ('a1', 'test', ?)`, now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.NewRaw(`UPDATE audit_log SET action = 'forged' WHERE id = 'a1'`).Exec(ctx); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("update: err = %v, want append-only refusal", err)
		}
		if _, err := d.W.NewRaw(`DELETE FROM audit_log WHERE id = 'a1'`).Exec(ctx); err == nil {
			t.Error("deleting a fresh audit row succeeded")
		}
		old := now.AddDate(-1, 0, -2)
		if _, err := d.W.NewRaw(`INSERT INTO audit_log (id, action, created_at) VALUES ('a0', 'test', ?)`, old).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.NewRaw(`DELETE FROM audit_log WHERE id = 'a0'`).Exec(ctx); err != nil {
			t.Errorf("deleting a row older than a year: %v", err)
		}
	})
}

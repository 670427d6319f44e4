package dbtest

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
)

// DumpText returns every row of every table of d as text, the way an
// attacker holding a database dump would see it, for tests that prove a
// secret never reaches the database in clear (promise P-30).
//
// Every table counts, including the engine's own (sqlite_master,
// sqlite_sequence, the shadow tables of full-text indexes) and goose's.
// Each value is one "table.column: value" line; a binary value appears as
// its raw bytes and as lower-case hex, standard base64 and unpadded
// base64url, so a search for any of those finds it. Raw bytes may include
// newlines: search the text, do not parse it by line.
func DumpText(t testing.TB, d *db.DB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, table := range dumpTables(t, d) {
		fmt.Fprintf(&b, "== %s ==\n", table)
		rows, err := d.R.DB.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table))
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			t.Fatalf("dump %s: %v", table, err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				t.Fatalf("dump %s: %v", table, err)
			}
			for i, v := range vals {
				fmt.Fprintf(&b, "%s.%s: %s\n", table, cols[i], dumpValue(v))
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
	}
	return b.String()
}

// dumpTables lists every table of the database (of the test's schema on
// PostgreSQL), in a stable order.
func dumpTables(t testing.TB, d *db.DB) []string {
	t.Helper()
	var q string
	switch d.Dialect {
	case db.SQLite:
		// Virtual tables (type 'table' too) and their shadow tables included.
		q = `SELECT name FROM sqlite_master WHERE type = 'table' UNION ALL SELECT 'sqlite_master' ORDER BY 1`
	case db.Postgres:
		// pg_class rather than information_schema.tables, which hides
		// materialized views: ordinary, partitioned and materialized.
		q = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'm') ORDER BY 1`
	default:
		t.Fatalf("dump: unknown dialect %q", d.Dialect)
	}
	var tables []string
	if err := d.R.NewRaw(q).Scan(context.Background(), &tables); err != nil {
		t.Fatalf("dump: list tables: %v", err)
	}
	if len(tables) == 0 {
		t.Fatal("dump: no tables")
	}
	return tables
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func dumpValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return fmt.Sprintf("raw=%s hex=%s base64=%s base64url=%s", v,
			hex.EncodeToString(v), base64.StdEncoding.EncodeToString(v), base64.RawURLEncoding.EncodeToString(v))
	case string:
		return v
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(v)
	}
}

package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/db"
)

// EnvPostgres names the variable holding the throwaway PostgreSQL server's URL.
const EnvPostgres = "PARLEY_TEST_POSTGRES_URL"

// Each runs fn as a subtest once per engine: "sqlite", and "postgres" when
// the server is configured.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// Dialects lists the engines available to this run, for tests that need to
// open their own connections (for example to start a second process).
func Dialects(t *testing.T) []db.Dialect {
	out := []db.Dialect{db.SQLite}
	switch {
	case os.Getenv(EnvPostgres) != "":
		out = append(out, db.Postgres)
	case os.Getenv("CI") == "true":
		t.Fatalf("%s is not set: CI must run every store test on PostgreSQL (run `make test`)", EnvPostgres)
	}
	return out
}

// SQLite opens a migrated SQLite database in a temporary directory.
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), "", t.TempDir(), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// PostgresURL returns the test server's URL. It skips the test when none is
// set, or fails it under CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPostgres)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run every store test on PostgreSQL (run `make test`)", EnvPostgres)
		}
		t.Skipf("%s not set; run `make test` to start a throwaway PostgreSQL", EnvPostgres)
	}
	return u
}

// Postgres opens a migrated, empty schema of its own in the test server.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	d, _ := PostgresDSN(t)
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// PostgresDSN creates an empty schema and returns an unmigrated handle on it
// along with a connection string that opens the same schema.
func PostgresDSN(t testing.TB) (*db.DB, string) {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvPostgres, err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close(ctx)
		t.Fatal(err)
	}
	admin.Close(ctx)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	d, err := db.Open(ctx, dsn, "", db.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	return d, dsn
}

// Open opens a migrated database of the given dialect.
func Open(t testing.TB, d db.Dialect) *db.DB {
	t.Helper()
	if d == db.Postgres {
		return Postgres(t)
	}
	return SQLite(t)
}

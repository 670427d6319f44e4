package inbox

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// stmts runs the hot path's statements prepared (db.Statements): bun
// formats every argument into the SQL text (a sealed body becomes
// kilobytes of hex), so each of its calls would be a new statement for the
// engine to parse, and on SQLite parsing costs more than running these
// small statements. Prepare prepares them at start.
type stmts struct {
	*db.Statements
}

// prepare prepares writes (and reads inside transactions) on the writer
// and reads on the reader pool.
func (s stmts) prepare(ctx context.Context, writes, reads []string) error {
	return s.Prepare(ctx, writes, reads)
}

// exec runs q with args.
func (s stmts) exec(ctx context.Context, idb bun.IDB, q string, args ...any) (sql.Result, error) {
	return s.Exec(ctx, idb, q, args...)
}

// row runs q with args and scans its one row into dest (sql.ErrNoRows when
// there is none).
func (s stmts) row(ctx context.Context, idb bun.IDB, dest []any, q string, args ...any) error {
	return s.Row(ctx, idb, dest, q, args...)
}

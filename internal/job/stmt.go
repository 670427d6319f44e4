package job

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// stmts runs the queue's hot statements — enqueue, claim, finish — as
// prepared statements (db.Statements): an enqueue in a transaction takes
// less than half the time prepared. Start prepares them all.
type stmts struct {
	*db.Statements
}

// exec runs a statement that returns no rows.
func (s stmts) exec(ctx context.Context, idb bun.IDB, query string, args ...any) (sql.Result, error) {
	return s.Exec(ctx, idb, query, args...)
}

// scalar runs a statement that returns at most one row of one column into
// dest; no row is sql.ErrNoRows.
func (s stmts) scalar(ctx context.Context, idb bun.IDB, dest any, query string, args ...any) error {
	return s.Row(ctx, idb, []any{dest}, query, args...)
}

// jobs runs a statement returning jobColumns and scans the rows.
func (s stmts) jobs(ctx context.Context, idb bun.IDB, query string, args ...any) ([]*Job, error) {
	rows, err := s.Query(ctx, idb, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		j := &Job{}
		var key, unique sql.NullString
		var state string
		if err := rows.Scan(&j.ID, &j.Kind, &j.Payload, &key, &unique, &state, &j.Attempts,
			(*utcTime)(&j.RunAt), &j.LastError, (*utcTime)(&j.CreatedAt), (*utcTime)(&j.UpdatedAt)); err != nil {
			return nil, err
		}
		j.Key, j.UniqueKey, j.State = key.String, unique.String, State(state)
		out = append(out, j)
	}
	return out, rows.Err()
}

// utcTime scans a timestamp as UTC, as bun does, whatever zone the driver
// attached.
type utcTime time.Time

func (t *utcTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*t = utcTime(v.UTC())
		return nil
	case nil:
		*t = utcTime{}
		return nil
	}
	return fmt.Errorf("job: cannot scan %T as a time", src)
}

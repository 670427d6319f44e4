package job

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// stmts runs the queue's hot statements — enqueue, claim, finish — as
// prepared statements with bound arguments. bun formats every argument into
// the SQL text, so each of its calls is a new statement for the engine to
// parse, and on SQLite parsing costs more than running these small
// statements (an enqueue in a transaction takes less than half the time
// prepared). Statements live as long as the database handle; database/sql
// re-prepares them on each connection that needs them.
//
// Preparing on the pool needs a free connection, and on SQLite the only
// writer connection may be held by the very transaction we are running in;
// so a statement is only ever prepared outside a transaction (Start prepares
// them all). A statement that is not ready yet runs through bun instead.
type stmts struct {
	d  *db.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepare prepares queries (written with ? placeholders) that are not yet.
// Call it outside any transaction on the queue's database.
func (s *stmts) prepare(ctx context.Context, queries ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*sql.Stmt{}
	}
	for _, q := range queries {
		if _, ok := s.m[q]; ok {
			continue
		}
		text := q
		if s.d.Dialect == db.Postgres {
			text = dollarPlaceholders(q)
		}
		st, err := s.d.W.DB.PrepareContext(ctx, text)
		if err != nil {
			return fmt.Errorf("job: prepare: %w", err)
		}
		s.m[q] = st
	}
	return nil
}

func (s *stmts) cached(query string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[query]
}

// dollarPlaceholders rewrites ? as $1, $2 … for PostgreSQL. The queue's SQL
// has no ? inside string literals.
func dollarPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// bind returns query's prepared statement bound to idb: inside idb's
// transaction, or on the pool when idb is the queue's own database. It
// returns nil when the statement is not prepared and cannot be now (inside a
// transaction), or idb is some other handle; callers then fall back to bun.
func (s *stmts) bind(ctx context.Context, idb bun.IDB, query string) (*sql.Stmt, error) {
	var tx *sql.Tx
	switch v := idb.(type) {
	case bun.Tx:
		tx = v.Tx
	case *bun.Tx:
		tx = v.Tx
	case *bun.DB:
		if v != s.d.W {
			return nil, nil
		}
	default:
		return nil, nil
	}
	st := s.cached(query)
	if st == nil {
		if tx != nil {
			return nil, nil
		}
		if err := s.prepare(ctx, query); err != nil {
			return nil, err
		}
		st = s.cached(query)
	}
	if tx == nil {
		return st, nil
	}
	return tx.StmtContext(ctx, st), nil
}

// exec runs a statement that returns no rows.
func (s *stmts) exec(ctx context.Context, idb bun.IDB, query string, args ...any) (sql.Result, error) {
	st, err := s.bind(ctx, idb, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return idb.NewRaw(query, args...).Exec(ctx)
	}
	return st.ExecContext(ctx, args...)
}

// scalar runs a statement that returns at most one row of one column into
// dest; no row is sql.ErrNoRows.
func (s *stmts) scalar(ctx context.Context, idb bun.IDB, dest any, query string, args ...any) error {
	st, err := s.bind(ctx, idb, query)
	if err != nil {
		return err
	}
	if st == nil {
		return idb.NewRaw(query, args...).Scan(ctx, dest)
	}
	return st.QueryRowContext(ctx, args...).Scan(dest)
}

// jobs runs a statement returning jobColumns and scans the rows.
func (s *stmts) jobs(ctx context.Context, idb bun.IDB, query string, args ...any) ([]*Job, error) {
	st, err := s.bind(ctx, idb, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		var js []*Job
		return js, idb.NewRaw(query, args...).Scan(ctx, &js)
	}
	rows, err := st.QueryContext(ctx, args...)
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

// placeholders is "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// maxList is the longest IN list or VALUES list the queue sends at once.
const maxList = 64

// listSize is the length a list of n values is padded to: the next power
// of two, so a handful of prepared statements serve every batch.
func listSize(n int) int {
	size := 1
	for size < n {
		size *= 2
	}
	return size
}

// inLists calls fn with vals in chunks of at most maxList, each padded to
// listSize by repeating its last value (harmless in an IN list, and in a
// VALUES list whose rows only select).
func inLists[T any](vals []T, fn func(list []any) error) error {
	for len(vals) > 0 {
		n := min(len(vals), maxList)
		list := make([]any, listSize(n))
		for i := range list {
			list[i] = vals[min(i, n-1)]
		}
		if err := fn(list); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

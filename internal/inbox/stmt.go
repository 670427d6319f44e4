package inbox

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// stmts runs the hot path's statements as prepared statements with bound
// arguments. bun formats every argument into the SQL text (a sealed body
// becomes kilobytes of hex), so each of its calls is a new statement for
// the engine to parse, and on SQLite parsing costs more than running
// these small statements. (The same technique as package job's; both
// would move into db if a third package needs it.)
//
// Statements are prepared on the writer (and, for reads outside any
// transaction, on the reader pool) by Prepare, never inside a transaction:
// on SQLite the only writer connection may be held by the very transaction
// that asks. A statement that is not prepared runs through bun instead,
// with the same SQL and the same result.
type stmts struct {
	d  *db.DB
	mu sync.Mutex
	w  map[string]*sql.Stmt
	r  map[string]*sql.Stmt
}

// prepare prepares queries on the writer and reads on the reader pool.
func (s *stmts) prepare(ctx context.Context, writes, reads []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		s.w, s.r = map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	}
	for _, set := range []struct {
		on *bun.DB
		m  map[string]*sql.Stmt
		qs []string
	}{{s.d.W, s.w, writes}, {s.d.R, s.r, reads}} {
		for _, q := range set.qs {
			if set.m[q] != nil {
				continue
			}
			text := q
			if s.d.Dialect == db.Postgres {
				text = dollarPlaceholders(q)
			}
			st, err := set.on.DB.PrepareContext(ctx, text)
			if err != nil {
				return fmt.Errorf("inbox: prepare: %w", err)
			}
			set.m[q] = st
		}
	}
	return nil
}

// bind returns q's prepared statement for idb (bound to its transaction),
// or nil to run q through bun.
func (s *stmts) bind(ctx context.Context, idb bun.IDB, q string) *sql.Stmt {
	s.mu.Lock()
	w, r := s.w[q], s.r[q]
	s.mu.Unlock()
	switch v := idb.(type) {
	case bun.Tx:
		if w != nil {
			return v.Tx.StmtContext(ctx, w)
		}
	case *bun.Tx:
		if w != nil {
			return v.Tx.StmtContext(ctx, w)
		}
	case *bun.DB:
		switch v {
		case s.d.W:
			return w
		case s.d.R:
			return r
		}
	}
	return nil
}

// exec runs q with args.
func (s *stmts) exec(ctx context.Context, idb bun.IDB, q string, args ...any) (sql.Result, error) {
	if st := s.bind(ctx, idb, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return idb.NewRaw(q, args...).Exec(ctx)
}

// row runs q with args and scans its one row into dest (sql.ErrNoRows when
// there is none).
func (s *stmts) row(ctx context.Context, idb bun.IDB, dest []any, q string, args ...any) error {
	if st := s.bind(ctx, idb, q); st != nil {
		return st.QueryRowContext(ctx, args...).Scan(dest...)
	}
	return idb.NewRaw(q, args...).Scan(ctx, dest...)
}

// dollarPlaceholders rewrites ? as $1, $2 … for PostgreSQL. The hot
// statements have no ? inside string literals.
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

package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun"
)

// Statements runs a package's hot statements as prepared statements with
// bound arguments. bun formats every argument into the SQL text (a sealed
// body becomes kilobytes of hex), so each of its calls is a new statement
// for the engine to parse, and on SQLite parsing costs more than running a
// small statement. Statements live as long as the database handle;
// database/sql re-prepares them on each connection that needs them.
//
// Preparing needs a free connection, and on SQLite the only writer
// connection may be held by the very transaction that asks; so a statement
// is only ever prepared outside a transaction — by Prepare at start, or on
// first use outside one. A statement that is not prepared yet when a
// transaction needs it runs through bun, with the same SQL and the same
// result. SQL is written with ? placeholders and no ? inside string
// literals; on PostgreSQL they become $1, $2 ….
type Statements struct {
	d     *DB
	owner string // the package, for errors
	mu    sync.Mutex
	w     map[string]*sql.Stmt // prepared on the writer
	r     map[string]*sql.Stmt // prepared on the reader pool
}

// NewStatements returns an empty set for the package named owner.
func NewStatements(d *DB, owner string) *Statements {
	return &Statements{d: d, owner: owner, w: map[string]*sql.Stmt{}, r: map[string]*sql.Stmt{}}
}

// Prepare prepares writes (and statements read inside transactions) on the
// writer and reads on the reader pool, skipping those already prepared.
// Call it outside any transaction.
func (s *Statements) Prepare(ctx context.Context, writes, reads []string) error {
	for _, q := range writes {
		if err := s.prepare(ctx, s.d.W, s.w, q); err != nil {
			return err
		}
	}
	for _, q := range reads {
		if err := s.prepare(ctx, s.d.R, s.r, q); err != nil {
			return err
		}
	}
	return nil
}

// prepare prepares q on on unless it is already, without holding mu while
// it does: preparing waits for a connection, and on SQLite the one writer
// may be held by a transaction that needs mu to look up its own statements
// (bind). Holding mu here deadlocked start-up after a crash — the job
// queue's Prepare waited for the writer while webhook processing, holding
// it, waited for mu to enqueue a job — until the transaction timed out.
// Two goroutines preparing the same q at once keep the first and close the
// other.
func (s *Statements) prepare(ctx context.Context, on *bun.DB, m map[string]*sql.Stmt, q string) error {
	if s.cached(m, q) != nil {
		return nil
	}
	st, err := on.DB.PrepareContext(ctx, s.d.Rebind(q))
	if err != nil {
		return fmt.Errorf("%s: prepare: %w", s.owner, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m[q] != nil {
		return st.Close()
	}
	m[q] = st
	return nil
}

func (s *Statements) cached(m map[string]*sql.Stmt, q string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return m[q]
}

// bind returns q's prepared statement for idb — bound to its transaction,
// or on the pool idb is — preparing it first when that is safe. It returns
// nil when q must run through bun: not prepared inside a transaction, or
// idb is a handle these statements do not know.
func (s *Statements) bind(ctx context.Context, idb bun.IDB, q string) (*sql.Stmt, error) {
	var tx *sql.Tx
	on, m := s.d.W, s.w
	switch v := idb.(type) {
	case bun.Tx:
		tx = v.Tx
	case *bun.Tx:
		tx = v.Tx
	case *bun.DB:
		switch v {
		case s.d.W:
		case s.d.R:
			on, m = s.d.R, s.r
		default:
			return nil, nil
		}
	default:
		return nil, nil
	}
	st := s.cached(m, q)
	if st == nil {
		if tx != nil {
			return nil, nil
		}
		if err := s.prepare(ctx, on, m, q); err != nil {
			return nil, err
		}
		st = s.cached(m, q)
	}
	if tx == nil {
		return st, nil
	}
	return tx.StmtContext(ctx, st), nil
}

// Exec runs q, which returns no rows, with args.
func (s *Statements) Exec(ctx context.Context, idb bun.IDB, q string, args ...any) (sql.Result, error) {
	st, err := s.bind(ctx, idb, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return idb.ExecContext(ctx, q, args...)
	}
	return st.ExecContext(ctx, args...)
}

// Row runs q with args and scans its first row into dest; no row is
// sql.ErrNoRows (see NoRows).
func (s *Statements) Row(ctx context.Context, idb bun.IDB, dest []any, q string, args ...any) error {
	st, err := s.bind(ctx, idb, q)
	if err != nil {
		return err
	}
	if st == nil {
		return idb.QueryRowContext(ctx, q, args...).Scan(dest...)
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// Query runs q with args; the caller closes the rows.
func (s *Statements) Query(ctx context.Context, idb bun.IDB, q string, args ...any) (*sql.Rows, error) {
	st, err := s.bind(ctx, idb, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return idb.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// Placeholders is "?, ?, …" with n marks, for IN and VALUES lists.
func Placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// MaxList is the longest IN or VALUES list sent at once by InLists.
const MaxList = 64

// ListSize is the length a list of n values is padded to: the next power
// of two, so a handful of prepared statements serve lists of every length.
func ListSize(n int) int {
	size := 1
	for size < n {
		size *= 2
	}
	return size
}

// InLists calls fn with vals in chunks of at most MaxList, each padded to
// ListSize by repeating its last value (harmless in an IN list, and in a
// VALUES list whose rows only select).
func InLists[T any](vals []T, fn func(list []any) error) error {
	for len(vals) > 0 {
		n := min(len(vals), MaxList)
		list := make([]any, ListSize(n))
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

// ListSizes lists every length InLists sends: 1, 2, 4 … MaxList, for
// preparing a statement of each.
func ListSizes() []int {
	var out []int
	for n := 1; n <= MaxList; n *= 2 {
		out = append(out, n)
	}
	return out
}

// Rebind returns q with its ? placeholders as the engine's database/sql
// driver takes them, for SQL run past bun (prepared statements, or
// arguments that must travel as bound parameters rather than be formatted
// into the text by bun): unchanged on SQLite, $1, $2 … on PostgreSQL. q
// must have no ? inside a string literal.
func (d *DB) Rebind(q string) string {
	if d.Dialect != Postgres {
		return q
	}
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

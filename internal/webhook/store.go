package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// source is the webhook_deliveries.source of Meta deliveries.
const source = "meta"

// maxChunk is the most rows one INSERT carries (4 parameters each, far
// below both engines' limits).
const maxChunk = 256

// inserter writes deliveries with prepared multi-row INSERTs: one statement
// per power-of-two row count, so a batch of n rows takes at most log2(n)+1
// statements and none is ever parsed twice. bun would format every value
// into a new SQL text; on SQLite parsing that costs more than inserting.
//
// Statements are prepared by Start, outside any transaction (on SQLite the
// one writer connection may otherwise be held by the very transaction that
// wants them), and bound to each transaction with StmtContext.
type inserter struct {
	d     *db.DB
	stmts map[int]*sql.Stmt // row count → INSERT of that many rows; written only by prepare
}

// prepare prepares the INSERTs for every power of two up to the chunk size
// batchMax needs.
func (s *inserter) prepare(ctx context.Context, batchMax int) error {
	s.stmts = map[int]*sql.Stmt{}
	for n := 1; n <= min(batchMax, maxChunk); n *= 2 {
		st, err := s.d.W.DB.PrepareContext(ctx, insertSQL(s.d.Dialect, n))
		if err != nil {
			return fmt.Errorf("prepare insert of %d deliveries: %w", n, err)
		}
		s.stmts[n] = st
	}
	return nil
}

// close releases the statements; only the writer calls it, as it exits.
func (s *inserter) close() {
	for _, st := range s.stmts {
		st.Close()
	}
}

// insert stores batch through tx.
func (s *inserter) insert(ctx context.Context, tx bun.Tx, batch []*delivery) error {
	args := make([]any, 0, 4*min(len(batch), maxChunk))
	for len(batch) > 0 {
		n := 1
		for n*2 <= len(batch) && s.stmts[n*2] != nil {
			n *= 2
		}
		args = args[:0]
		for _, d := range batch[:n] {
			args = append(args, d.id, source, d.sealed, d.at)
		}
		if _, err := tx.Tx.StmtContext(ctx, s.stmts[n]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert deliveries: %w", err)
		}
		batch = batch[n:]
	}
	return nil
}

// insertSQL is an INSERT of n pending deliveries.
func insertSQL(dialect db.Dialect, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO webhook_deliveries (id, source, body, state, error, received_at) VALUES ")
	p := 0
	mark := func() {
		p++
		if dialect == db.Postgres {
			b.WriteString("$" + strconv.Itoa(p))
		} else {
			b.WriteByte('?')
		}
	}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		mark()
		b.WriteString(", ")
		mark()
		b.WriteString(", ")
		mark()
		b.WriteString(", 'pending', '', ")
		mark()
		b.WriteByte(')')
	}
	return b.String()
}

package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// source is the webhook_deliveries.source of Meta deliveries.
const source = "meta"

// maxChunk is the most rows one INSERT carries (4 parameters each, far
// below both engines' limits).
const maxChunk = 256

// deliveryStore runs the intake's hot statements prepared (db.Statements), since
// bun would format every value into a new SQL text and on SQLite parsing
// that costs more than running it: the multi-row INSERT of deliveries, one
// statement per power-of-two row count (a batch of n rows takes at most
// log2(n)+1 statements), and processing's load and delete of pending
// deliveries, one per padded list length (db.InLists).
//
// Start prepares them, outside any transaction (on SQLite the one writer
// connection may otherwise be held by the very transaction that wants
// them).
type deliveryStore struct {
	st      *db.Statements
	maxRows int // the largest INSERT prepared
}

// prepare prepares the INSERTs for every power of two up to the chunk size
// batchMax needs, and the loads and deletes.
func (s *deliveryStore) prepare(ctx context.Context, batchMax int) error {
	var writes []string
	s.maxRows = 1
	for n := 1; n <= min(batchMax, maxChunk); n *= 2 {
		writes = append(writes, insertSQL(n))
		s.maxRows = n
	}
	for _, n := range db.ListSizes() {
		writes = append(writes, loadSQL(n), deleteSQL(n))
	}
	return s.st.Prepare(ctx, writes, nil)
}

// insert stores batch through tx.
func (s *deliveryStore) insert(ctx context.Context, tx bun.Tx, batch []*delivery) error {
	args := make([]any, 0, 4*min(len(batch), maxChunk))
	for len(batch) > 0 {
		n := 1
		for n*2 <= len(batch) && n*2 <= s.maxRows {
			n *= 2
		}
		args = args[:0]
		for _, d := range batch[:n] {
			args = append(args, d.id, source, d.sealed, d.at)
		}
		if _, err := s.st.Exec(ctx, tx, insertSQL(n), args...); err != nil {
			return fmt.Errorf("insert deliveries: %w", err)
		}
		batch = batch[n:]
	}
	return nil
}

// load reads the listed deliveries that are still pending, in ID (arrival)
// order.
func (s *deliveryStore) load(ctx context.Context, tx bun.Tx, ids []string) ([]storedDelivery, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	var out []storedDelivery
	err := db.InLists(ids, func(list []any) error {
		rows, err := s.st.Query(ctx, tx, loadSQL(len(list)), list...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d storedDelivery
			if err := rows.Scan(&d.ID, &d.Body); err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("load deliveries: %w", err)
	}
	return out, nil
}

// remove deletes processed deliveries that are still pending.
func (s *deliveryStore) remove(ctx context.Context, tx bun.Tx, ids []string) error {
	err := db.InLists(ids, func(list []any) error {
		_, err := s.st.Exec(ctx, tx, deleteSQL(len(list)), list...)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete processed deliveries: %w", err)
	}
	return nil
}

func loadSQL(n int) string {
	return `SELECT id, body FROM webhook_deliveries WHERE id IN (` + db.Placeholders(n) + `) AND state = 'pending' ORDER BY id`
}

func deleteSQL(n int) string {
	return `DELETE FROM webhook_deliveries WHERE id IN (` + db.Placeholders(n) + `) AND state = 'pending'`
}

// insertSQL is an INSERT of n pending deliveries.
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO webhook_deliveries (id, source, body, state, error, received_at) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, 'pending', '', ?)")
	}
	return b.String()
}

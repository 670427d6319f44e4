package webhook

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// source is the webhook_deliveries.source of Meta deliveries.
const source = "meta"

// maxChunk is the most rows one INSERT carries (4 parameters each, far
// below both engines' limits).
const maxChunk = 256

// lockClass is the first half of the PostgreSQL advisory lock that makes
// replicas apply deliveries one transaction at a time ("prly" in ASCII);
// the second half is the deliveries table's OID, so that two deployments
// (or two test schemas) sharing a server do not wait for each other.
const lockClass = 0x70726c79

// deliveryStore runs the intake's hot statements prepared (db.Statements),
// since bun would format every value into a new SQL text and on SQLite
// parsing that costs more than running it: the multi-row INSERT of
// deliveries, one statement per power-of-two row count (a batch of n rows
// takes at most log2(n)+1 statements); processing's claim (a DELETE … RETURNING
// per padded list length, db.InLists), quarantine and advisory lock; and
// the catch-up reads of pending deliveries, on the reader pool.
//
// Start prepares them, outside any transaction (on SQLite the one writer
// connection may otherwise be held by the very transaction that wants
// them).
type deliveryStore struct {
	st      *db.Statements
	dialect db.Dialect
	maxRows int // the largest INSERT prepared
}

// Statements of processing. The claim and the quarantine only touch rows
// still pending, so whoever else got to a delivery first (another
// replica, a catch-up read) wins and this transaction skips it. Both
// engines support DELETE … RETURNING (SQLite since 3.35).
const (
	sqlQuarantine = `UPDATE webhook_deliveries SET state = 'quarantined', error = ? WHERE id = ? AND state = 'pending'`
	// sqlPending and sqlPendingBefore read the oldest pending deliveries
	// but those held back for a paused workspace (held_for set, see
	// hold); the index webhook_deliveries_ready (state, held_for, id)
	// serves both and skips the held ones, however many an incident
	// piles up.
	sqlPending       = `SELECT id, body FROM webhook_deliveries WHERE state = 'pending' AND held_for = '' ORDER BY id LIMIT ?`
	sqlPendingBefore = `SELECT id, body FROM webhook_deliveries WHERE state = 'pending' AND held_for = '' AND id < ? ORDER BY id LIMIT ?`
	// sqlHold sets a pending delivery aside for a workspace whose
	// processing is paused (the kill switch, security.md P-3).
	sqlHold = `UPDATE webhook_deliveries SET held_for = ? WHERE id = ? AND state = 'pending' AND held_for = ''`
	sqlLock = `SELECT pg_advisory_xact_lock(?, CAST(CAST(CAST('webhook_deliveries' AS regclass) AS oid) AS integer))`
)

// prepare prepares the INSERTs for every power of two up to the chunk size
// batchMax needs, and processing's statements.
func (s *deliveryStore) prepare(ctx context.Context, batchMax int) error {
	var writes []string
	s.maxRows = 1
	for n := 1; n <= min(batchMax, maxChunk); n *= 2 {
		writes = append(writes, insertSQL(n))
		s.maxRows = n
	}
	for _, n := range db.ListSizes() {
		writes = append(writes, claimSQL(n))
	}
	writes = append(writes, sqlQuarantine, sqlHold)
	if s.dialect == db.Postgres {
		writes = append(writes, sqlLock)
	}
	return s.st.Prepare(ctx, writes, []string{sqlPending, sqlPendingBefore})
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

// pending reads at most limit pending deliveries, oldest first, from the
// reader pool: outside the processing transaction, so the writer is not
// held while they are read and opened. With before set, only those whose
// ID sorts before it (received earlier). What it returns may be gone by
// the time it is applied; the claim sorts that out.
func (s *deliveryStore) pending(ctx context.Context, idb bun.IDB, before string, limit int) ([]item, error) {
	q, args := sqlPending, []any{limit}
	if before != "" {
		q, args = sqlPendingBefore, []any{before, limit}
	}
	rows, err := s.st.Query(ctx, idb, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read pending deliveries: %w", err)
	}
	defer rows.Close()
	var out []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.id, &it.sealed); err != nil {
			return nil, fmt.Errorf("read pending deliveries: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pending deliveries: %w", err)
	}
	return out, nil
}

// lock takes, on PostgreSQL, the transaction-scoped advisory lock that
// serialises processing transactions across replicas. SQLite has one
// writer already.
func (s *deliveryStore) lock(ctx context.Context, tx bun.Tx) error {
	if s.dialect != db.Postgres {
		return nil
	}
	if _, err := s.st.Exec(ctx, tx, sqlLock, lockClass); err != nil {
		return fmt.Errorf("take the processing lock: %w", err)
	}
	return nil
}

// quarantine sets a pending delivery aside with the reason; it stays for
// an operator (and retention) and is never retried. It reports false when
// the delivery was no longer pending (handled elsewhere).
func (s *deliveryStore) quarantine(ctx context.Context, tx bun.Tx, id, reason string) (bool, error) {
	res, err := s.st.Exec(ctx, tx, sqlQuarantine, reason, id)
	if err != nil {
		return false, fmt.Errorf("quarantine delivery: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("quarantine delivery: %w", err)
	}
	return n == 1, nil
}

// hold sets a pending delivery aside for workspaceID. It reports false
// when the delivery was no longer pending or already held.
func (s *deliveryStore) hold(ctx context.Context, tx bun.Tx, id, workspaceID string) (bool, error) {
	res, err := s.st.Exec(ctx, tx, sqlHold, workspaceID, id)
	if err != nil {
		return false, fmt.Errorf("hold delivery: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("hold delivery: %w", err)
	}
	return n == 1, nil
}

// release makes pending again every delivery held for a workspace that is
// not in held (all of them when held is empty): those of workspaces that
// resumed, including what a process that stopped meanwhile left held. It
// runs only when the holds shrink, so it is not prepared.
func (s *deliveryStore) release(ctx context.Context, idb bun.IDB, held map[string]bool) (int64, error) {
	q := idb.NewUpdate().Table("webhook_deliveries").Set("held_for = ''").
		Where("state = 'pending'").Where("held_for <> ''")
	if len(held) > 0 {
		still := make([]string, 0, len(held))
		for ws := range held {
			still = append(still, ws)
		}
		q = q.Where("held_for NOT IN (?)", bun.In(still))
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("release held deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// claim deletes the listed deliveries that are still pending and returns
// the IDs it deleted: exactly the ones this transaction may apply.
func (s *deliveryStore) claim(ctx context.Context, tx bun.Tx, ids []string) (map[string]bool, error) {
	won := make(map[string]bool, len(ids))
	err := db.InLists(ids, func(list []any) error {
		rows, err := s.st.Query(ctx, tx, claimSQL(len(list)), list...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			won[id] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return won, nil
}

// claimSQL deletes up to n listed pending deliveries, returning their IDs.
func claimSQL(n int) string {
	return `DELETE FROM webhook_deliveries WHERE id IN (` + db.Placeholders(n) + `) AND state = 'pending' AND held_for = '' RETURNING id`
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

package search

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Feeds, the keys of search_cursors.
const (
	feedContacts = "contacts"
	feedMessages = "messages"
)

// Start runs the indexer in the background until Stop (or ctx ends): Step
// again at once while there is work, every Interval once caught up.
// Indexing never runs in the webhook's transaction; it follows durable
// cursors, so a restart resumes where the last committed batch ended.
// Starting a running Index is a no-op.
func (x *Index) Start(ctx context.Context) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done != nil {
		return
	}
	ctx, x.stop = context.WithCancel(ctx)
	x.done = make(chan struct{})
	go x.loop(ctx, x.done)
}

// Stop ends the loop started by Start and waits for its batch to finish
// (or roll back).
func (x *Index) Stop() {
	x.mu.Lock()
	stop, done := x.stop, x.done
	x.stop, x.done = nil, nil
	x.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	<-done
}

func (x *Index) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		began := time.Now()
		n, err := x.Step(ctx)
		if err != nil && ctx.Err() == nil {
			x.opt.Logger.Error("search: index", "error", err)
		}
		if n > 0 && err == nil {
			t.Reset(x.rest(time.Since(began)))
		} else {
			t.Reset(x.opt.Interval)
		}
	}
}

// rest is how long the loop waits, while catching up, after a batch that
// took d: in proportion to the work, so indexing takes at most Duty of the
// time (and of the writer) while webhooks are flowing, and IdleDuty once
// Busy says they have eased.
func (x *Index) rest(d time.Duration) time.Duration {
	duty := x.opt.Duty
	if x.opt.Busy != nil && !x.opt.Busy() {
		duty = x.opt.IdleDuty
	}
	return time.Duration(float64(d) * (1 - duty) / duty)
}

// Step indexes one batch of each feed (contacts queued by Touch, contacts
// changed, messages created), each in its own transaction together with
// its cursor, so it is idempotent and resumable. It returns how many
// contacts and messages it indexed or found gone; 0 means caught up. A job
// handler may call it instead of Start.
func (x *Index) Step(ctx context.Context) (int, error) {
	total := 0
	for _, f := range []func(context.Context) (int, error){x.stepPending, x.stepContacts, x.stepMessages} {
		n, err := f(ctx)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Touch queues a contact for re-indexing inside the caller's transaction:
// call it when a searchable field that does not move contacts.updated_at
// changes (a phone or e-mail value). Cheap: one upsert.
func (x *Index) Touch(ctx context.Context, idb bun.IDB, workspaceID, contactID string) error {
	// Microseconds: PostgreSQL keeps no more, and stepPending deletes the
	// row by equality with the time it read.
	_, err := idb.NewRaw(`INSERT INTO search_pending (workspace_id, contact_id, queued_at) VALUES (?, ?, ?)
		ON CONFLICT (workspace_id, contact_id) DO UPDATE SET queued_at = excluded.queued_at`,
		workspaceID, contactID, x.opt.Now().UTC().Truncate(time.Microsecond)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("search: touch: %w", err)
	}
	return nil
}

// Forget removes a message from the index inside the caller's transaction:
// the inbox calls it when the person unsends the message. A message not
// indexed yet is skipped later, since its sealed body no longer holds text.
func (x *Index) Forget(ctx context.Context, idb bun.IDB, workspaceID, messageID string) error {
	if _, err := idb.NewRaw(`DELETE FROM search_docs WHERE workspace_id = ? AND message_id = ?`, workspaceID, messageID).Exec(ctx); err != nil {
		return fmt.Errorf("search: forget: %w", err)
	}
	return nil
}

// cursor reads a feed's position (the zero time and "" before the first
// batch).
func cursor(ctx context.Context, tx bun.IDB, feed string) (time.Time, string, error) {
	var at time.Time
	var ref string
	err := tx.NewRaw(`SELECT at, ref FROM search_cursors WHERE feed = ?`, feed).Scan(ctx, &at, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, "", nil
	}
	return at.UTC(), ref, err
}

func setCursor(ctx context.Context, tx bun.IDB, feed string, at time.Time, ref string) error {
	_, err := tx.NewRaw(`INSERT INTO search_cursors (feed, at, ref) VALUES (?, ?, ?)
		ON CONFLICT (feed) DO UPDATE SET at = excluded.at, ref = excluded.ref`, feed, at.UTC(), ref).Exec(ctx)
	return err
}

func (x *Index) stepContacts(ctx context.Context) (int, error) {
	n := 0
	err := x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		at, ref, err := cursor(ctx, tx, feedContacts)
		if err != nil {
			return err
		}
		cs, err := x.opt.Contacts.FeedContacts(ctx, tx, at, ref, x.opt.Now().Add(-x.opt.Lag), x.opt.Batch)
		if err != nil || len(cs) == 0 {
			return err
		}
		for _, c := range cs {
			if err := x.indexContact(ctx, tx, c); err != nil {
				return err
			}
		}
		n = len(cs)
		last := cs[len(cs)-1]
		return setCursor(ctx, tx, feedContacts, last.UpdatedAt, last.ID)
	})
	if err != nil {
		return 0, fmt.Errorf("search: index contacts: %w", err)
	}
	return n, nil
}

func (x *Index) stepMessages(ctx context.Context) (int, error) {
	n := 0
	err := x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		at, ref, err := cursor(ctx, tx, feedMessages)
		if err != nil {
			return err
		}
		ms, err := x.opt.Messages.FeedMessages(ctx, tx, at, ref, x.opt.Now().Add(-x.opt.Lag), x.opt.Batch)
		if err != nil || len(ms) == 0 {
			return err
		}
		for _, m := range ms {
			if err := x.indexMessage(ctx, tx, m); err != nil {
				return err
			}
		}
		n = len(ms)
		last := ms[len(ms)-1]
		return setCursor(ctx, tx, feedMessages, last.CreatedAt, last.ID)
	})
	if err != nil {
		return 0, fmt.Errorf("search: index messages: %w", err)
	}
	return n, nil
}

// stepPending re-indexes contacts queued by Touch. A contact deleted since
// is simply dropped (its queue row went with it, by cascade).
func (x *Index) stepPending(ctx context.Context) (int, error) {
	n := 0
	err := x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []struct {
			WorkspaceID string    `bun:"workspace_id"`
			ContactID   string    `bun:"contact_id"`
			QueuedAt    time.Time `bun:"queued_at"`
		}
		if err := tx.NewRaw(`SELECT workspace_id, contact_id, queued_at FROM search_pending ORDER BY queued_at LIMIT ?`,
			x.opt.Batch).Scan(ctx, &rows); err != nil {
			return err
		}
		byWS := map[string][]string{}
		for _, r := range rows {
			byWS[r.WorkspaceID] = append(byWS[r.WorkspaceID], r.ContactID)
		}
		for ws, ids := range byWS {
			cs, err := x.opt.Contacts.Contacts(ctx, tx, ws, ids)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if c, ok := cs[id]; ok {
					if err := x.indexContact(ctx, tx, c); err != nil {
						return err
					}
				}
			}
		}
		for _, r := range rows {
			// Only the touch read here: a newer one stays queued.
			if _, err := tx.NewRaw(`DELETE FROM search_pending WHERE workspace_id = ? AND contact_id = ? AND queued_at = ?`,
				r.WorkspaceID, r.ContactID, r.QueuedAt).Exec(ctx); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("search: index touched contacts: %w", err)
	}
	return n, nil
}

// contactGrams returns the grams of a contact: its name and e-mails as
// normalized text, its phones as digits.
func contactGrams(c ContactText) []gram {
	var gs []gram
	gs = textGrams(gs, Normalize(c.Name))
	for _, e := range c.Emails {
		gs = textGrams(gs, Normalize(e))
	}
	for _, p := range c.Phones {
		if d, ok := phoneDigits(p); ok {
			gs = textGrams(gs, d)
		}
	}
	return gs
}

// indexContact replaces the contact's profile document.
func (x *Index) indexContact(ctx context.Context, tx bun.IDB, c ContactText) error {
	if _, err := tx.NewRaw(`DELETE FROM search_docs WHERE workspace_id = ? AND contact_id = ? AND message_id IS NULL`,
		c.WorkspaceID, c.ID).Exec(ctx); err != nil {
		return err
	}
	ds, err := x.dg.digests(c.WorkspaceID, scopeContact, contactGrams(c))
	if err != nil || len(ds) == 0 {
		return err
	}
	var doc int64
	if err := tx.NewRaw(`INSERT INTO search_docs (workspace_id, contact_id) VALUES (?, ?) RETURNING id`,
		c.WorkspaceID, c.ID).Scan(ctx, &doc); err != nil {
		return err
	}
	return insertGrams(ctx, tx, doc, ds)
}

// indexMessage replaces the message's document (none when it has no text).
func (x *Index) indexMessage(ctx context.Context, tx bun.IDB, m MessageText) error {
	if _, err := tx.NewRaw(`DELETE FROM search_docs WHERE workspace_id = ? AND message_id = ?`, m.WorkspaceID, m.ID).Exec(ctx); err != nil {
		return err
	}
	ds, err := x.dg.digests(m.WorkspaceID, scopeMessage, textGrams(nil, Normalize(m.Text)))
	if err != nil || len(ds) == 0 {
		return err
	}
	var doc int64
	if err := tx.NewRaw(`INSERT INTO search_docs (workspace_id, contact_id, conversation_id, message_id) VALUES (?, ?, ?, ?) RETURNING id`,
		m.WorkspaceID, m.ContactID, m.ConversationID, m.ID).Scan(ctx, &doc); err != nil {
		return err
	}
	return insertGrams(ctx, tx, doc, ds)
}

// gramsPerInsert bounds one INSERT's rows (2 parameters each; SQLite allows
// 32766 parameters, PostgreSQL 65535).
const gramsPerInsert = 500

// insertGrams adds doc's postings, several rows per statement.
func insertGrams(ctx context.Context, tx bun.IDB, doc int64, ds []int64) error {
	for len(ds) > 0 {
		k := min(len(ds), gramsPerInsert)
		var q strings.Builder
		q.WriteString(`INSERT INTO search_grams (gram, doc) VALUES `)
		args := make([]any, 0, 2*k)
		for i, d := range ds[:k] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?, ?)")
			args = append(args, d, doc)
		}
		q.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := tx.NewRaw(q.String(), args...).Exec(ctx); err != nil {
			return err
		}
		ds = ds[k:]
	}
	return nil
}

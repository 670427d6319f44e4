package search

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// env is one test's world: a database, a keyring, stores and the index.
type env struct {
	t        testing.TB
	d        *db.DB
	kr       *keyring.Keyring
	contacts *contact.Store
	channels *channel.Store
	ix       *Index
	now      time.Time
	convs    map[string]string // contact ID → conversation ID
}

func setup(t testing.TB, d *db.DB, batch int) *env {
	e := &env{t: t, d: d, now: fixture.Epoch, convs: map[string]string{}}
	e.kr, _ = fixture.Keyring(t, d, e.clock)
	e.contacts = contact.NewStore(d, e.kr, e.clock)
	e.channels = channel.NewStore(d, e.kr, e.clock)
	e.ix = e.index(batch)
	return e
}

func (e *env) clock() time.Time { return e.now }

// index returns a new Index on e's database, as after a restart.
func (e *env) index(batch int) *Index {
	return New(e.d, e.kr, e.options(Options{Now: e.clock, Batch: batch}))
}

// options fills in the sources of opt.
func (e *env) options(opt Options) Options {
	opt.Contacts = NewContactSource(e.contacts)
	opt.Messages = NewMessageSource(inbox.New(e.d, e.kr, inbox.Options{Now: e.clock}))
	return opt
}

// workspace makes a workspace with one Messenger page.
func (e *env) workspace(pageID string) (string, channel.Channel) {
	ws := fixture.Workspace(e.t, e.d, e.kr)
	return ws, fixture.Messenger(e.t, e.channels, ws, pageID, "token-"+pageID)
}

// person makes a contact on ch with the given names (sealed by package
// contact, as the profile job does).
func (e *env) person(ch channel.Channel, psid, first, last string) contact.Contact {
	e.t.Helper()
	e.now = e.now.Add(time.Second)
	var c contact.Contact
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var err error
		c, _, err = e.contacts.Upsert(ctx, tx, ch, psid)
		return err
	})
	if err == nil {
		err = e.contacts.SetProfile(context.Background(), ch.WorkspaceID, c.ID, channel.Profile{FirstName: first, LastName: last}, contact.ProfileFetched)
	}
	if err != nil {
		e.t.Fatalf("person %s: %v", psid, err)
	}
	return c
}

// message stores an inbound text message of c, sealed as package inbox
// seals bodies (JSON of channel.Content under the contact's key, bound to
// messages.body of the row), in c's conversation (made on first use).
func (e *env) message(c contact.Contact, text string) string {
	e.t.Helper()
	e.now = e.now.Add(time.Second)
	id := uuid.Must(uuid.NewV7()).String()
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		conv, ok := e.convs[c.ID]
		if !ok {
			conv = uuid.Must(uuid.NewV7()).String()
			if _, err := tx.NewRaw(`INSERT INTO conversations (id, workspace_id, channel_id, contact_id, last_activity_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, conv, c.WorkspaceID, c.ChannelID, c.ID, e.now, e.now, e.now).Exec(ctx); err != nil {
				return err
			}
			e.convs[c.ID] = conv
		}
		pt, _ := json.Marshal(map[string]string{"text": text})
		body, err := e.kr.SealContactTx(ctx, tx, msgAAD(c.WorkspaceID, id), c.ID, pt)
		if err != nil {
			return err
		}
		_, err = tx.NewRaw(`INSERT INTO messages (id, workspace_id, channel_id, conversation_id, contact_id, direction, kind, body,
			sender_type, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'in', 'text', ?, 'contact', 'received', ?, ?)`,
			id, c.WorkspaceID, c.ChannelID, conv, c.ID, body, e.now, e.now).Exec(ctx)
		return err
	})
	if err != nil {
		e.t.Fatalf("message: %v", err)
	}
	return id
}

// catchUp moves the clock past the indexer's lag and steps until idle.
func (e *env) catchUp(ix *Index) {
	e.t.Helper()
	e.now = e.now.Add(time.Minute)
	for range 1000 {
		n, err := ix.Step(context.Background())
		if err != nil {
			e.t.Fatalf("step: %v", err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("indexer never caught up")
}

// search runs a query that must be valid.
func (e *env) search(ws, q string, opt QueryOptions) Results {
	e.t.Helper()
	r, err := e.ix.Search(context.Background(), ws, q, opt)
	if err != nil {
		e.t.Fatalf("search %q: %v", q, err)
	}
	return r
}

// count runs a counting query.
func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		e.t.Fatalf("count: %v", err)
	}
	return n
}

// erase deletes a contact as erasure does: the row (cascading to its
// conversations, messages and index entries) and its key, in one
// transaction.
func (e *env) erase(c contact.Contact) {
	e.t.Helper()
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if err := db.OneRow(tx.NewRaw(`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, c.WorkspaceID, c.ID).Exec(ctx)); err != nil {
			return err
		}
		return e.kr.DestroyContactKey(ctx, tx, c.WorkspaceID, c.ID)
	})
	if err != nil {
		e.t.Fatalf("erase: %v", err)
	}
}

func msgAAD(workspaceID, id string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "messages", Column: "body", Row: id}
}

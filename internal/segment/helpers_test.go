package segment_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	contacts *contact.Store
	channels *channel.Store
	seg      *segment.Store
	now      time.Time
}

var (
	ctx   = context.Background()
	admin = audit.Actor{UserID: "u-admin"}
	byAdm = contact.By{Kind: contact.ByUser, ID: "u-admin"}
)

func setup(t *testing.T, d *db.DB) *env {
	e := &env{d: d, now: fixture.Epoch}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	e.contacts = contact.NewStore(d, e.kr, clock)
	e.channels = channel.NewStore(d, e.kr, clock)
	e.seg = segment.NewStore(d, e.contacts, clock)
	return e
}

// person creates a contact on ch at the clock's time.
func (e *env) person(t *testing.T, ch channel.Channel, psid string) string {
	t.Helper()
	var id string
	err := e.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c, _, err := e.contacts.Upsert(ctx, tx, ch, psid)
		id = c.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// lastInbound gives the contact a conversation whose last message from the
// person was at (inbox's table, written here only to set up).
func (e *env) lastInbound(t *testing.T, ws string, ch channel.Channel, contactID string, at time.Time) {
	t.Helper()
	if _, err := e.d.W.NewRaw(`INSERT INTO conversations (id, workspace_id, channel_id, contact_id, last_activity_at, last_inbound_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()).String(), ws, ch.ID, contactID, at, at, at, at).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *env) field(t *testing.T, ws, key string, typ contact.FieldType, choices ...string) {
	t.Helper()
	if _, err := e.contacts.DefineField(ctx, admin, ws, key, contact.FieldSpec{Label: key, Type: typ, Choices: choices}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) set(t *testing.T, ws, id, key, raw string) {
	t.Helper()
	if _, err := e.contacts.SetField(ctx, nil, ws, id, key, raw, contact.SetOptions{By: byAdm}); err != nil {
		t.Fatal(err)
	}
}

// all pages through the target's members, n at a time.
func (e *env) all(t *testing.T, ws string, tg segment.Target, n int) ([]string, error) {
	t.Helper()
	var out []string
	cursor := ""
	for range 1000 {
		p, err := e.seg.Members(ctx, ws, tg, cursor, n)
		if err != nil {
			return nil, err
		}
		out = append(out, p.IDs...)
		if p.NextCursor == "" {
			return out, nil
		}
		cursor = p.NextCursor
	}
	t.Fatal("members never ended")
	return nil, nil
}

func sorted(ids ...string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

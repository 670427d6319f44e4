package activity_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	store    *activity.Store
	contacts *contact.Store
	channels *channel.Store
	now      time.Time
}

func setup(t *testing.T, d *db.DB) *env {
	e := &env{d: d, now: fixture.Epoch}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	e.store = activity.NewStore(d, e.kr, clock)
	e.contacts = contact.NewStore(d, e.kr, clock)
	e.channels = channel.NewStore(d, e.kr, clock)
	return e
}

func (e *env) workspace(t *testing.T) string { return fixture.Workspace(t, e.d, e.kr) }

// contact adds a contact to the workspace ws, on a page of its own.
func (e *env) contact(t *testing.T, ws, psid string) string {
	t.Helper()
	ch := fixture.Messenger(t, e.channels, ws, "page-"+psid, "token-"+psid)
	var c contact.Contact
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var err error
		c, _, err = e.contacts.Upsert(ctx, tx, ch, psid)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// record runs Record in a transaction of its own.
func (e *env) record(t *testing.T, en activity.Entry) error {
	t.Helper()
	return e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return e.store.Record(ctx, tx, en)
	})
}

// erase deletes the contact and destroys its key, as erasure does.
func (e *env) erase(t *testing.T, ws, contactID string) {
	t.Helper()
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if err := e.kr.DestroyContactKey(ctx, tx, ws, contactID); err != nil {
			return err
		}
		_, err := tx.NewRaw(`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, ws, contactID).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// count counts the rows of contact_activity matching where.
func count(t *testing.T, d *db.DB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(`SELECT count(*) FROM contact_activity WHERE `+where, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

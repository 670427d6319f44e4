package calllog_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/calllog"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	contacts *contact.Store
	activity *activity.Store
	channels *channel.Store
	syncer   *calllog.Syncer
	now      time.Time
	region   map[string]string // workspace → region Options.Region gives
}

func setup(t *testing.T, d *db.DB) *env {
	e := &env{d: d, now: fixture.Epoch, region: map[string]string{}}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	e.contacts = contact.NewStore(d, e.kr, clock)
	e.activity = activity.NewStore(d, e.kr, clock)
	e.channels = channel.NewStore(d, e.kr, clock)
	e.syncer = calllog.New(d, e.kr, e.contacts, e.activity, clock, calllog.Options{
		Region: func(_ context.Context, ws string) (string, error) { return e.region[ws], nil },
	})
	return e
}

// workspace adds a workspace with a phone field "phone".
func (e *env) workspace(t *testing.T) string {
	t.Helper()
	ws := fixture.Workspace(t, e.d, e.kr)
	for _, key := range []string{"phone", "mobile"} {
		if _, err := e.contacts.DefineField(context.Background(), admin, ws, key, contact.FieldSpec{Label: key, Type: contact.FieldPhone}); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// lead adds a contact to ws, on a page of its own, with the given phone.
func (e *env) lead(t *testing.T, ws, psid, phone string) string {
	t.Helper()
	ch := fixture.Messenger(t, e.channels, ws, "page-"+psid, "token-"+psid)
	var c contact.Contact
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var err error
		if c, _, err = e.contacts.Upsert(ctx, tx, ch, psid); err != nil {
			return err
		}
		if phone == "" {
			return nil
		}
		_, err = e.contacts.SetField(ctx, tx, ws, c.ID, "phone", phone, contact.SetOptions{By: byAgent, Region: "KH"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// sync runs Sync or fails the test.
func (e *env) sync(t *testing.T, ws string, calls ...calllog.Call) calllog.Result {
	t.Helper()
	res, err := e.syncer.Sync(context.Background(), byPhoneApp, ws, "device-1", calls)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return res
}

// calls returns the call entries of a contact's activity, newest first.
func (e *env) calls(t *testing.T, ws, contactID string) []activity.Entry {
	t.Helper()
	es, err := e.activity.List(context.Background(), ws, contactID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []activity.Entry
	for _, en := range es {
		if en.Kind == activity.KindCall {
			out = append(out, en)
		}
	}
	return out
}

// rows counts a table's rows.
func rows(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(`SELECT count(*) FROM `+table).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

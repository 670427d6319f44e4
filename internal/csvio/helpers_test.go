package csvio

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

var (
	ctx   = context.Background()
	admin = audit.Actor{UserID: "u-admin"}
	byAdm = contact.By{Kind: contact.ByUser, ID: "u-admin"}
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	contacts *contact.Store
	segs     *segment.Store
	jobs     *job.Queue
	im       *Importer
	ex       *Exporter
	now      time.Time
}

func setup(t *testing.T, d *db.DB) *env {
	e := &env{d: d, now: fixture.Epoch}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	e.contacts = contact.NewStore(d, e.kr, clock)
	e.segs = segment.NewStore(d, e.contacts, clock)
	e.jobs = job.New(d, job.Options{PollInterval: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	e.im = NewImporter(d, e.kr, e.contacts, e.jobs, activity.NewStore(d, e.kr, clock), clock)
	e.ex = NewExporter(d, e.contacts, e.segs, clock)
	return e
}

func (e *env) workspace(t *testing.T) string {
	t.Helper()
	ws := fixture.Workspace(t, e.d, e.kr)
	for _, f := range []struct {
		key string
		typ contact.FieldType
	}{{"email", contact.FieldEmail}, {"phone", contact.FieldPhone}, {"city", contact.FieldText}, {"age", contact.FieldNumber}} {
		if _, err := e.contacts.DefineField(ctx, admin, ws, f.key, contact.FieldSpec{Label: f.key, Type: f.typ}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.contacts.CreateTag(ctx, admin, ws, "VIP", ""); err != nil {
		t.Fatal(err)
	}
	return ws
}

// person creates a channel-less contact with field values.
func (e *env) person(t *testing.T, ws, first, last string, values map[string]string) string {
	t.Helper()
	c, err := e.contacts.Create(ctx, nil, ws, contact.NewContact{FirstName: first, LastName: last, By: byAdm})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		if _, err := e.contacts.SetField(ctx, nil, ws, c.ID, k, v, contact.SetOptions{By: byAdm}); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID
}

// people returns the workspace's contacts by display name.
func (e *env) people(t *testing.T, ws string) map[string]contact.Contact {
	t.Helper()
	var ids []string
	if err := e.d.R.NewRaw(`SELECT id FROM contacts WHERE workspace_id = ?`, ws).Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	m, err := e.contacts.GetMany(ctx, ws, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]contact.Contact{}
	for _, c := range m {
		if _, dup := out[c.DisplayName()]; dup {
			t.Fatalf("two contacts named %q", c.DisplayName())
		}
		out[c.DisplayName()] = c
	}
	return out
}

func (e *env) values(t *testing.T, ws, id string) map[string]string {
	t.Helper()
	vs, err := e.contacts.FieldValues(ctx, ws, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range vs {
		out[k] = v.Text
	}
	return out
}

func (e *env) tags(t *testing.T, ws, id string) []string {
	t.Helper()
	ts, err := e.contacts.ContactTags(ctx, ws, id)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, tg := range ts {
		out = append(out, tg.Name)
	}
	return out
}

// start starts an import and runs its job's handler directly.
func (e *env) start(t *testing.T, ws, data string, o Options) Import {
	t.Helper()
	imp, err := e.im.Start(ctx, admin, ws, []byte(data), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.im.Process(ctx, ws, imp.ID); err != nil {
		t.Fatal(err)
	}
	imp, err = e.im.Status(ctx, ws, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

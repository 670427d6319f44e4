package timeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/timeline"
	"github.com/parleyhq/parley/internal/validate"
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	store    *timeline.Store
	contacts *contact.Store
	channels *channel.Store
	now      time.Time
}

func setup(t *testing.T, d *db.DB) *env {
	e := &env{d: d, now: fixture.Epoch}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	e.store = timeline.NewStore(d, e.kr, clock)
	if err := e.store.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.contacts = contact.NewStore(d, e.kr, clock)
	e.channels = channel.NewStore(d, e.kr, clock)
	return e
}

// tick moves the clock on by a second.
func (e *env) tick() { e.now = e.now.Add(time.Second) }

func (e *env) workspace(t *testing.T) string { return fixture.Workspace(t, e.d, e.kr) }

// conv is a conversation made for a test, with its contact.
type conv struct{ ws, id, contactID string }

// conversation connects a page to ws, has a person write to it, and
// inserts their conversation the way package inbox does.
func (e *env) conversation(t *testing.T, ws string) conv {
	t.Helper()
	ctx := context.Background()
	ch := fixture.Messenger(t, e.channels, ws, "page-"+uuid.NewString()[:8], "token")
	var c conv
	err := e.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ct, _, err := e.contacts.Upsert(ctx, tx, ch, "psid-"+uuid.NewString()[:8])
		if err != nil {
			return err
		}
		c = conv{ws: ws, id: uuid.Must(uuid.NewV7()).String(), contactID: ct.ID}
		_, err = tx.NewRaw(`INSERT INTO conversations (id, workspace_id, channel_id, contact_id, last_activity_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.id, ws, ch.ID, ct.ID, e.now, e.now, e.now).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("conversation: %v", err)
	}
	return c
}

// member adds a user with role to ws and returns the user's ID.
func (e *env) member(t *testing.T, ws, role string) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	ctx := context.Background()
	err := e.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO users (id, email, email_key, name, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
			VALUES (?, ?, ?, 'Agent', 'x', ?, ?, ?, ?)`, id, id+"@example.com", id+"@example.com", e.now, e.now, e.now, e.now).Exec(ctx); err != nil {
			return err
		}
		if ws == "" {
			return nil
		}
		_, err := tx.NewRaw(`INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			ws, id, role, e.now, e.now).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("member: %v", err)
	}
	return id
}

// record runs Store.Record in a transaction of its own.
func (e *env) record(t *testing.T, ev timeline.Event) error {
	t.Helper()
	return e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return e.store.Record(ctx, tx, ev)
	})
}

func user(id string) audit.Actor { return audit.Actor{UserID: id} }

// mention is how the composer writes a mention of id.
func mention(name, id string) string { return "@[" + name + "](user:" + id + ")" }

// wantInvalid fails unless err is ErrInvalid naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if !errors.Is(err, timeline.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if v, ok := validate.As(err); !ok || v.Field != field {
		t.Fatalf("err = %v, want a validate.Error on %q", err, field)
	}
}

// auditDetails returns the actions of the note audit entries of ws, newest
// first, and their details joined.
func auditDetails(t *testing.T, d *db.DB, ws string) (actions []string, details string) {
	t.Helper()
	entries, err := audit.List(context.Background(), d, audit.Filter{WorkspaceID: ws, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, en := range entries {
		if !strings.HasPrefix(en.Action, "note.") {
			continue
		}
		actions = append(actions, en.Action)
		b.Write(en.Details)
	}
	return actions, b.String()
}

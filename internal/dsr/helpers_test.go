package dsr_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/timeline"
)

var (
	ctx   = context.Background()
	agent = audit.Actor{UserID: "u-agent"}
	byAg  = contact.By{Kind: contact.ByUser, ID: "u-agent"}
)

// clock is a settable clock.
type clock = fakeclock.Clock

var pageSeq atomic.Int64

// env is a workspace with the stores dsr reads, on one database.
type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	clock    *clock
	contacts *contact.Store
	activity *activity.Store
	channels *channel.Store
	timeline *timeline.Store
	inbox    *inbox.Service
	jobs     *job.Queue
	svc      *dsr.Service
	ws       string
	ch       channel.Channel
	eraser   *fakeEraser
}

// fakeEraser deletes the contact row, calling ForgetContact first as
// package erasure's hook does.
type fakeEraser struct {
	e     *env
	calls []string
}

func (f *fakeEraser) EraseContact(ctx context.Context, a audit.Actor, workspaceID, contactID string) error {
	f.calls = append(f.calls, contactID)
	return f.e.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := f.e.svc.ForgetContact(ctx, tx, workspaceID, contactID); err != nil {
			return err
		}
		if err := f.e.kr.DestroyContactKey(ctx, tx, workspaceID, contactID); err != nil {
			return err
		}
		return db.OneRow(tx.NewRaw(`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, contactID).Exec(ctx))
	})
}

// setup builds the env; opts change the Service's options before it is
// built.
func setup(t *testing.T, d *db.DB, opts ...func(*dsr.Options)) *env {
	t.Helper()
	e := &env{d: d, clock: fakeclock.New(fixture.Epoch)}
	e.kr, _ = fixture.Keyring(t, d, e.clock.Now)
	e.contacts = contact.NewStore(d, e.kr, e.clock.Now)
	e.activity = activity.NewStore(d, e.kr, e.clock.Now)
	e.channels = channel.NewStore(d, e.kr, e.clock.Now)
	e.timeline = timeline.NewStore(d, e.kr, e.clock.Now)
	log := slog.New(slog.DiscardHandler)
	e.jobs = job.New(d, job.Options{PollInterval: 20 * time.Millisecond, Log: log, Now: e.clock.Now})
	e.inbox = inbox.New(d, e.kr, inbox.Options{Now: e.clock.Now, Log: log, Channels: e.channels, Contacts: e.contacts,
		Jobs: e.jobs, Sends: e.jobs, Automation: dsr.Automation})
	e.eraser = &fakeEraser{e: e}
	opt := dsr.Options{Now: e.clock.Now, Log: log, Contacts: e.contacts, Activity: e.activity,
		Inbox: e.inbox, Timeline: e.timeline, Jobs: e.jobs, Eraser: e.eraser}
	for _, o := range opts {
		o(&opt)
	}
	e.svc = dsr.New(d, e.kr, opt)
	e.svc.Register()
	e.ws = fixture.Workspace(t, d, e.kr)
	n := pageSeq.Add(1)
	e.ch = fixture.Messenger(t, e.channels, e.ws, fmt.Sprintf("8%014d", n), fmt.Sprintf("EAA-SECRET-TOKEN-%d", n))
	return e
}

// person makes a contact who wrote texts on the page (as the webhook
// intake would apply them) and returns its ID and conversation.
func (e *env) person(t *testing.T, psid string, texts ...string) (contactID, conversationID string) {
	t.Helper()
	for i, text := range texts {
		ev := channel.Inbound{Type: channel.Messenger, Kind: channel.EventMessage, AccountID: e.ch.ExternalID, UserID: psid,
			At: e.clock.Now(), MID: fmt.Sprintf("m_%s_%d", psid, i), Content: channel.Content{Text: text}}
		if err := e.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := e.inbox.Ingest(ctx, tx, e.ch, []channel.Inbound{ev})
			return err
		}); err != nil {
			t.Fatalf("ingest: %v", err)
		}
	}
	var row struct {
		ID        string `bun:"id"`
		ContactID string `bun:"contact_id"`
	}
	if err := e.d.R.NewRaw(`SELECT c.id, c.contact_id FROM conversations c JOIN contacts p ON p.id = c.contact_id
		WHERE c.workspace_id = ? AND p.external_id = ?`, e.ws, psid).Scan(ctx, &row); err != nil {
		t.Fatalf("conversation of %s: %v", psid, err)
	}
	return row.ContactID, row.ID
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ptr[T any](v T) *T { return &v }

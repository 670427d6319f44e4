package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

var (
	admin = audit.Actor{UserID: "u-admin"}
	agent = audit.Actor{UserID: "u-agent"}
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	store    *pipeline.Store
	acts     *activity.Store
	contacts *contact.Store
	channels *channel.Store
	now      time.Time
}

func setup(t *testing.T, d *db.DB) *env {
	e := &env{d: d, now: fixture.Epoch}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	e.acts = activity.NewStore(d, e.kr, clock)
	e.contacts = contact.NewStore(d, e.kr, clock)
	e.channels = channel.NewStore(d, e.kr, clock)
	e.store = pipeline.NewStore(d, e.contacts, e.acts, clock)
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

// stages are input stages with these names.
func stages(names ...string) []pipeline.StageInput {
	out := make([]pipeline.StageInput, len(names))
	for i, n := range names {
		out[i] = pipeline.StageInput{Name: n}
	}
	return out
}

// create makes a pipeline or fails the test.
func (e *env) create(t *testing.T, ws, name string, names ...string) pipeline.Pipeline {
	t.Helper()
	p, err := e.store.CreatePipeline(context.Background(), admin, ws, name, stages(names...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// move runs Move or fails the test.
func (e *env) move(t *testing.T, ws, pipelineID, contactID, stageID, before string) pipeline.Card {
	t.Helper()
	c, err := e.store.Move(context.Background(), agent, ws, pipelineID, contactID, pipeline.Target{StageID: stageID, Before: before})
	if err != nil {
		t.Fatalf("move %s to %s before %q: %v", contactID, stageID, before, err)
	}
	return c
}

// moves returns the contact's pipeline activity entries, oldest first.
func (e *env) moves(t *testing.T, ws, contactID string) []activity.Entry {
	t.Helper()
	l, err := e.acts.List(context.Background(), ws, contactID, "", activity.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	var out []activity.Entry
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].Kind == activity.KindPipeline {
			out = append(out, l[i])
		}
	}
	return out
}

// column returns the contact IDs of a board column, in order, all pages.
func (e *env) column(t *testing.T, ws, pipelineID, stageID string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		c, err := e.store.Column(context.Background(), ws, pipelineID, stageID, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, card := range c.Cards {
			ids = append(ids, card.ContactID)
		}
		if c.Next == "" {
			return ids
		}
		cursor = c.Next
	}
}

// leadStage is the contact's lead stage.
func (e *env) leadStage(t *testing.T, ws, contactID string) string {
	t.Helper()
	c, err := e.contacts.Get(context.Background(), ws, contactID)
	if err != nil {
		t.Fatal(err)
	}
	return c.Stage
}

// snapshot is everything the pipeline tables and the activity log hold,
// to prove a refused operation changed nothing.
func (e *env) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var cards []struct {
		PipelineID string `bun:"pipeline_id"`
		ContactID  string `bun:"contact_id"`
		StageID    string `bun:"stage_id"`
		Position   int64  `bun:"position"`
	}
	if err := e.d.R.NewRaw(`SELECT pipeline_id, contact_id, stage_id, position FROM pipeline_cards ORDER BY pipeline_id, contact_id`).Scan(ctx, &cards); err != nil {
		t.Fatal(err)
	}
	var stageIDs, acts, leads []string
	if err := e.d.R.NewRaw(`SELECT id || ':' || name || ':' || position FROM pipeline_stages ORDER BY id`).Scan(ctx, &stageIDs); err != nil {
		t.Fatal(err)
	}
	if err := e.d.R.NewRaw(`SELECT id FROM contact_activity ORDER BY id`).Scan(ctx, &acts); err != nil {
		t.Fatal(err)
	}
	if err := e.d.R.NewRaw(`SELECT id || ':' || coalesce(stage, '') FROM contacts ORDER BY id`).Scan(ctx, &leads); err != nil {
		t.Fatal(err)
	}
	return fmtAll(cards, stageIDs, acts, leads)
}

func fmtAll(v ...any) string { return fmt.Sprintf("%+v", v) }

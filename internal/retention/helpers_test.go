package retention_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

// clock is a settable test clock.
type clock = fakeclock.Clock

// t0 is "now" for the tests: the real time to the second, because the
// database's audit-log guard measures a year by its own clock.
func t0() time.Time { return time.Now().UTC().Truncate(time.Second) }

// env is a database with a service over it.
type env struct {
	d   *db.DB
	clk *clock
	svc *retention.Service
	// batches are the batches the runs committed, in order.
	mu      sync.Mutex
	batches []retention.Batch
}

func newEnv(t *testing.T, d *db.DB, opt retention.Options) *env {
	t.Helper()
	e := &env{d: d, clk: fakeclock.New(t0())}
	opt.Now = e.clk.Now
	between := opt.Between
	opt.Between = func(ctx context.Context, b retention.Batch) error {
		e.mu.Lock()
		e.batches = append(e.batches, b)
		e.mu.Unlock()
		if between != nil {
			return between(ctx, b)
		}
		return nil
	}
	e.svc = retention.New(d, opt)
	return e
}

func (e *env) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := e.d.W.NewRaw(q, args...).Exec(context.Background()); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (e *env) strings(t *testing.T, q string, args ...any) []string {
	t.Helper()
	var out []string
	if err := e.d.R.NewRaw(q, args...).Scan(context.Background(), &out); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	sort.Strings(out)
	return out
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// tenant is a workspace with a page and one contact in one conversation.
type tenant struct {
	ws, channel, contact, conversation string
}

func (e *env) tenant(t *testing.T) tenant {
	t.Helper()
	now := e.clk.Now()
	tn := tenant{ws: newID(), channel: newID()}
	e.exec(t, `INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?, 'Shop', 'trial', ?, ?)`, tn.ws, now, now)
	e.exec(t, `INSERT INTO channels (id, workspace_id, type, external_id, name, status, created_at, updated_at)
		VALUES (?, ?, 'messenger', ?, 'Page', 'active', ?, ?)`, tn.channel, tn.ws, "page-"+tn.channel, now, now)
	tn.contact, tn.conversation = e.contact(t, tn)
	return tn
}

// contact adds a contact with a conversation on the tenant's page.
func (e *env) contact(t *testing.T, tn tenant) (contactID, conversationID string) {
	t.Helper()
	now := e.clk.Now()
	contactID, conversationID = newID(), newID()
	e.exec(t, `INSERT INTO contacts (id, workspace_id, channel_id, external_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		contactID, tn.ws, tn.channel, "psid-"+contactID, now, now)
	e.exec(t, `INSERT INTO conversations (id, workspace_id, channel_id, contact_id, last_activity_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, conversationID, tn.ws, tn.channel, contactID, now, now, now)
	return contactID, conversationID
}

// message adds a received message created at at, and its search document
// with two postings (as package search would index it).
func (e *env) message(t *testing.T, tn tenant, contactID, conversationID string, at time.Time) string {
	t.Helper()
	id := newID()
	e.exec(t, `INSERT INTO messages (id, workspace_id, channel_id, conversation_id, contact_id, direction, kind, body, sender_type, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'in', 'text', ?, 'contact', 'received', ?, ?)`,
		id, tn.ws, tn.channel, conversationID, contactID, []byte("sealed"), at, at)
	var doc int64
	if err := e.d.W.NewRaw(`INSERT INTO search_docs (workspace_id, contact_id, conversation_id, message_id) VALUES (?, ?, ?, ?) RETURNING id`,
		tn.ws, contactID, conversationID, id).Scan(context.Background(), &doc); err != nil {
		t.Fatalf("search doc: %v", err)
	}
	for _, g := range []int64{doc*10 + 1, doc*10 + 2} {
		e.exec(t, `INSERT INTO search_grams (gram, doc) VALUES (?, ?)`, g, doc)
	}
	return id
}

func (e *env) run(t *testing.T) retention.Report {
	t.Helper()
	rep, err := e.svc.Run(context.Background())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return rep
}

func (e *env) delivery(t *testing.T, at time.Time) string {
	t.Helper()
	id := newID()
	e.exec(t, `INSERT INTO webhook_deliveries (id, source, body, state, received_at) VALUES (?, 'meta', ?, 'quarantined', ?)`, id, []byte("sealed"), at)
	return id
}

func ago(now time.Time, days int, extra time.Duration) time.Time {
	return now.Add(-time.Duration(days)*24*time.Hour - extra)
}

func label(i int) string { return fmt.Sprintf("row %d", i) }

package team_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/workspace"
)

// admin is the member behind changes in these tests.
var admin = audit.Actor{UserID: "admin-1"}

// clock is a settable test clock; it does not move unless told to.
type clock = fakeclock.Clock

// env is one workspace on a fresh database with a team store.
type env struct {
	t     *testing.T
	d     *db.DB
	clock *clock
	s     *team.Store
	ws    string
	// channel is the workspace's channel for conversation fixtures.
	channel string
}

func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	c := fakeclock.New(fixture.Epoch)
	e := &env{t: t, d: d, clock: c, s: team.NewStore(d, c.Now, team.Options{})}
	e.ws = e.workspace()
	return e
}

// workspace inserts another workspace with a channel and returns its ID.
func (e *env) workspace() string {
	e.t.Helper()
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7()).String()
	ch := uuid.Must(uuid.NewV7()).String()
	if _, err := e.d.W.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?, 'Test', 'trial', ?, ?)`,
		id, fixture.Epoch, fixture.Epoch).Exec(ctx); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.d.W.NewRaw(`INSERT INTO channels (id, workspace_id, type, external_id, name, status, created_at, updated_at)
		VALUES (?, ?, 'messenger', ?, 'Page', 'active', ?, ?)`, ch, id, ch, fixture.Epoch, fixture.Epoch).Exec(ctx); err != nil {
		e.t.Fatal(err)
	}
	if e.channel == "" {
		e.channel = ch
	}
	return id
}

// team creates a team in ws, failing the test on error.
func (e *env) team(ws string, in team.Input) team.Team {
	e.t.Helper()
	tm, err := e.s.CreateTeam(context.Background(), admin, ws, in)
	if err != nil {
		e.t.Fatalf("create team %q: %v", in.Name, err)
	}
	return tm
}

// channelOf returns the channel of workspace ws.
func (e *env) channelOf(ws string) string {
	e.t.Helper()
	var ch string
	if err := e.d.R.NewRaw(`SELECT id FROM channels WHERE workspace_id = ? LIMIT 1`, ws).Scan(context.Background(), &ch); err != nil {
		e.t.Fatal(err)
	}
	return ch
}

// member inserts a user who is a member of ws with role, and returns the
// user ID. IDs are UUIDv7, so members made later sort later.
func (e *env) member(ws string, role workspace.Role) string {
	e.t.Helper()
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := e.d.W.NewRaw(`INSERT INTO users (id, email, email_key, name, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, 'Agent', 'x', ?, ?, ?, ?)`, id, id+"@example.com", id+"@example.com",
		fixture.Epoch, fixture.Epoch, fixture.Epoch, fixture.Epoch).Exec(ctx); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.d.W.NewRaw(`INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		ws, id, role, e.clock.Now(), e.clock.Now()).Exec(ctx); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// online makes userID online now (status online, seen now).
func (e *env) online(ws, userID string) {
	e.t.Helper()
	if err := e.s.SetAvailability(context.Background(), admin, ws, userID, team.StatusOnline); err != nil {
		e.t.Fatal(err)
	}
	if err := e.s.Seen(context.Background(), ws, userID); err != nil {
		e.t.Fatal(err)
	}
}

// conversation inserts, through idb, a conversation of ws assigned to
// assignee ("" for none) with status, and returns its ID.
func (e *env) conversation(idb bun.IDB, ws, assignee, status string) string {
	e.t.Helper()
	id, err := insertConversationStatus(context.Background(), idb, ws, e.channelOf(ws), assignee, status, e.clock.Now())
	if err != nil {
		e.t.Fatalf("insert %s conversation: %v", status, err)
	}
	return id
}

// insertConversation inserts an open conversation of ws on channel
// assigned to assignee, with its contact (goroutine-safe: no testing.T).
func insertConversation(ctx context.Context, idb bun.IDB, ws, channel, assignee string, now time.Time) (string, error) {
	return insertConversationStatus(ctx, idb, ws, channel, assignee, "open", now)
}

func insertConversationStatus(ctx context.Context, idb bun.IDB, ws, channel, assignee, status string, now time.Time) (string, error) {
	contact := uuid.Must(uuid.NewV7()).String()
	conv := uuid.Must(uuid.NewV7()).String()
	if _, err := idb.NewRaw(`INSERT INTO contacts (id, workspace_id, channel_id, external_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		contact, ws, channel, contact, now, now).Exec(ctx); err != nil {
		return "", err
	}
	var a *string
	if assignee != "" {
		a = &assignee
	}
	_, err := idb.NewRaw(`INSERT INTO conversations (id, workspace_id, channel_id, contact_id, status, owner, assignee_id, last_activity_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'human', ?, ?, ?, ?)`, conv, ws, channel, contact, status, a, now, now, now).Exec(ctx)
	return conv, err
}

// statusSupported reports whether the conversations table accepts status
// (the inbox's statuses grow with issue 5: pending, resolved …).
func (e *env) statusSupported(status string) bool {
	e.t.Helper()
	ctx := context.Background()
	ok := false
	err := e.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := insertConversationStatus(ctx, tx, e.ws, e.channelOf(e.ws), "", status, e.clock.Now())
		ok = err == nil
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		e.t.Fatal(err)
	}
	return ok
}

var errRollback = errors.New("roll back")

// doneStatus is a conversation status that is not open load: "resolved"
// once the inbox has it, "closed" before.
func (e *env) doneStatus() string {
	e.t.Helper()
	if e.statusSupported("resolved") {
		return "resolved"
	}
	return "closed"
}

// pick runs Pick in its own transaction and, when someone is chosen,
// assigns them a new open conversation in it, as the inbox does.
func (e *env) pick(ws, teamID string) (string, error) {
	e.t.Helper()
	var got string
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		id, err := e.s.Pick(ctx, tx, ws, teamID)
		if err != nil || id == "" {
			return err
		}
		got = id
		e.conversation(tx, ws, id, "open")
		return nil
	})
	return got, err
}

// mustPick is pick failing the test on error.
func (e *env) mustPick(ws, teamID string) string {
	e.t.Helper()
	id, err := e.pick(ws, teamID)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// actions lists the workspace's audit actions, oldest first.
func (e *env) actions(ws string) []audit.Entry {
	e.t.Helper()
	list, err := audit.List(context.Background(), e.d, audit.Filter{WorkspaceID: ws, Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(list)
	return list
}

// count runs a count(*) query.
func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// load returns userID's line of Load(ws).
func (e *env) load(ws, userID string) team.Agent {
	e.t.Helper()
	list, err := e.s.Load(context.Background(), ws)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range list {
		if a.UserID == userID {
			return a
		}
	}
	e.t.Fatalf("%s is not in Load(%s)", userID, ws)
	return team.Agent{}
}

// must fails the test on err.
func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// exec runs a statement on the writer.
func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.d.W.NewRaw(q, args...).Exec(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

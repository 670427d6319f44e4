package inbox

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/timeline"
)

// member adds a user with role to the harness's workspace and returns
// their ID.
func (h *harness) member(role string) string {
	h.t.Helper()
	return h.memberOf(h.ws, role)
}

func (h *harness) memberOf(ws, role string) string {
	h.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	ctx := context.Background()
	if _, err := h.d.W.NewRaw(`INSERT INTO users (id, email, email_key, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, 'x', ?, ?, ?, ?)`, id, id+"@example.com", id+"@example.com", fixture.Epoch, fixture.Epoch, fixture.Epoch, fixture.Epoch).Exec(ctx); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.d.W.NewRaw(`INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		ws, id, role, fixture.Epoch, fixture.Epoch).Exec(ctx); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// events lists the conversation's timeline events, oldest first, as
// "kind actor k=v,…" strings (data keys sorted).
func (h *harness) events(convID string) []string {
	h.t.Helper()
	es, err := h.svc.opt.Timeline.List(context.Background(), h.ws, convID, time.Time{}, time.Time{}, timeline.MaxPage)
	if err != nil {
		h.t.Fatal(err)
	}
	out := make([]string, 0, len(es))
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, eventString(es[i].Event))
	}
	return out
}

func eventString(e timeline.Event) string {
	s := string(e.Kind) + " " + e.Actor
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		sep := ","
		if i == 0 {
			sep = " "
		}
		s += sep + k + "=" + e.Data[k]
	}
	return s
}

// fakeTeams implements Teams: teams is the workspace's teams, and each
// Pick takes the next of picks ("" when none is left). It checks that it
// runs inside a transaction.
type fakeTeams struct {
	mu     sync.Mutex
	teams  map[string]bool
	auto   map[string]bool // AutoAssign by team ID ("": the workspace)
	picks  []string
	asked  []string // team IDs Pick was asked for
	inTx   bool
	pickOK bool
}

func (f *fakeTeams) Pick(ctx context.Context, tx bun.Tx, workspaceID, teamID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, teamID)
	// The transaction is usable: the conversation's row is visible in it.
	var n int
	if err := tx.NewRaw(`SELECT count(*) FROM conversations WHERE workspace_id = ?`, workspaceID).Scan(ctx, &n); err == nil && n > 0 {
		f.inTx = true
	}
	if len(f.picks) == 0 {
		return "", nil
	}
	p := f.picks[0]
	f.picks = f.picks[1:]
	return p, nil
}

func (f *fakeTeams) Has(_ context.Context, _ bun.IDB, _, teamID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.teams[teamID], nil
}

func (f *fakeTeams) AutoAssign(_ context.Context, _ bun.IDB, _, teamID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.auto[teamID], nil
}

// withTeams gives the harness's service a fake Teams.
func (h *harness) withTeams(f *fakeTeams) {
	opt := h.svc.opt
	opt.Teams = f
	h.svc = New(h.d, h.kr, opt)
}

// fakeActions records the sender actions sent.
func (f *fakeSender) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acts...)
}

// newConv ingests a first message from psid and returns its conversation.
func (h *harness) newConv(psid string) Conversation {
	h.t.Helper()
	h.ingest(h.text(psid, "m_first_"+psid, "hello"))
	return h.conversationOf(psid)
}

var _ channel.Sender = (*fakeSender)(nil)

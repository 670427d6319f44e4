package workspace_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// clock is a fake clock that moves only when told to.
type clock = fakeclock.Clock

// fakeKeys records CreateWorkspaceKey calls and whether the new workspace
// row was visible through the handle it was given (proving it runs in the
// creating transaction); err makes it fail.
type fakeKeys struct {
	mu    sync.Mutex
	calls []keyCall
	err   error
}

type keyCall struct {
	WorkspaceID string
	RowVisible  bool
}

func (k *fakeKeys) CreateWorkspaceKey(ctx context.Context, idb bun.IDB, workspaceID string) error {
	var n int
	if err := idb.NewRaw(`SELECT count(*) FROM workspaces WHERE id = ?`, workspaceID).Scan(ctx, &n); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, keyCall{WorkspaceID: workspaceID, RowVisible: n == 1})
	return k.err
}

func (k *fakeKeys) Calls() []keyCall {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]keyCall(nil), k.calls...)
}

// start is the fake clock's first reading.
var start = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// fixture is one service over one database with a fake clock and key maker.
type fixture struct {
	t    *testing.T
	d    *db.DB
	clk  *clock
	keys *fakeKeys
	svc  *workspace.Service
	ctx  context.Context
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	return newFixtureWith(t, d, workspace.Options{})
}

func newFixtureWith(t *testing.T, d *db.DB, opt workspace.Options) *fixture {
	t.Helper()
	f := &fixture{t: t, d: d, clk: fakeclock.New(start), keys: &fakeKeys{}, ctx: context.Background()}
	opt.Now = f.clk.Now
	f.svc = workspace.NewService(d, f.keys, opt)
	return f
}

// user inserts a users row and returns its ID.
func (f *fixture) user(email string) string {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	now := f.clk.Now()
	_, err := f.d.W.NewRaw(`INSERT INTO users (id, email, email_key, name, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'v1$x', ?, ?, ?, ?)`, id, email, strings.ToLower(email), "Name of "+email, now, now, now, now).Exec(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// as is the audit actor for a signed-in user.
func as(userID string) audit.Actor {
	return audit.Actor{UserID: userID, IP: "192.0.2.7", RequestID: "req-" + userID}
}

// workspace creates a workspace owned by a new user and returns both.
func (f *fixture) workspace(name string) (*workspace.Workspace, string) {
	f.t.Helper()
	owner := f.user(fmt.Sprintf("owner-%s@example.com", uuid.NewString()[:8]))
	w, err := f.svc.Create(f.ctx, as(owner), name, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return w, owner
}

// member adds a new user to w with role, through an invitation sent by the
// owner, and returns the user's ID.
func (f *fixture) member(w *workspace.Workspace, owner string, role workspace.Role) string {
	f.t.Helper()
	email := fmt.Sprintf("%s-%s@example.com", role, uuid.NewString()[:8])
	id := f.user(email)
	_, tok, err := f.svc.Invite(f.ctx, as(owner), workspace.RoleOwner, w.ID, email, role)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.svc.AcceptInvitation(f.ctx, as(id), tok, email); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// role returns userID's role in w, or "" when not a member.
func (f *fixture) role(workspaceID, userID string) workspace.Role {
	f.t.Helper()
	r, err := f.svc.MemberRole(f.ctx, workspaceID, userID)
	if errors.Is(err, db.ErrNotFound) {
		return ""
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// entries returns a workspace's audit entries, oldest first.
func (f *fixture) entries(workspaceID string) []audit.Entry {
	f.t.Helper()
	es, err := audit.List(f.ctx, f.d, audit.Filter{WorkspaceID: workspaceID, Limit: 200})
	if err != nil {
		f.t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

// actions returns a workspace's audit actions, oldest first.
func (f *fixture) actions(workspaceID string) []string {
	f.t.Helper()
	out := []string{}
	for _, e := range f.entries(workspaceID) {
		out = append(out, e.Action)
	}
	return out
}

// auditCount counts every audit entry in the database.
func (f *fixture) auditCount() int {
	f.t.Helper()
	return f.count(`SELECT count(*) FROM audit_log`)
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.R.NewRaw(q, args...).Scan(f.ctx, &n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// row reads one row as text values, for checks that must see every column.
func (f *fixture) row(q string, args ...any) map[string]string {
	f.t.Helper()
	m := map[string]any{}
	if err := f.d.R.NewRaw(q, args...).Scan(f.ctx, &m); err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range m {
		switch v := v.(type) {
		case []byte:
			out[k] = string(v)
		case nil:
			out[k] = ""
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// refused runs fn, which must fail with an error wrapping want, and checks
// that it wrote no audit entry anywhere.
func (f *fixture) refused(want error, fn func() error) {
	f.t.Helper()
	before := f.auditCount()
	err := fn()
	if !errors.Is(err, want) {
		f.t.Errorf("err = %v, want %v", err, want)
	}
	if n := f.auditCount(); n != before {
		f.t.Errorf("a refused call wrote %d audit entries", n-before)
	}
}

// invalid runs fn, which must fail with a *validate.Error on field, and
// checks that it wrote no audit entry anywhere.
func (f *fixture) invalid(field string, fn func() error) {
	f.t.Helper()
	before := f.auditCount()
	err := fn()
	if v, ok := validate.As(err); !ok || v.Field != field {
		f.t.Errorf("err = %v, want a validation error on %q", err, field)
	}
	if n := f.auditCount(); n != before {
		f.t.Errorf("an invalid call wrote %d audit entries", n-before)
	}
}

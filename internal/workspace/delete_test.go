package workspace_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

var errWrongPassword = errors.New("wrong password")

// deleteDeps fakes what deletion needs and records how it was used.
type deleteDeps struct {
	mu         sync.Mutex
	password   string
	destroyed  []string
	tombstones []string
	scheduled  []time.Time
	closed     []string
	// inTx records whether each call saw the workspace row through the
	// handle it was given (so it ran in the deleting transaction).
	inTx []bool
}

func (f *deleteDeps) VerifyPassword(_ context.Context, _, password string) error {
	if password != f.password {
		return errWrongPassword
	}
	return nil
}

func (f *deleteDeps) DestroyWorkspaceKeys(ctx context.Context, idb bun.IDB, workspaceID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.destroyed = append(f.destroyed, workspaceID)
	f.inTx = append(f.inTx, idb != nil)
	return nil
}

func (f *deleteDeps) RecordWorkspace(ctx context.Context, idb bun.IDB, workspaceID string) error {
	var n int
	if err := idb.NewRaw(`SELECT count(*) FROM workspaces WHERE id = ? AND purge_started_at IS NOT NULL`, workspaceID).Scan(ctx, &n); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tombstones = append(f.tombstones, workspaceID)
	f.inTx = append(f.inTx, n == 1)
	return nil
}

func (f *deleteDeps) deps() workspace.DeleterDeps {
	return workspace.DeleterDeps{
		Passwords: f, Keys: f, Tombstones: f,
		Schedule: func(ctx context.Context, idb bun.IDB, workspaceID string, at time.Time) error {
			var n int
			if err := idb.NewRaw(`SELECT count(*) FROM workspaces WHERE id = ? AND deletion_requested_at IS NOT NULL`, workspaceID).Scan(ctx, &n); err != nil {
				return err
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.scheduled = append(f.scheduled, at)
			f.inTx = append(f.inTx, n == 1)
			return nil
		},
		CloseChannels: func(_ context.Context, _ audit.Actor, workspaceID string) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.closed = append(f.closed, workspaceID)
			return nil
		},
	}
}

type deleteFixture struct {
	*fixture
	deps *deleteDeps
	del  *workspace.Deleter
}

func newDeleteFixture(t *testing.T, d *db.DB, opt workspace.DeleteOptions) *deleteFixture {
	f := &deleteFixture{fixture: newFixture(t, d), deps: &deleteDeps{password: "right password"}}
	opt.Now = f.clk.Now
	f.del = workspace.NewDeleter(d, f.deps.deps(), opt)
	return f
}

func (f *deleteFixture) get(id string) *workspace.Workspace {
	f.t.Helper()
	w, err := f.svc.Get(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return w
}

// Promise P-33, security.md §3.O O-5: only an owner, with the right
// password and the workspace's name typed, deletes it; every refusal
// changes nothing; the accepted request hides the workspace at once,
// schedules the purge in the same transaction and closes the channels.
func TestRequestDeletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newDeleteFixture(t, d, workspace.DeleteOptions{})
		w, owner := f.workspace("Sokha's Shop")
		admin := f.member(w, owner, workspace.RoleAdmin)
		stranger, _ := f.workspace("Elsewhere")
		before := f.auditCount()

		refusals := []struct {
			name, user, ws, confirm, password string
			want                              func(error) bool
		}{
			{"wrong password", owner, w.ID, w.Name, "wrong", func(err error) bool { return errors.Is(err, errWrongPassword) }},
			{"wrong name", owner, w.ID, "Sokha's", "right password", func(err error) bool {
				v, ok := validate.As(err)
				return ok && v.Field == "confirm_name"
			}},
			{"admin", admin, w.ID, w.Name, "right password", func(err error) bool { return errors.Is(err, workspace.ErrRoleNotAllowed) }},
			{"not a member", owner, stranger.ID, stranger.Name, "right password", func(err error) bool { return errors.Is(err, db.ErrNotFound) }},
			{"no user", "", w.ID, w.Name, "right password", func(err error) bool { return errors.Is(err, workspace.ErrRoleNotAllowed) }},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.del.RequestDeletion(f.ctx, as(c.user), c.ws, c.confirm, c.password)
				if !c.want(err) {
					t.Fatalf("err = %v", err)
				}
				if f.get(c.ws).Deleting() {
					t.Error("a refused request marked the workspace for deletion")
				}
			})
		}
		if n := f.auditCount(); n != before {
			t.Errorf("refusals wrote %d audit entries", n-before)
		}
		if len(f.deps.scheduled)+len(f.deps.closed) != 0 {
			t.Fatal("a refused request scheduled a purge or closed channels")
		}

		got, err := f.del.RequestDeletion(f.ctx, as(owner), w.ID, "  "+w.Name+" ", "right password")
		if err != nil {
			t.Fatal(err)
		}
		wantPurge := start.Add(workspace.DefaultPurgeAfter)
		if !got.Deleting() || !got.PurgeAt.Equal(wantPurge) || !got.DeletionRequestedAt.Equal(start) {
			t.Errorf("after the request: requested %v purge %v, want %v and %v", got.DeletionRequestedAt, got.PurgeAt, start, wantPurge)
		}
		if diff := cmp.Diff([]time.Time{wantPurge}, f.deps.scheduled); diff != "" {
			t.Errorf("scheduled purges (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{w.ID}, f.deps.closed); diff != "" {
			t.Errorf("closed channels of (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]bool{true}, f.deps.inTx); diff != "" {
			t.Errorf("the purge was not scheduled in the deleting transaction: %s", diff)
		}
		if acts := f.actions(w.ID); acts[len(acts)-1] != workspace.ActionWorkspaceDeleteRequest {
			t.Errorf("last audit action = %q", acts[len(acts)-1])
		}
		// The membership still reads (the access layer refuses it by
		// Deleting), so the owner can cancel.
		m, err := f.svc.Membership(f.ctx, w.ID, owner)
		if err != nil || !m.Deleting() {
			t.Errorf("membership = %+v, %v; want it marked deleting", m, err)
		}
		if _, err := f.del.RequestDeletion(f.ctx, as(owner), w.ID, w.Name, "right password"); !errors.Is(err, workspace.ErrDeleting) {
			t.Errorf("second request: %v, want ErrDeleting", err)
		}
	})
}

// Promise P-33: the grace period defaults to 7 days and never exceeds 30.
func TestPurgeAfterIsCapped(t *testing.T) {
	cases := []struct {
		in, want time.Duration
	}{
		{0, workspace.DefaultPurgeAfter},
		{-time.Hour, workspace.DefaultPurgeAfter},
		{48 * time.Hour, 48 * time.Hour},
		{90 * 24 * time.Hour, workspace.MaxPurgeAfter},
	}
	for _, c := range cases {
		if got := workspace.NewDeleter(nil, workspace.DeleterDeps{}, workspace.DeleteOptions{PurgeAfter: c.in}).PurgeAfter(); got != c.want {
			t.Errorf("PurgeAfter(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// security.md §3.O O-6: cancelling during the grace period restores the
// workspace as it was; only an owner may; after the grace period it is
// too late; the purge of a cancelled workspace does nothing.
func TestCancelDeletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newDeleteFixture(t, d, workspace.DeleteOptions{PurgeAfter: 48 * time.Hour})
		w, owner := f.workspace("Cancel Me")
		admin := f.member(w, owner, workspace.RoleAdmin)
		if _, err := f.del.CancelDeletion(f.ctx, as(owner), w.ID); !errors.Is(err, workspace.ErrNotDeleting) {
			t.Fatalf("cancel with nothing to cancel: %v", err)
		}
		if _, err := f.del.RequestDeletion(f.ctx, as(owner), w.ID, w.Name, "right password"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.del.CancelDeletion(f.ctx, as(admin), w.ID); !errors.Is(err, workspace.ErrRoleNotAllowed) {
			t.Fatalf("admin cancels: %v", err)
		}
		f.clk.Advance(47 * time.Hour)
		got, err := f.del.CancelDeletion(f.ctx, as(owner), w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Deleting() || got.PurgeAt != nil {
			t.Errorf("after cancel: %+v", got)
		}
		if f.role(w.ID, admin) != workspace.RoleAdmin {
			t.Error("the admin lost their membership")
		}
		f.clk.Advance(2 * time.Hour)
		if err := f.del.Purge(f.ctx, w.ID); err != nil {
			t.Fatalf("purge of a cancelled workspace: %v", err)
		}
		if f.get(w.ID).Deleting() || len(f.deps.destroyed) != 0 {
			t.Error("the purge touched a cancelled workspace")
		}

		// Too late: past purge_at the workspace cannot come back.
		if _, err := f.del.RequestDeletion(f.ctx, as(owner), w.ID, w.Name, "right password"); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(48 * time.Hour)
		if _, err := f.del.CancelDeletion(f.ctx, as(owner), w.ID); !errors.Is(err, workspace.ErrPurgeStarted) {
			t.Errorf("cancel after the grace period: %v", err)
		}
	})
}

// security.md §3.O O-5: the purge waits for the grace period, then
// destroys the keys and records the tombstone once, in one transaction,
// and deletes the workspace's rows in batches, leaving other workspaces
// and the audit log alone; run again it does nothing more.
func TestPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newDeleteFixture(t, d, workspace.DeleteOptions{BatchSize: 2})
		w, owner := f.workspace("Gone Soon")
		other, otherOwner := f.workspace("Stays")
		for range 3 {
			f.member(w, owner, workspace.RoleAgent)
		}
		f.member(other, otherOwner, workspace.RoleAgent)
		for i := range 5 {
			if _, _, err := f.svc.Invite(f.ctx, as(owner), workspace.RoleOwner, w.ID, "pending"+string(rune('a'+i))+"@example.com", workspace.RoleViewer); err != nil {
				t.Fatal(err)
			}
		}
		// Queued jobs naming the workspace go; others stay.
		now := f.clk.Now()
		for _, p := range []string{`{"workspace_id":"` + w.ID + `"}`, `{"workspace_id":"` + other.ID + `"}`} {
			if _, err := f.d.W.NewRaw(`INSERT INTO jobs (kind, payload, state, run_at, created_at, updated_at) VALUES ('x', ?, 'pending', ?, ?, ?)`,
				[]byte(p), now, now, now).Exec(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.del.RequestDeletion(f.ctx, as(owner), w.ID, w.Name, "right password"); err != nil {
			t.Fatal(err)
		}
		if err := f.del.Purge(f.ctx, w.ID); !errors.Is(err, workspace.ErrPurgeNotDue) {
			t.Fatalf("purge before the grace period: %v", err)
		}
		if due, _ := f.del.DuePurges(f.ctx); len(due) != 0 {
			t.Errorf("due before the grace period: %v", due)
		}
		f.clk.Advance(workspace.DefaultPurgeAfter)
		if due, _ := f.del.DuePurges(f.ctx); !cmp.Equal(due, []string{w.ID}) {
			t.Errorf("due = %v, want [%s]", due, w.ID)
		}
		auditBefore := f.count(`SELECT count(*) FROM audit_log WHERE workspace_id = ?`, w.ID)
		if err := f.del.Purge(f.ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.del.Purge(f.ctx, w.ID); err != nil {
			t.Fatalf("second purge: %v", err)
		}
		if diff := cmp.Diff([]string{w.ID}, f.deps.destroyed); diff != "" {
			t.Errorf("keys destroyed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{w.ID}, f.deps.tombstones); diff != "" {
			t.Errorf("tombstones (-want +got):\n%s", diff)
		}
		for _, q := range []string{
			`SELECT count(*) FROM workspaces WHERE id = ?`,
			`SELECT count(*) FROM members WHERE workspace_id = ?`,
			`SELECT count(*) FROM invitations WHERE workspace_id = ?`,
		} {
			if n := f.count(q, w.ID); n != 0 {
				t.Errorf("%s: %d rows left", q, n)
			}
			if n := f.count(q, other.ID); n == 0 {
				t.Errorf("%s: the other workspace lost its rows", q)
			}
		}
		if n := f.count(`SELECT count(*) FROM jobs WHERE kind = 'x'`); n != 1 {
			t.Errorf("%d jobs left, want only the other workspace's", n)
		}
		if n := f.count(`SELECT count(*) FROM audit_log WHERE workspace_id = ?`, w.ID); n != auditBefore+2 {
			t.Errorf("audit entries of the purged workspace: %d, want the %d kept plus purge_start and purged", n, auditBefore)
		}
	})
}

// Promise P-33's last-owner rule, as the account deletion asks it.
func TestSoleOwnerships(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newDeleteFixture(t, d, workspace.DeleteOptions{})
		alone, owner := f.workspace("Alone")
		shared, sharedOwner := f.workspace("Shared")
		dying, dyingOwner := f.workspace("Dying")
		co := f.member(shared, sharedOwner, workspace.RoleOwner)
		f.member(alone, owner, workspace.RoleAdmin)
		if _, err := f.del.RequestDeletion(f.ctx, as(dyingOwner), dying.ID, dying.Name, "right password"); err != nil {
			t.Fatal(err)
		}
		names := func(user string) []string {
			ws, err := f.svc.SoleOwnerships(f.ctx, f.d.R, user)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, w := range ws {
				out = append(out, w.Name)
			}
			return out
		}
		cases := []struct {
			name, user string
			want       []string
		}{
			{"only owner", owner, []string{alone.Name}},
			{"one of two owners", co, []string{}},
			{"the other of two owners", sharedOwner, []string{}},
			{"owner of a workspace being deleted", dyingOwner, []string{}},
		}
		for _, c := range cases {
			if diff := cmp.Diff(c.want, names(c.user)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.name, diff)
			}
		}
	})
}

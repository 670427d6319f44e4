package workspace_test

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

func TestCreateListGetRename(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		owner := f.user("owner@example.com")
		other := f.user("other@example.com")

		w, err := f.svc.Create(f.ctx, as(owner), "  Acme Bakery  ", "")
		if err != nil {
			t.Fatal(err)
		}
		ends := start.AddDate(0, 0, workspace.DefaultTrialDays)
		want := &workspace.Workspace{ID: w.ID, Name: "Acme Bakery", Plan: workspace.PlanTrial, TrialEndsAt: &ends, TimeZone: "UTC", CreatedAt: start, UpdatedAt: start}
		if diff := cmp.Diff(want, w); diff != "" {
			t.Errorf("created (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]keyCall{{WorkspaceID: w.ID, RowVisible: true}}, f.keys.Calls()); diff != "" {
			t.Errorf("key creator calls (-want +got):\n%s", diff)
		}
		if r := f.role(w.ID, owner); r != workspace.RoleOwner {
			t.Errorf("creator's role = %q", r)
		}

		got, err := f.svc.Get(f.ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("Get (-created +read):\n%s", diff)
		}
		if _, err := f.svc.Get(f.ctx, "no-such-workspace"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get unknown: %v", err)
		}

		f.clk.Advance(time.Minute)
		w2, err := f.svc.Create(f.ctx, as(owner), "Acme Annex", "Asia/Phnom_Penh")
		if err != nil {
			t.Fatal(err)
		}
		if w2.TimeZone != "Asia/Phnom_Penh" {
			t.Errorf("created in %q, want Asia/Phnom_Penh", w2.TimeZone)
		}
		list, err := f.svc.ListForUser(f.ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		wantList := []workspace.Membership{{Workspace: *w2, Role: workspace.RoleOwner}, {Workspace: *w, Role: workspace.RoleOwner}}
		if diff := cmp.Diff(wantList, list); diff != "" {
			t.Errorf("ListForUser (-want +got):\n%s", diff)
		}
		if list, err := f.svc.ListForUser(f.ctx, other); err != nil || list == nil || len(list) != 0 {
			t.Errorf("ListForUser(non-member) = %#v, %v; want an empty list", list, err)
		}

		f.clk.Advance(time.Minute)
		renamed, err := f.svc.Rename(f.ctx, as(owner), w.ID, "Acme Cakes")
		if err != nil {
			t.Fatal(err)
		}
		if renamed.Name != "Acme Cakes" || !renamed.UpdatedAt.Equal(start.Add(2*time.Minute)) || !renamed.CreatedAt.Equal(start) {
			t.Errorf("renamed = %+v", renamed)
		}
		if got, _ := f.svc.Get(f.ctx, w2.ID); got.Name != "Acme Annex" {
			t.Errorf("rename touched another workspace: %+v", got)
		}
		f.refused(db.ErrNotFound, func() error {
			_, err := f.svc.Rename(f.ctx, as(owner), "no-such-workspace", "X")
			return err
		})
		for _, bad := range []string{"", "   ", strings.Repeat("x", 101), "bad\x00name"} {
			f.invalid("name", func() error { _, err := f.svc.Rename(f.ctx, as(owner), w.ID, bad); return err })
			f.invalid("name", func() error { _, err := f.svc.Create(f.ctx, as(owner), bad, ""); return err })
		}
		if _, err := f.svc.Create(f.ctx, audit.Actor{APIKeyID: "k"}, "Keyless", ""); err == nil {
			t.Error("a workspace was created without a user to own it")
		}
		if n := f.count(`SELECT count(*) FROM workspaces`); n != 2 {
			t.Errorf("%d workspaces, want 2", n)
		}

		if diff := cmp.Diff([]string{workspace.ActionWorkspaceCreate, workspace.ActionWorkspaceRename}, f.actions(w.ID)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
		e := f.entries(w.ID)[0]
		if e.TargetType != "workspace" || e.TargetID != w.ID || *e.ActorUserID != owner || e.IP != "192.0.2.7" {
			t.Errorf("create entry = %+v", e)
		}
	})
}

// A workspace never exists without its data key: when the key cannot be
// created, nothing of the workspace remains.
func TestCreateRollsBackWhenKeyCreationFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		owner := f.user("owner@example.com")
		f.keys.err = errors.New("keyring unavailable")
		if _, err := f.svc.Create(f.ctx, as(owner), "Doomed", ""); err == nil || !strings.Contains(err.Error(), "keyring unavailable") {
			t.Fatalf("Create = %v, want the key error", err)
		}
		if len(f.keys.Calls()) != 1 {
			t.Fatalf("key creator called %d times", len(f.keys.Calls()))
		}
		for _, table := range []string{"workspaces", "members", "audit_log"} {
			if n := f.count(`SELECT count(*) FROM ` + table); n != 0 {
				t.Errorf("%s has %d rows after a failed create", table, n)
			}
		}
	})
}

// Promise P-07: a trial ends after TrialDays and the workspace turns
// read-only without losing anything; a paid plan makes it writable again.
func TestTrialExpiresToReadOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, workspace.Options{TrialDays: 3})
		w, owner := f.workspace("Trial Co")
		agent := f.member(w, owner, workspace.RoleAgent)
		if _, _, err := f.svc.CreateAPIKey(f.ctx, as(owner), workspace.RoleOwner, w.ID, "zapier", workspace.RoleViewer); err != nil {
			t.Fatal(err)
		}
		end := start.AddDate(0, 0, 3)
		if w.TrialEndsAt == nil || !w.TrialEndsAt.Equal(end) {
			t.Fatalf("trial ends %v, want %v", w.TrialEndsAt, end)
		}

		readOnlyAt := func(now time.Time) bool {
			t.Helper()
			got, err := f.svc.Get(f.ctx, w.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.ReadOnly(now)
		}
		if readOnlyAt(f.clk.Now()) {
			t.Error("read-only at creation")
		}
		f.clk.Advance(end.Sub(start) - time.Microsecond)
		if readOnlyAt(f.clk.Now()) {
			t.Error("read-only a microsecond before the trial ends")
		}
		f.clk.Advance(time.Microsecond)
		if !readOnlyAt(f.clk.Now()) {
			t.Error("still writable when the trial ended")
		}

		// Everything is still there to read.
		if ms, err := f.svc.Members(f.ctx, w.ID); err != nil || len(ms) != 2 {
			t.Errorf("members after expiry = %+v, %v", ms, err)
		}
		if ks, err := f.svc.APIKeys(f.ctx, w.ID); err != nil || len(ks) != 1 {
			t.Errorf("api keys after expiry = %+v, %v", ks, err)
		}
		if r := f.role(w.ID, agent); r != workspace.RoleAgent {
			t.Errorf("agent role after expiry = %q", r)
		}

		paid, err := f.svc.SetPlan(f.ctx, as(""), w.ID, "pro", nil)
		if err != nil {
			t.Fatal(err)
		}
		if paid.Plan != "pro" || paid.TrialEndsAt != nil || paid.ReadOnly(f.clk.Now()) {
			t.Errorf("after upgrade = %+v", paid)
		}
		f.invalid("plan", func() error { _, err := f.svc.SetPlan(f.ctx, as(""), w.ID, "Pro Plan", nil); return err })
		f.refused(db.ErrNotFound, func() error { _, err := f.svc.SetPlan(f.ctx, as(""), "nope", "pro", nil); return err })
		es := f.entries(w.ID)
		last := es[len(es)-1]
		if last.Action != workspace.ActionWorkspacePlanChange || !strings.Contains(string(last.Details), `"from":"trial"`) {
			t.Errorf("plan change entry = %+v", last)
		}
	})
}

func TestReadOnly(t *testing.T) {
	now := start
	past, future := now.Add(-time.Second), now.Add(time.Second)
	for _, tc := range []struct {
		name string
		w    workspace.Workspace
		want bool
	}{
		{"trial running", workspace.Workspace{Plan: "trial", TrialEndsAt: &future}, false},
		{"trial ended", workspace.Workspace{Plan: "trial", TrialEndsAt: &past}, true},
		{"trial ends now", workspace.Workspace{Plan: "trial", TrialEndsAt: &now}, true},
		{"trial without end", workspace.Workspace{Plan: "trial"}, false},
		{"paid plan with an old trial date", workspace.Workspace{Plan: "pro", TrialEndsAt: &past}, false},
	} {
		if got := tc.w.ReadOnly(now); got != tc.want {
			t.Errorf("%s: ReadOnly = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The JSON shapes the HTTP layers send: a membership is the workspace's
// fields plus its role, and an API key has no field that could hold a hash.
func TestJSONShapes(t *testing.T) {
	keys := func(v any) []string {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	now := start
	m := workspace.Membership{Workspace: workspace.Workspace{ID: "w", Name: "n", Plan: "trial", TrialEndsAt: &now, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}, Role: workspace.RoleAdmin}
	if diff := cmp.Diff([]string{"created_at", "id", "name", "plan", "role", "time_zone", "trial_ends_at", "updated_at"}, keys(m)); diff != "" {
		t.Errorf("membership JSON (-want +got):\n%s", diff)
	}
	k := workspace.APIKey{ID: "k", WorkspaceID: "w", Name: "n", Prefix: "prly_abcdefg", Role: workspace.RoleAgent, CreatedBy: "u", CreatedAt: now, LastUsedAt: &now, RevokedAt: &now}
	if diff := cmp.Diff([]string{"created_at", "created_by", "id", "last_used_at", "name", "prefix", "revoked_at", "role", "scopes", "workspace_id"}, keys(k)); diff != "" {
		t.Errorf("api key JSON (-want +got):\n%s", diff)
	}
}

// Membership is the guard's one-query access check: the workspace with the
// user's role, and not found for anyone who is not a member (P-03).
func TestMembership(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Members only")
		v := f.member(w, o, workspace.RoleViewer)
		other, stranger := f.workspace("Elsewhere")
		m, err := f.svc.Membership(f.ctx, w.ID, v)
		if err != nil || m.ID != w.ID || m.Name != "Members only" || m.Role != workspace.RoleViewer {
			t.Fatalf("membership = %+v, %v", m, err)
		}
		for _, c := range [][2]string{{w.ID, stranger}, {other.ID, v}, {"no-such-workspace", o}} {
			if _, err := f.svc.Membership(f.ctx, c[0], c[1]); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("Membership(%s, %s) = %v, want not found", c[0], c[1], err)
			}
		}
	})
}

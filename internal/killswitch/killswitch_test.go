package killswitch_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/killswitch"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// users is an in-memory account directory.
type users map[string]*account.User

func (u users) Get(_ context.Context, id string) (*account.User, error) {
	if x, ok := u[id]; ok {
		return x, nil
	}
	return nil, db.ErrNotFound
}

var directory = users{
	"admin":  {ID: "admin", IsPlatformAdmin: true, TOTPEnabled: true},
	"no2fa":  {ID: "no2fa", IsPlatformAdmin: true},
	"member": {ID: "member", TOTPEnabled: true},
}

func newService(d *db.DB, poll time.Duration) *killswitch.Service {
	return killswitch.New(d, killswitch.Options{Now: func() time.Time { return t0 }, Log: slog.New(slog.DiscardHandler), Users: directory, Poll: poll})
}

func addWorkspace(t *testing.T, d *db.DB, id string) {
	t.Helper()
	if _, err := d.W.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?, ?, 'trial', ?, ?)`, id, id, t0, t0).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func as(id string) killswitch.Operator {
	return killswitch.Operator{Actor: audit.Actor{UserID: id, IP: "192.0.2.7", RequestID: "req-1"}}
}

// Security.md §3.P P-1: only a platform administrator with 2FA toggles;
// refusals and bad input change nothing; every toggle is audit-logged with
// its reason, in the workspace's log for a workspace pause.
// Promise P-37.
func TestToggleAuthorizationAndAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		addWorkspace(t, d, "w1")
		ks := newService(d, 0)
		pauseW1 := killswitch.Change{WorkspaceID: "w1", Outbound: true, Reason: "spam wave from page X"}
		imp := as("admin")
		imp.Actor.ImpersonatorID = "other"
		refused := []struct {
			name string
			by   killswitch.Operator
			c    killswitch.Change
			want error
		}{
			{"nobody", killswitch.Operator{}, pauseW1, killswitch.ErrNotAdmin},
			{"member", as("member"), pauseW1, killswitch.ErrNotAdmin},
			{"unknown user", as("ghost"), pauseW1, killswitch.ErrNotAdmin},
			{"admin without 2FA", as("no2fa"), pauseW1, killswitch.ErrNeeds2FA},
			{"while impersonating", imp, pauseW1, killswitch.ErrNotAdmin},
			{"unknown workspace", as("admin"), killswitch.Change{WorkspaceID: "nope", Outbound: true, Reason: "x"}, db.ErrNotFound},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				if err := ks.Pause(ctx, tc.by, tc.c); !errors.Is(err, tc.want) {
					t.Fatalf("Pause = %v, want %v", err, tc.want)
				}
			})
		}
		invalid := []struct {
			name, field string
			c           killswitch.Change
		}{
			{"nothing chosen", "what", killswitch.Change{WorkspaceID: "w1", Reason: "x"}},
			{"no reason", "reason", killswitch.Change{WorkspaceID: "w1", Outbound: true, Reason: "  "}},
			{"long reason", "reason", killswitch.Change{Outbound: true, Reason: strings.Repeat("a", killswitch.MaxReason+1)}},
			{"control characters", "reason", killswitch.Change{Outbound: true, Reason: "a\x00b"}},
		}
		for _, tc := range invalid {
			t.Run(tc.name, func(t *testing.T) {
				err := ks.Pause(ctx, as("admin"), tc.c)
				ve, ok := validate.As(err)
				if !ok || ve.Field != tc.field {
					t.Fatalf("Pause = %v, want a validation error on %s", err, tc.field)
				}
			})
		}
		if ps, err := ks.Status(ctx); err != nil || len(ps) != 0 {
			t.Fatalf("after refusals: %+v, %v", ps, err)
		}

		if err := ks.Pause(ctx, as("admin"), pauseW1); err != nil {
			t.Fatal(err)
		}
		if err := ks.Pause(ctx, killswitch.Operator{Host: true, HostUser: "ops"}, killswitch.Change{Processing: true, Reason: "database migration"}); err != nil {
			t.Fatal(err)
		}
		ps, err := ks.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []killswitch.Pause{
			{WorkspaceID: "", Processing: true, Reason: "database migration", PausedBy: killswitch.CLI, PausedAt: t0},
			{WorkspaceID: "w1", Outbound: true, Reason: "spam wave from page X", PausedBy: "admin", PausedAt: t0},
		}
		if diff := cmp.Diff(want, ps); diff != "" {
			t.Errorf("status (-want +got):\n%s", diff)
		}
		// The toggling process sees its change at once.
		if !ks.OutboundPaused("w1") || ks.OutboundPaused("w2") || !ks.ProcessingPaused() {
			t.Errorf("snapshot after pause: w1 %v w2 %v processing %v", ks.OutboundPaused("w1"), ks.OutboundPaused("w2"), ks.ProcessingPaused())
		}

		entries, err := audit.List(ctx, d, audit.Filter{WorkspaceID: "w1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != killswitch.ActionPause || *entries[0].ActorUserID != "admin" || entries[0].IP != "192.0.2.7" {
			t.Fatalf("w1 audit = %+v", entries)
		}
		var det map[string]any
		if err := json.Unmarshal(entries[0].Details, &det); err != nil || det["reason"] != "spam wave from page X" || det["outbound"] != true {
			t.Errorf("details = %s", entries[0].Details)
		}
		var global int
		if err := d.R.NewRaw(`SELECT count(*) FROM audit_log WHERE workspace_id IS NULL AND action = ? AND target_id = 'global'`, killswitch.ActionPause).Scan(ctx, &global); err != nil || global != 1 {
			t.Errorf("global audit entries = %d, %v", global, err)
		}

		// Resume lifts only what it names, and a scope with nothing left
		// paused disappears.
		if err := ks.Resume(ctx, as("member"), killswitch.Change{WorkspaceID: "w1", Outbound: true, Reason: "x"}); !errors.Is(err, killswitch.ErrNotAdmin) {
			t.Fatalf("member resume = %v", err)
		}
		if err := ks.Resume(ctx, as("admin"), killswitch.Change{WorkspaceID: "w1", Outbound: true, Processing: true, Reason: "handled"}); err != nil {
			t.Fatal(err)
		}
		if ks.OutboundPaused("w1") {
			t.Error("w1 still paused after resume")
		}
		ps, _ = ks.Status(ctx)
		if len(ps) != 1 || !ps[0].Global() {
			t.Errorf("after resume: %+v", ps)
		}
		entries, _ = audit.List(ctx, d, audit.Filter{WorkspaceID: "w1"})
		if len(entries) != 2 || entries[0].Action != killswitch.ActionResume {
			t.Errorf("w1 audit after resume = %+v", entries)
		}
	})
}

// A partial resume keeps what stays paused, with its own reason.
func TestPartialResumeKeepsTheRest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ks := newService(d, 0)
		if err := ks.Pause(ctx, as("admin"), killswitch.Change{Outbound: true, Processing: true, Reason: "incident 42"}); err != nil {
			t.Fatal(err)
		}
		if err := ks.Resume(ctx, as("admin"), killswitch.Change{Processing: true, Reason: "processing is safe again"}); err != nil {
			t.Fatal(err)
		}
		ps, err := ks.Status(ctx)
		if err != nil || len(ps) != 1 || !ps[0].Outbound || ps[0].Processing || ps[0].Reason != "incident 42" {
			t.Fatalf("status = %+v, %v", ps, err)
		}
		if !ks.OutboundPaused("any") || ks.ProcessingPaused() {
			t.Error("snapshot does not match")
		}
	})
}

// Security.md §3.P P-4: a toggle made through one process reaches another
// process on the same database within the documented bound. The test
// polls with a deadline rather than timing anything.
func TestPropagationAcrossProcesses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		addWorkspace(t, d, "w1")
		a := newService(d, 0)
		changed := make(chan *killswitch.Snapshot, 10)
		b := killswitch.New(d, killswitch.Options{Now: func() time.Time { return t0 }, Log: slog.New(slog.DiscardHandler), Users: directory, Poll: 50 * time.Millisecond,
			Changed: func(_, n *killswitch.Snapshot) { changed <- n }})
		if err := b.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer b.Stop()
		if err := a.Pause(ctx, as("admin"), killswitch.Change{WorkspaceID: "w1", Outbound: true, Processing: true, Reason: "drill"}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the other process to see the pause", func() bool { return b.OutboundPaused("w1") && b.HeldWorkspaces()["w1"] })
		if b.OutboundPaused("w2") || b.ProcessingPaused() {
			t.Error("the pause spread beyond w1")
		}
		// The poller stores the new snapshot before it calls Changed: the
		// call may come a moment after the pause is visible.
		select {
		case n := <-changed:
			if len(n.Pauses) != 1 {
				t.Errorf("Changed got %+v", n.Pauses)
			}
		case <-time.After(10 * time.Second):
			t.Error("Changed was not called")
		}
		if err := a.Resume(ctx, as("admin"), killswitch.Change{WorkspaceID: "w1", Outbound: true, Processing: true, Reason: "drill over"}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the other process to see the resume", func() bool { return !b.OutboundPaused("w1") && len(b.HeldWorkspaces()) == 0 })
	})
}

// A process that starts during an incident starts paused.
func TestStartReadsThePauses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := newService(d, 0).Pause(ctx, as("admin"), killswitch.Change{Outbound: true, Reason: "incident"}); err != nil {
			t.Fatal(err)
		}
		fresh := newService(d, 0)
		if fresh.OutboundPaused("w") {
			t.Fatal("paused before Start")
		}
		if err := fresh.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer fresh.Stop()
		if !fresh.OutboundPaused("w") {
			t.Error("not paused after Start")
		}
	})
}

// waitUntil polls cond every few milliseconds, failing after a generous
// deadline (never a timing assertion: the bound is checked by design, see
// killswitch.Bound).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

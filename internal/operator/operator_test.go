package operator_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/operator"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/validate"
)

// clock is a settable test clock.
type clock = fakeclock.Clock

type env struct {
	d        *db.DB
	clock    *clock
	accounts *account.Service
	ops      *operator.Service
}

func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	c := fakeclock.New(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	_, m := fixture.Keyring(t, d, c.Now)
	acc := account.NewService(d, m, account.Options{Now: c.Now, BcryptCost: 4})
	return &env{d: d, clock: c, accounts: acc, ops: operator.New(d, operator.Options{Now: c.Now, Users: acc, Log: slog.New(slog.DiscardHandler)})}
}

// user signs someone up; admin and twoFA set the flags directly.
func (e *env) user(t *testing.T, email string, admin, twoFA bool) *account.User {
	t.Helper()
	ctx := context.Background()
	u, err := e.accounts.SignUp(ctx, account.SignUp{Email: email, Password: "correct horse battery staple", AgeConfirmed: true})
	if err != nil {
		t.Fatal(err)
	}
	if admin {
		if err := e.accounts.SetPlatformAdmin(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	if twoFA {
		if _, err := e.d.W.NewRaw(`UPDATE users SET totp_enabled = ? WHERE id = ?`, true, u.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func (e *env) session(t *testing.T, userID string) string {
	t.Helper()
	_, s, err := e.accounts.CreateSession(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (e *env) member(t *testing.T, ws, userID, role string) {
	t.Helper()
	now := e.clock.Now()
	ctx := context.Background()
	if _, err := e.d.W.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?, ?, 'trial', ?, ?) ON CONFLICT DO NOTHING`, ws, "Shop "+ws, now, now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.W.NewRaw(`INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, ws, userID, role, now, now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

func actions(t *testing.T, d *db.DB, ws string) []string {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{WorkspaceID: ws})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		imp := ""
		if e.ImpersonatorID != nil {
			imp = *e.ImpersonatorID
		}
		out = append(out, fmt.Sprintf("%s by %s as %s", e.Action, imp, *e.ActorUserID))
	}
	return out
}

// Promise P-06: a platform administrator with 2FA acts as a user through
// their own session; the start and the stop are in the platform's log and
// in the user's workspaces' logs, with the real and the effective actor;
// the impersonation is found only through that session and ends with
// "stop", with MaxDuration, or when the user turns administrator.
func TestImpersonation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		admin := e.user(t, "admin@example.com", true, true)
		agent := e.user(t, "agent@example.com", false, false)
		e.member(t, "w1", agent.ID, "agent")
		sess := e.session(t, admin.ID)
		other := e.session(t, admin.ID)
		a := audit.Actor{UserID: admin.ID, IP: "192.0.2.1"}

		imp, err := e.ops.Impersonate(ctx, a, sess, "AGENT@example.com", "ticket 1234")
		if err != nil {
			t.Fatal(err)
		}
		if imp.UserID != agent.ID || imp.AdminUserID != admin.ID {
			t.Fatalf("impersonation = %+v", imp)
		}
		u, ok, err := e.ops.Acting(ctx, sess)
		if err != nil || !ok || u.ID != agent.ID {
			t.Fatalf("Acting(session) = %v, %v, %v", u, ok, err)
		}
		if _, ok, _ := e.ops.Acting(ctx, other); ok {
			t.Error("another session of the administrator acts as the user too")
		}
		want := []string{operator.ActionImpersonateStart + " by " + admin.ID + " as " + agent.ID}
		if got := actions(t, d, "w1"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("w1 log = %v, want %v", got, want)
		}
		var platform int
		if err := d.R.NewRaw(`SELECT count(*) FROM audit_log WHERE workspace_id IS NULL AND action = ?`, operator.ActionImpersonateStart).Scan(ctx, &platform); err != nil || platform != 1 {
			t.Errorf("platform entries = %d, %v", platform, err)
		}

		// A write while impersonating lands in the workspace's log.
		acting := a
		acting.UserID, acting.ImpersonatorID = agent.ID, admin.ID
		if err := e.ops.RecordWrite(ctx, acting, "w1", "POST /w/{workspace_id}/settings/tags"); err != nil {
			t.Fatal(err)
		}
		if err := e.ops.StopImpersonating(ctx, acting, sess); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := e.ops.Acting(ctx, sess); ok {
			t.Error("still acting after stop")
		}
		want = []string{
			operator.ActionImpersonateStop + " by " + admin.ID + " as " + agent.ID,
			operator.ActionImpersonateWrite + " by " + admin.ID + " as " + agent.ID,
			operator.ActionImpersonateStart + " by " + admin.ID + " as " + agent.ID,
		}
		if got := actions(t, d, "w1"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("w1 log = %v\nwant %v", got, want)
		}
		// Stopping twice is harmless and logs nothing more.
		if err := e.ops.StopImpersonating(ctx, a, sess); err != nil {
			t.Fatal(err)
		}
		if got := actions(t, d, "w1"); len(got) != 3 {
			t.Errorf("w1 log after a second stop = %v", got)
		}

		// MaxDuration ends it on its own.
		if _, err := e.ops.Impersonate(ctx, a, sess, agent.ID, "ticket 1235"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(operator.MaxDuration)
		if _, ok, _ := e.ops.Acting(ctx, sess); ok {
			t.Error("still acting after MaxDuration")
		}
	})
}

// Only a platform administrator with 2FA may impersonate, never as
// themselves or another administrator; bad input is refused and nothing
// is recorded.
func TestImpersonationRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		admin := e.user(t, "admin@example.com", true, true)
		no2fa := e.user(t, "no2fa@example.com", true, false)
		other := e.user(t, "other-admin@example.com", true, true)
		agent := e.user(t, "agent@example.com", false, true)
		sess := e.session(t, admin.ID)
		as := func(id string) audit.Actor { return audit.Actor{UserID: id} }
		cases := []struct {
			name      string
			a         audit.Actor
			who, why  string
			want      error
			wantField string
		}{
			{"not an administrator", as(agent.ID), admin.ID, "x", operator.ErrNotAdmin, ""},
			{"administrator without 2FA", as(no2fa.ID), agent.ID, "x", operator.ErrNeeds2FA, ""},
			{"already acting", audit.Actor{UserID: agent.ID, ImpersonatorID: admin.ID}, agent.ID, "x", operator.ErrNotAdmin, ""},
			{"themselves", as(admin.ID), admin.ID, "x", operator.ErrCannotImpersonate, ""},
			{"another administrator", as(admin.ID), other.Email, "x", operator.ErrCannotImpersonate, ""},
			{"unknown user", as(admin.ID), "nobody@example.com", "x", db.ErrNotFound, ""},
			{"no user", as(admin.ID), " ", "x", nil, "user"},
			{"no reason", as(admin.ID), agent.ID, "  ", nil, "reason"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.ops.Impersonate(ctx, c.a, sess, c.who, c.why)
				if c.wantField != "" {
					if ve, ok := validate.As(err); !ok || ve.Field != c.wantField {
						t.Fatalf("err = %v, want a validation error on %s", err, c.wantField)
					}
					return
				}
				if !errors.Is(err, c.want) {
					t.Fatalf("err = %v, want %v", err, c.want)
				}
			})
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM impersonations`).Scan(ctx, &n); err != nil || n != 0 {
			t.Errorf("%d impersonations recorded, %v", n, err)
		}
		if _, err := e.ops.CheckAdmin(ctx, as(admin.ID)); err != nil {
			t.Errorf("CheckAdmin(admin) = %v", err)
		}
	})
}

// The workspace list counts members, channels and their health, contacts,
// messages of the last 7 days and the last activity, per workspace.
func TestWorkspaceSummaries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		kr, _ := fixture.Keyring(t, d, e.clock.Now)
		busy := fixture.Workspace(t, d, kr)
		e.clock.Advance(time.Minute)
		idle := fixture.Workspace(t, d, kr)
		u := e.user(t, "owner@example.com", false, false)
		e.member(t, busy, u.ID, "owner")
		now := e.clock.Now()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := d.W.NewRaw(q, args...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO channels (id, workspace_id, type, external_id, name, status, created_at, updated_at) VALUES ('c1', ?, 'messenger', 'p1', 'P1', 'active', ?, ?)`, busy, now, now)
		exec(`INSERT INTO channels (id, workspace_id, type, external_id, name, status, token_state, created_at, updated_at) VALUES ('c2', ?, 'messenger', 'p2', 'P2', 'active', 'needs_reconnect', ?, ?)`, busy, now, now)
		sums, err := e.ops.Workspaces(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != 2 || sums[0].ID != idle || sums[1].ID != busy {
			t.Fatalf("summaries = %+v, want newest first", sums)
		}
		b, i := sums[1], sums[0]
		if b.Members != 1 || b.Channels != 2 || b.ChannelsAttention != 1 || b.Health != operator.HealthAttention {
			t.Errorf("busy = %+v", b)
		}
		if i.Members != 0 || i.Channels != 0 || i.Health != operator.HealthIdle || i.LastActivity != nil || i.Messages7d != 0 || i.Contacts != 0 {
			t.Errorf("idle = %+v", i)
		}
	})
}

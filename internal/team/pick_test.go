package team_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// Round-robin among three online agents: each in turn, the one picked
// longest ago first, even though the clock never moves (the pick counter
// orders them, not timestamps).
func TestPickRotation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a := e.member(e.ws, workspace.RoleAgent)
		b := e.member(e.ws, workspace.RoleAdmin)
		c := e.member(e.ws, workspace.RoleOwner)
		for _, u := range []string{c, b, a} { // going online in any order
			e.online(e.ws, u)
		}
		var got []string
		for range 9 {
			got = append(got, e.mustPick(e.ws, ""))
		}
		want := []string{a, b, c, a, b, c, a, b, c}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("picks (-want +got):\n%s", diff)
		}
		for _, u := range []string{a, b, c} {
			if ag := e.load(e.ws, u); ag.Load != 3 || !ag.LastAssignedAt.Equal(e.clock.Now()) {
				t.Errorf("%s: %+v, want load 3 and picked now", u, ag)
			}
		}
		// A newcomer has never been picked, so goes first.
		n := e.member(e.ws, workspace.RoleAgent)
		e.online(e.ws, n)
		if got := e.mustPick(e.ws, ""); got != n {
			t.Errorf("picked %s, want the newcomer %s", got, n)
		}
		if got := e.mustPick(e.ws, ""); got != a {
			t.Errorf("picked %s, want %s (longest ago)", got, a)
		}
	})
}

// Members at capacity are passed over until their load drops.
func TestPickCapacity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		a := e.member(e.ws, workspace.RoleAgent)
		b := e.member(e.ws, workspace.RoleAgent)
		e.online(e.ws, a)
		e.online(e.ws, b)
		if err := e.s.SetSettings(ctx, admin, e.ws, team.Settings{DefaultCapacity: 2}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.SetCapacity(ctx, admin, e.ws, a, ptr(1)); err != nil {
			t.Fatal(err)
		}
		var got []string
		for range 4 {
			got = append(got, e.mustPick(e.ws, ""))
		}
		if diff := cmp.Diff([]string{a, b, b, ""}, got); diff != "" {
			t.Errorf("picks (-want +got):\n%s", diff)
		}
		// Conversations assigned by hand count too: b is over capacity.
		e.conversation(d.W, e.ws, b, "open")
		// a's conversation is done: a has room again, b still none.
		if _, err := d.W.NewRaw(`UPDATE conversations SET status = ? WHERE assignee_id = ?`, e.doneStatus(), a).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.mustPick(e.ws, ""); got != a {
			t.Errorf("picked %q, want %s whose load dropped", got, a)
		}
		if got := e.mustPick(e.ws, ""); got != "" {
			t.Errorf("picked %q, want nobody", got)
		}
		// Capacity 0 takes someone out of rotation.
		if err := e.s.SetCapacity(ctx, admin, e.ws, a, ptr(0)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.NewRaw(`UPDATE conversations SET status = ?`, e.doneStatus()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if got := e.mustPick(e.ws, ""); got != b {
				t.Errorf("picked %q, want only %s (a has capacity 0)", got, b)
			}
		}
	})
}

// Members who are not available, not allowed or not in the team are never
// picked; each case leaves exactly one such member as the only candidate.
func TestPickSkips(t *testing.T) {
	cases := []struct {
		name string
		// setup makes u unavailable in some way; tm is the team u was added
		// to and picks are for.
		setup func(e *env, tm, u string)
		// teamOnly: u can still be picked for the whole workspace.
		teamOnly bool
	}{
		{"busy", func(e *env, tm, u string) {
			e.must(e.s.SetAvailability(context.Background(), admin, e.ws, u, team.StatusBusy))
		}, false},
		{"offline", func(e *env, tm, u string) {
			e.must(e.s.SetAvailability(context.Background(), admin, e.ws, u, team.StatusOffline))
		}, false},
		{"stale presence", func(e *env, tm, u string) {
			e.clock.Advance(team.OnlineWindow + time.Second)
		}, false},
		{"never seen", func(e *env, tm, u string) {
			e.exec(`UPDATE agent_availability SET last_seen_at = NULL WHERE user_id = ?`, u)
		}, false},
		{"no availability row", func(e *env, tm, u string) {
			e.exec(`DELETE FROM agent_availability WHERE user_id = ?`, u)
		}, false},
		{"capacity zero", func(e *env, tm, u string) {
			e.must(e.s.SetCapacity(context.Background(), admin, e.ws, u, ptr(0)))
		}, false},
		{"demoted to viewer", func(e *env, tm, u string) {
			e.exec(`UPDATE members SET role = 'viewer' WHERE user_id = ?`, u)
		}, false},
		{"removed from the team", func(e *env, tm, u string) {
			e.must(e.s.RemoveMember(context.Background(), admin, e.ws, tm, u))
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				e := newEnv(t, d)
				tm, err := e.s.CreateTeam(context.Background(), admin, e.ws, team.Input{Name: "Sales"})
				if err != nil {
					t.Fatal(err)
				}
				u := e.member(e.ws, workspace.RoleAgent)
				e.must(e.s.AddMember(context.Background(), admin, e.ws, tm.ID, u))
				e.online(e.ws, u)
				if got := e.mustPick(e.ws, tm.ID); got != u {
					t.Fatalf("before: picked %q, want %s", got, u)
				}
				c.setup(e, tm.ID, u)
				if got := e.mustPick(e.ws, tm.ID); got != "" {
					t.Errorf("team pick chose %q, want nobody", got)
				}
				want := ""
				if c.teamOnly {
					want = u
				}
				if got := e.mustPick(e.ws, ""); got != want {
					t.Errorf("workspace pick chose %q, want %q", got, want)
				}
			})
		})
	}
}

// Viewers are never picked, even with a status and presence row.
func TestPickNeverViewers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		v := e.member(e.ws, workspace.RoleViewer)
		e.exec(`INSERT INTO agent_availability (workspace_id, user_id, status, last_seen_at, updated_at) VALUES (?, ?, 'online', ?, ?)`,
			e.ws, v, e.clock.Now(), e.clock.Now())
		if got := e.mustPick(e.ws, ""); got != "" {
			t.Errorf("picked viewer %q", got)
		}
		if list, err := e.s.Load(context.Background(), e.ws); err != nil || len(list) != 0 {
			t.Errorf("Load = %+v, %v; want no viewer", list, err)
		}
	})
}

// A team's picks stay within the team; a workspace-wide pick takes every
// available member.
func TestPickTeam(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		sales := e.team(e.ws, team.Input{Name: "Sales"})
		empty := e.team(e.ws, team.Input{Name: "Empty"})
		a := e.member(e.ws, workspace.RoleAgent)
		b := e.member(e.ws, workspace.RoleAgent)
		outside := e.member(e.ws, workspace.RoleAgent)
		for _, u := range []string{a, b} {
			e.must(e.s.AddMember(ctx, admin, e.ws, sales.ID, u))
		}
		for _, u := range []string{a, b, outside} {
			e.online(e.ws, u)
		}
		var got []string
		for range 4 {
			got = append(got, e.mustPick(e.ws, sales.ID))
		}
		if diff := cmp.Diff([]string{a, b, a, b}, got); diff != "" {
			t.Errorf("team picks (-want +got):\n%s", diff)
		}
		// The rotation is the workspace's: outside, never picked, goes first.
		if got := e.mustPick(e.ws, ""); got != outside {
			t.Errorf("workspace pick = %q, want %s", got, outside)
		}
		if got := e.mustPick(e.ws, empty.ID); got != "" {
			t.Errorf("empty team pick = %q, want nobody", got)
		}
		if _, err := e.pick(e.ws, "no-such-team"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown team: err = %v, want db.ErrNotFound", err)
		}
	})
}

// A pick rolled back with its transaction leaves no trace: the same member
// is picked next.
func TestPickRollback(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a := e.member(e.ws, workspace.RoleAgent)
		b := e.member(e.ws, workspace.RoleAgent)
		e.online(e.ws, a)
		e.online(e.ws, b)
		err := d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			got, err := e.s.Pick(ctx, tx, e.ws, "")
			if err != nil {
				return err
			}
			if got != a {
				t.Errorf("picked %q, want %s", got, a)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if ag := e.load(e.ws, a); !ag.LastAssignedAt.IsZero() {
			t.Errorf("rolled-back pick recorded: %+v", ag)
		}
		if got := e.mustPick(e.ws, ""); got != a {
			t.Errorf("picked %q after the rollback, want %s", got, a)
		}
	})
}

func TestAutoAssign(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		on := e.team(e.ws, team.Input{Name: "On", AutoAssign: true})
		off := e.team(e.ws, team.Input{Name: "Off"})
		theirs := e.team(e.workspace(), team.Input{Name: "Theirs", AutoAssign: true})
		check := func(teamID string, want bool) {
			t.Helper()
			if got, err := e.s.AutoAssign(ctx, d.R, e.ws, teamID); err != nil || got != want {
				t.Errorf("AutoAssign(%q) = %v, %v; want %v", teamID, got, err, want)
			}
		}
		check(on.ID, true)
		check(off.ID, false)
		check("", false)
		e.must(e.s.SetSettings(ctx, admin, e.ws, team.Settings{DefaultCapacity: 1, AutoAssign: true}))
		check("", true)
		if _, err := e.s.AutoAssign(ctx, d.R, e.ws, theirs.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace's team: err = %v, want db.ErrNotFound", err)
		}
	})
}

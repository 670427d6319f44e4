package team_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// Seen writes at most once per SeenEvery, keyed on the row's own
// last_seen_at.
func TestSeenThrottle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		agent := e.member(e.ws, workspace.RoleAgent)
		t0 := e.clock.Now()
		steps := []struct {
			after time.Duration // since t0
			want  time.Duration // last_seen_at, since t0
		}{
			{0, 0},
			{time.Second, 0},
			{team.SeenEvery - time.Microsecond, 0},
			{team.SeenEvery, team.SeenEvery},
			{team.SeenEvery + 10*time.Second, team.SeenEvery},
			{3 * team.SeenEvery, 3 * team.SeenEvery},
		}
		for _, s := range steps {
			e.clock.Set(t0.Add(s.after))
			if err := e.s.Seen(ctx, e.ws, agent); err != nil {
				t.Fatal(err)
			}
			if got := e.load(e.ws, agent).LastSeenAt; !got.Equal(t0.Add(s.want)) {
				t.Errorf("after Seen at +%v: last seen +%v, want +%v", s.after, got.Sub(t0), s.want)
			}
		}
		// Nobody chose a status: online by default, and seen just now.
		if ag := e.load(e.ws, agent); ag.Status != team.StatusOnline || !ag.Online {
			t.Errorf("default availability = %+v, want online", ag)
		}

		// Viewers and strangers get no row and no error.
		viewer := e.member(e.ws, workspace.RoleViewer)
		outsider := e.member(e.workspace(), workspace.RoleAgent)
		for _, u := range []string{viewer, outsider, "no-such-user"} {
			if err := e.s.Seen(ctx, e.ws, u); err != nil {
				t.Errorf("Seen(%s) = %v", u, err)
			}
			if n := e.count(`SELECT count(*) FROM agent_availability WHERE user_id = ?`, u); n != 0 {
				t.Errorf("Seen(%s) wrote %d rows", u, n)
			}
		}
	})
}

// Online needs status online AND a recent last_seen_at.
func TestOnline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		agent := e.member(e.ws, workspace.RoleAgent)
		if ag := e.load(e.ws, agent); ag.Online || !ag.LastSeenAt.IsZero() {
			t.Errorf("never seen: %+v, want offline", ag)
		}
		e.online(e.ws, agent)
		t0 := e.clock.Now()
		e.clock.Set(t0.Add(team.OnlineWindow))
		if !e.load(e.ws, agent).Online {
			t.Error("offline exactly OnlineWindow after being seen")
		}
		e.clock.Set(t0.Add(team.OnlineWindow + time.Microsecond))
		if e.load(e.ws, agent).Online {
			t.Error("online after OnlineWindow without being seen")
		}
		if err := e.s.Seen(ctx, e.ws, agent); err != nil {
			t.Fatal(err)
		}
		if !e.load(e.ws, agent).Online {
			t.Error("offline right after Seen")
		}
		for _, st := range []team.Status{team.StatusBusy, team.StatusOffline} {
			if err := e.s.SetAvailability(ctx, admin, e.ws, agent, st); err != nil {
				t.Fatal(err)
			}
			if ag := e.load(e.ws, agent); ag.Online || ag.Status != st {
				t.Errorf("status %s: %+v, want not online", st, ag)
			}
		}
		// Choosing online counts as being seen.
		e.clock.Advance(time.Hour)
		if err := e.s.SetAvailability(ctx, admin, e.ws, agent, team.StatusOnline); err != nil {
			t.Fatal(err)
		}
		if ag := e.load(e.ws, agent); !ag.Online || !ag.LastSeenAt.Equal(e.clock.Now()) {
			t.Errorf("after choosing online: %+v", ag)
		}
	})
}

func TestSetAvailability(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		agent := e.member(e.ws, workspace.RoleAgent)
		viewer := e.member(e.ws, workspace.RoleViewer)
		if err := e.s.SetAvailability(ctx, admin, e.ws, agent, "away"); !errors.Is(err, team.ErrInvalid) {
			t.Errorf("unknown status: err = %v, want ErrInvalid", err)
		} else if ve, ok := validate.As(err); !ok || ve.Field != "status" {
			t.Errorf("unknown status: %v, want a validate.Error on status", err)
		}
		if err := e.s.SetAvailability(ctx, admin, e.ws, viewer, team.StatusOnline); !errors.Is(err, team.ErrNotAgent) {
			t.Errorf("viewer: err = %v, want ErrNotAgent", err)
		}
		if err := e.s.SetAvailability(ctx, admin, e.ws, "no-such-user", team.StatusOnline); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("stranger: err = %v, want db.ErrNotFound", err)
		}
		if n := e.count(`SELECT count(*) FROM agent_availability`); n != 0 {
			t.Errorf("refused calls wrote %d rows", n)
		}
		for _, st := range []team.Status{team.StatusBusy, team.StatusBusy, team.StatusOnline} {
			if err := e.s.SetAvailability(ctx, admin, e.ws, agent, st); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, en := range e.actions(e.ws) {
			if en.Action == team.ActionAvailability && en.TargetID == agent {
				got = append(got, string(en.Details))
			}
		}
		want := []string{`{"from":"online","to":"busy"}`, `{"from":"busy","to":"online"}`}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("audit details = %v, want %v (the same status twice records once)", got, want)
		}
	})
}

func TestCapacity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		agent := e.member(e.ws, workspace.RoleAgent)
		if set, err := e.s.Settings(ctx, d.R, e.ws); err != nil || set != (team.Settings{DefaultCapacity: team.DefaultCapacity}) {
			t.Errorf("default settings = %+v, %v", set, err)
		}
		if ag := e.load(e.ws, agent); ag.Capacity != team.DefaultCapacity || ag.OwnCapacity != nil {
			t.Errorf("default capacity: %+v", ag)
		}
		if err := e.s.SetSettings(ctx, admin, e.ws, team.Settings{DefaultCapacity: 3, AutoAssign: true}); err != nil {
			t.Fatal(err)
		}
		if set, err := e.s.Settings(ctx, d.R, e.ws); err != nil || set != (team.Settings{DefaultCapacity: 3, AutoAssign: true}) {
			t.Errorf("saved settings = %+v, %v", set, err)
		}
		if ag := e.load(e.ws, agent); ag.Capacity != 3 {
			t.Errorf("capacity after new default = %d, want 3", ag.Capacity)
		}
		if err := e.s.SetCapacity(ctx, admin, e.ws, agent, ptr(5)); err != nil {
			t.Fatal(err)
		}
		if ag := e.load(e.ws, agent); ag.Capacity != 5 || ag.OwnCapacity == nil || *ag.OwnCapacity != 5 {
			t.Errorf("own capacity: %+v", ag)
		}
		if err := e.s.SetCapacity(ctx, admin, e.ws, agent, nil); err != nil {
			t.Fatal(err)
		}
		if ag := e.load(e.ws, agent); ag.Capacity != 3 || ag.OwnCapacity != nil {
			t.Errorf("capacity back to default: %+v", ag)
		}
		for _, n := range []int{-1, team.MaxCapacity + 1} {
			if err := e.s.SetCapacity(ctx, admin, e.ws, agent, &n); !errors.Is(err, team.ErrInvalid) {
				t.Errorf("SetCapacity(%d): err = %v, want ErrInvalid", n, err)
			}
			if err := e.s.SetSettings(ctx, admin, e.ws, team.Settings{DefaultCapacity: n}); !errors.Is(err, team.ErrInvalid) {
				t.Errorf("SetSettings(%d): err = %v, want ErrInvalid", n, err)
			}
		}
		viewer := e.member(e.ws, workspace.RoleViewer)
		if err := e.s.SetCapacity(ctx, admin, e.ws, viewer, ptr(1)); !errors.Is(err, team.ErrNotAgent) {
			t.Errorf("viewer: err = %v, want ErrNotAgent", err)
		}
		if set, _ := e.s.Settings(ctx, d.R, e.ws); set.DefaultCapacity != 3 {
			t.Errorf("refused settings changed the default to %d", set.DefaultCapacity)
		}
		var actions []string
		for _, en := range e.actions(e.ws) {
			actions = append(actions, en.Action+" "+string(en.Details))
		}
		want := []string{
			`team.settings {"auto_assign":true,"default_capacity":3}`,
			`agent.capacity {"capacity":5}`,
			`agent.capacity {"capacity":null}`,
		}
		if strings.Join(actions, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
		}
	})
}

// Load counts open (and pending) assigned conversations only, and only
// the workspace's owners, admins and agents.
func TestLoad(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		owner := e.member(e.ws, workspace.RoleOwner)
		agent := e.member(e.ws, workspace.RoleAgent)
		e.member(e.ws, workspace.RoleViewer)
		done := e.doneStatus()
		wantAgent := 2
		e.conversation(d.W, e.ws, agent, "open")
		e.conversation(d.W, e.ws, agent, "open")
		if e.statusSupported("pending") {
			e.conversation(d.W, e.ws, agent, "pending")
			wantAgent++
		}
		if e.statusSupported("snoozed") {
			e.conversation(d.W, e.ws, agent, "snoozed")
		}
		e.conversation(d.W, e.ws, agent, done)
		e.conversation(d.W, e.ws, owner, "open")
		e.conversation(d.W, e.ws, "", "open")
		list, err := e.s.Load(ctx, e.ws)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].UserID != owner || list[1].UserID != agent {
			t.Fatalf("Load = %+v, want the owner and the agent, in order", list)
		}
		if list[0].Load != 1 || list[1].Load != wantAgent {
			t.Errorf("loads = %d, %d; want 1, %d", list[0].Load, list[1].Load, wantAgent)
		}
		if list[0].Role != workspace.RoleOwner || list[1].Role != workspace.RoleAgent {
			t.Errorf("roles = %s, %s", list[0].Role, list[1].Role)
		}
	})
}

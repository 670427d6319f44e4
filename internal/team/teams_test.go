package team_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

func TestCreateAndRead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		sales := e.team(e.ws, team.Input{Name: "  Sales ", Description: "Leads\r\nand quotes", AutoAssign: true})
		want := team.Team{ID: sales.ID, WorkspaceID: e.ws, Name: "Sales", Description: "Leads\nand quotes", AutoAssign: true,
			Members: []team.Member{}, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
		if diff := cmp.Diff(want, sales); diff != "" {
			t.Errorf("created (-want +got):\n%s", diff)
		}
		got, err := e.s.Team(ctx, e.ws, sales.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
		support := e.team(e.ws, team.Input{Name: "after-sales support"})
		agent := e.member(e.ws, workspace.RoleAgent)
		if err := e.s.AddMember(ctx, admin, e.ws, support.ID, agent); err != nil {
			t.Fatal(err)
		}
		list, err := e.s.Teams(ctx, e.ws)
		if err != nil {
			t.Fatal(err)
		}
		// By name ignoring case: "after-sales support" before "Sales".
		names := []string{}
		for _, tm := range list {
			names = append(names, tm.Name)
		}
		if diff := cmp.Diff([]string{"after-sales support", "Sales"}, names); diff != "" {
			t.Errorf("Teams order (-want +got):\n%s", diff)
		}
		if len(list[0].Members) != 1 || list[0].Members[0].UserID != agent || list[0].Members[0].Role != workspace.RoleAgent {
			t.Errorf("support members = %+v, want the agent", list[0].Members)
		}
		if len(list[1].Members) != 0 {
			t.Errorf("sales members = %+v, want none", list[1].Members)
		}

		// Audited with IDs only: the name and description never reach
		// the audit log.
		entries := e.actions(e.ws)
		if len(entries) != 3 || entries[0].Action != team.ActionCreate || entries[0].TargetID != sales.ID {
			t.Fatalf("audit = %+v", entries)
		}
		for _, en := range entries {
			if s := string(en.Details); strings.Contains(s, "Sales") || strings.Contains(s, "Leads") || strings.Contains(s, "support") {
				t.Errorf("audit details %s hold a name or description", s)
			}
		}
		if entries[2].Action != team.ActionMemberAdd || !strings.Contains(string(entries[2].Details), agent) {
			t.Errorf("last audit entry = %+v, want member_add of the agent", entries[2])
		}
	})
}

func TestDuplicateName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		first := e.team(e.ws, team.Input{Name: "Straße"})
		other := e.team(e.ws, team.Input{Name: "Billing"})
		for _, name := range []string{"Straße", "STRASSE", " straße "} {
			_, err := e.s.CreateTeam(ctx, admin, e.ws, team.Input{Name: name})
			if !errors.Is(err, db.ErrConflict) || !errors.Is(err, team.ErrNameTaken) {
				t.Errorf("create %q: err = %v, want ErrNameTaken (db.ErrConflict)", name, err)
			}
		}
		if _, err := e.s.UpdateTeam(ctx, admin, e.ws, other.ID, team.Input{Name: "strasse"}); !errors.Is(err, db.ErrConflict) {
			t.Errorf("rename onto an existing name: err = %v, want db.ErrConflict", err)
		}
		// Renaming a team to its own name in other letters is fine.
		if got, err := e.s.UpdateTeam(ctx, admin, e.ws, first.ID, team.Input{Name: "STRASSE"}); err != nil || got.Name != "STRASSE" {
			t.Errorf("rename to own name: %+v, %v", got, err)
		}
		// Another workspace has its own names.
		if _, err := e.s.CreateTeam(ctx, admin, e.workspace(), team.Input{Name: "Billing"}); err != nil {
			t.Errorf("same name in another workspace: %v", err)
		}
		if n := e.count(`SELECT count(*) FROM teams WHERE workspace_id = ?`, e.ws); n != 2 {
			t.Errorf("%d teams, want 2", n)
		}
	})
}

func TestInvalidInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		existing := e.team(e.ws, team.Input{Name: "Sales"})
		cases := []struct {
			name  string
			in    team.Input
			field string
		}{
			{"empty name", team.Input{Name: "  "}, "name"},
			{"long name", team.Input{Name: strings.Repeat("ក", team.MaxName+1)}, "name"},
			{"control character", team.Input{Name: "a\x00b"}, "name"},
			{"invalid UTF-8", team.Input{Name: "ok", Description: "\xff"}, "description"},
			{"long description", team.Input{Name: "ok", Description: strings.Repeat("a", team.MaxDescription+1)}, "description"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.s.CreateTeam(ctx, admin, e.ws, c.in)
				ve, ok := validate.As(err)
				if !errors.Is(err, team.ErrInvalid) || !ok || ve.Field != c.field {
					t.Errorf("create: err = %v, want ErrInvalid on %s", err, c.field)
				}
				_, err = e.s.UpdateTeam(ctx, admin, e.ws, existing.ID, c.in)
				if !errors.Is(err, team.ErrInvalid) {
					t.Errorf("update: err = %v, want ErrInvalid", err)
				}
			})
		}
		// The longest name is fine.
		if _, err := e.s.CreateTeam(ctx, admin, e.ws, team.Input{Name: strings.Repeat("ក", team.MaxName)}); err != nil {
			t.Error(err)
		}
		if n := e.count(`SELECT count(*) FROM teams WHERE workspace_id = ?`, e.ws); n != 2 {
			t.Errorf("%d teams, want 2", n)
		}
		if got, _ := e.s.Team(ctx, e.ws, existing.ID); got.Name != "Sales" {
			t.Errorf("bad update changed the team: %+v", got)
		}
	})
}

func TestUpdate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		tm := e.team(e.ws, team.Input{Name: "Sales"})
		agent := e.member(e.ws, workspace.RoleAgent)
		if err := e.s.AddMember(ctx, admin, e.ws, tm.ID, agent); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(1e9)
		got, err := e.s.UpdateTeam(ctx, admin, e.ws, tm.ID, team.Input{Name: "Sales", Description: "New", AutoAssign: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.Description != "New" || !got.AutoAssign || !got.UpdatedAt.Equal(e.clock.Now()) || !got.CreatedAt.Equal(tm.CreatedAt) ||
			len(got.Members) != 1 || got.Members[0].UserID != agent {
			t.Errorf("updated = %+v", got)
		}
		read, _ := e.s.Team(ctx, e.ws, tm.ID)
		if diff := cmp.Diff(got, read); diff != "" {
			t.Errorf("read back (-update +read):\n%s", diff)
		}
		entries := e.actions(e.ws)
		last := entries[len(entries)-1]
		if last.Action != team.ActionUpdate || !strings.Contains(string(last.Details), `"changed":["description","auto_assign"]`) {
			t.Errorf("audit = %s %s", last.Action, last.Details)
		}
		// The same values again change and record nothing.
		e.clock.Advance(1e9)
		again, err := e.s.UpdateTeam(ctx, admin, e.ws, tm.ID, team.Input{Name: "Sales", Description: "New", AutoAssign: true})
		if err != nil || !again.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("no-op update: %+v, %v", again, err)
		}
		if n := len(e.actions(e.ws)); n != len(entries) {
			t.Errorf("no-op update recorded: %d entries, want %d", n, len(entries))
		}
	})
}

func TestMembers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		tm := e.team(e.ws, team.Input{Name: "Sales"})
		owner := e.member(e.ws, workspace.RoleOwner)
		adm := e.member(e.ws, workspace.RoleAdmin)
		agent := e.member(e.ws, workspace.RoleAgent)
		viewer := e.member(e.ws, workspace.RoleViewer)
		outsider := e.member(e.workspace(), workspace.RoleAgent)
		for _, u := range []string{owner, adm, agent, agent} { // agent twice: no-op
			if err := e.s.AddMember(ctx, admin, e.ws, tm.ID, u); err != nil {
				t.Fatalf("add %s: %v", u, err)
			}
		}
		if err := e.s.AddMember(ctx, admin, e.ws, tm.ID, viewer); !errors.Is(err, team.ErrNotAgent) || !errors.Is(err, team.ErrInvalid) {
			t.Errorf("add viewer: err = %v, want ErrNotAgent", err)
		}
		for _, u := range []string{outsider, "no-such-user"} {
			if err := e.s.AddMember(ctx, admin, e.ws, tm.ID, u); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("add non-member %s: err = %v, want db.ErrNotFound", u, err)
			}
		}
		got, err := e.s.Team(ctx, e.ws, tm.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []team.Member{{UserID: owner, Role: workspace.RoleOwner}, {UserID: adm, Role: workspace.RoleAdmin}, {UserID: agent, Role: workspace.RoleAgent}}
		if diff := cmp.Diff(want, got.Members, cmpopts.IgnoreFields(team.Member{}, "AddedAt")); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		adds := 0
		for _, en := range e.actions(e.ws) {
			if en.Action == team.ActionMemberAdd {
				adds++
			}
		}
		if adds != 3 {
			t.Errorf("%d member_add entries, want 3 (adding twice records once)", adds)
		}

		if err := e.s.RemoveMember(ctx, admin, e.ws, tm.ID, adm); err != nil {
			t.Fatal(err)
		}
		if err := e.s.RemoveMember(ctx, admin, e.ws, tm.ID, adm); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("remove twice: err = %v, want db.ErrNotFound", err)
		}
		if ids, err := e.s.TeamsOf(ctx, d.R, e.ws, agent); err != nil || len(ids) != 1 || ids[0] != tm.ID {
			t.Errorf("TeamsOf(agent) = %v, %v", ids, err)
		}
		if ids, err := e.s.TeamsOf(ctx, d.R, e.ws, adm); err != nil || len(ids) != 0 {
			t.Errorf("TeamsOf(removed) = %v, %v", ids, err)
		}
		last := e.actions(e.ws)
		if en := last[len(last)-1]; en.Action != team.ActionMemberRemove || en.TargetID != tm.ID || !strings.Contains(string(en.Details), adm) {
			t.Errorf("audit = %+v", en)
		}
	})
}

// Removing someone from the workspace removes them from its teams and
// forgets their availability, through the foreign keys on members.
func TestRemovedFromWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		tm := e.team(e.ws, team.Input{Name: "Sales"})
		gone, stays := e.member(e.ws, workspace.RoleAgent), e.member(e.ws, workspace.RoleAgent)
		for _, u := range []string{gone, stays} {
			if err := e.s.AddMember(ctx, admin, e.ws, tm.ID, u); err != nil {
				t.Fatal(err)
			}
			e.online(e.ws, u)
		}
		// What workspace.Service.RemoveMember does to the membership.
		if _, err := d.W.NewRaw(`DELETE FROM members WHERE workspace_id = ? AND user_id = ?`, e.ws, gone).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := e.s.Team(ctx, e.ws, tm.ID)
		if len(got.Members) != 1 || got.Members[0].UserID != stays {
			t.Errorf("members = %+v, want only the one who stayed", got.Members)
		}
		if n := e.count(`SELECT count(*) FROM agent_availability WHERE user_id = ?`, gone); n != 0 {
			t.Errorf("%d availability rows left for the removed member", n)
		}
		for range 3 {
			if id := e.mustPick(e.ws, tm.ID); id != stays {
				t.Errorf("picked %q, want %q", id, stays)
			}
		}
	})
}

func TestDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var calls []string
		fail := false
		e := newEnv(t, d)
		e.s = team.NewStore(d, e.clock.Now, team.Options{TeamDeleted: func(ctx context.Context, tx bun.Tx, ws, id string) error {
			// Runs inside the delete's transaction: the row is gone there.
			var n int
			if err := tx.NewRaw(`SELECT count(*) FROM teams WHERE id = ?`, id).Scan(ctx, &n); err != nil {
				return err
			}
			calls = append(calls, ws+"/"+id+"/"+string(rune('0'+n)))
			if fail {
				return errors.New("hook failed")
			}
			return nil
		}})
		ctx := context.Background()
		tm := e.team(e.ws, team.Input{Name: "Sales"})
		agent := e.member(e.ws, workspace.RoleAgent)
		if err := e.s.AddMember(ctx, admin, e.ws, tm.ID, agent); err != nil {
			t.Fatal(err)
		}

		// A failing hook rolls the delete back.
		fail = true
		if err := e.s.DeleteTeam(ctx, admin, e.ws, tm.ID); err == nil {
			t.Fatal("delete with a failing hook succeeded")
		}
		if ok, err := e.s.Has(ctx, d.R, e.ws, tm.ID); !ok || err != nil {
			t.Fatalf("after a failed delete Has = %v, %v", ok, err)
		}
		fail = false
		if err := e.s.DeleteTeam(ctx, admin, e.ws, tm.ID); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{e.ws + "/" + tm.ID + "/0", e.ws + "/" + tm.ID + "/0"}, calls); diff != "" {
			t.Errorf("hook calls (-want +got):\n%s", diff)
		}
		if _, err := e.s.Team(ctx, e.ws, tm.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Team after delete: err = %v, want db.ErrNotFound", err)
		}
		if ok, err := e.s.Has(ctx, d.R, e.ws, tm.ID); ok || err != nil {
			t.Errorf("Has after delete = %v, %v", ok, err)
		}
		if n := e.count(`SELECT count(*) FROM team_members WHERE team_id = ?`, tm.ID); n != 0 {
			t.Errorf("%d team_members rows left", n)
		}
		if _, err := e.pick(e.ws, tm.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Pick of a deleted team: err = %v, want db.ErrNotFound", err)
		}
		if err := e.s.DeleteTeam(ctx, admin, e.ws, tm.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("delete twice: err = %v, want db.ErrNotFound", err)
		}
		entries := e.actions(e.ws)
		if en := entries[len(entries)-1]; en.Action != team.ActionDelete || en.TargetID != tm.ID {
			t.Errorf("audit = %+v", en)
		}
		// The agent is still a member of the workspace.
		if n := e.count(`SELECT count(*) FROM members WHERE user_id = ?`, agent); n != 1 {
			t.Errorf("deleting a team removed the member")
		}
	})
}

// Promise P-03: another workspace's team is not found and nothing of it
// changes.
func TestOtherWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		other := e.workspace()
		theirs := e.team(other, team.Input{Name: "Theirs"})
		theirAgent := e.member(other, workspace.RoleAgent)
		if err := e.s.AddMember(ctx, admin, other, theirs.ID, theirAgent); err != nil {
			t.Fatal(err)
		}
		e.online(other, theirAgent)
		ours := e.team(e.ws, team.Input{Name: "Ours"})
		ourAgent := e.member(e.ws, workspace.RoleAgent)

		checks := map[string]error{}
		_, checks["Team"] = e.s.Team(ctx, e.ws, theirs.ID)
		_, checks["UpdateTeam"] = e.s.UpdateTeam(ctx, admin, e.ws, theirs.ID, team.Input{Name: "Hacked"})
		checks["AddMember"] = e.s.AddMember(ctx, admin, e.ws, theirs.ID, ourAgent)
		checks["AddMember of their agent to our team"] = e.s.AddMember(ctx, admin, e.ws, ours.ID, theirAgent)
		checks["RemoveMember"] = e.s.RemoveMember(ctx, admin, e.ws, theirs.ID, theirAgent)
		checks["DeleteTeam"] = e.s.DeleteTeam(ctx, admin, e.ws, theirs.ID)
		_, checks["Pick"] = e.pick(e.ws, theirs.ID)
		checks["SetAvailability"] = e.s.SetAvailability(ctx, admin, e.ws, theirAgent, team.StatusOffline)
		checks["SetCapacity"] = e.s.SetCapacity(ctx, admin, e.ws, theirAgent, ptr(0))
		for name, err := range checks {
			if !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s: err = %v, want db.ErrNotFound", name, err)
			}
		}
		if ok, err := e.s.Has(ctx, d.R, e.ws, theirs.ID); ok || err != nil {
			t.Errorf("Has(their team) = %v, %v; want false", ok, err)
		}
		if ok, err := e.s.Has(ctx, d.R, other, theirs.ID); !ok || err != nil {
			t.Errorf("Has in its own workspace = %v, %v; want true", ok, err)
		}
		got, err := e.s.Team(ctx, other, theirs.ID)
		if err != nil || got.Name != "Theirs" || len(got.Members) != 1 {
			t.Errorf("their team changed: %+v, %v", got, err)
		}
		// Their online agent is never chosen for us, nor shown in our load.
		if id := e.mustPick(e.ws, ""); id != "" {
			t.Errorf("Pick chose %q from another workspace", id)
		}
		load, err := e.s.Load(ctx, e.ws)
		if err != nil {
			t.Fatal(err)
		}
		if len(load) != 1 || load[0].UserID != ourAgent {
			t.Errorf("Load = %+v, want only our agent", load)
		}
		if ag := e.load(other, theirAgent); !ag.Online || ag.Capacity != team.DefaultCapacity || ag.OwnCapacity != nil {
			t.Errorf("their agent's availability changed: %+v", ag)
		}
	})
}

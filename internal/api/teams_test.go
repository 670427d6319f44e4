package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type teamOut struct {
	ID, Name, Description string
	AutoAssign            bool `json:"auto_assign"`
	Members               []struct {
		UserID string `json:"user_id"`
		Role   string
	}
}

type agentOut struct {
	UserID      string `json:"user_id"`
	Role        string
	Status      string
	Online      bool
	Load        int
	Capacity    int
	OwnCapacity *int `json:"own_capacity"`
}

// seedTeam gives the tenant a team with its agent in it.
func seedTeam(t *testing.T, tn *tenant) {
	t.Helper()
	base := "/api/v1/workspaces/" + tn.ws + "/teams"
	var out struct{ Team teamOut }
	tn.owner.Do("POST", base, map[string]any{"name": "Support", "auto_assign": true}).Must(t, 201).JSON(t, &out)
	tn.teamID = out.Team.ID
	tn.owner.Do("PUT", base+"/"+tn.teamID+"/members/"+tn.agent.ID, nil).Must(t, 200)
}

func memberIDs(tm teamOut) []string {
	out := []string{}
	for _, m := range tm.Members {
		out = append(out, m.UserID)
	}
	return out
}

// Issue 5 item 3: admins create, rename and delete teams and put members
// in them; names are unique ignoring letter case; viewers cannot join a
// team; everyone reads teams, only admins change them.
func TestTeamsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "teams")
		ws := owner.CreateWorkspace(t, "Teams")
		agent, viewer := a.SignUp(t, "teams-agent"), a.SignUp(t, "teams-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		outsider := a.SignUp(t, "teams-outsider")
		outsider.CreateWorkspace(t, "Elsewhere")
		base := "/api/v1/workspaces/" + ws + "/teams"

		var sales struct{ Team teamOut }
		owner.Do("POST", base, map[string]any{"name": " Sales ", "description": "Quotes and orders"}).Must(t, 201).JSON(t, &sales)
		if sales.Team.Name != "Sales" || sales.Team.Description != "Quotes and orders" || sales.Team.AutoAssign || sales.Team.ID == "" || len(sales.Team.Members) != 0 {
			t.Fatalf("created %+v", sales.Team)
		}
		owner.Do("POST", base, map[string]any{"name": "Support", "auto_assign": true}).Must(t, 201)

		for _, tc := range []struct {
			body        any
			status      int
			code, field string
		}{
			{map[string]any{"name": "SALES"}, 409, "team_exists", "name"},
			{map[string]any{"name": ""}, 422, "invalid_name", "name"},
			{map[string]any{}, 422, "invalid_name", "name"},
			{map[string]any{"name": "x", "description": string(make([]byte, 501))}, 422, "invalid_description", "description"},
			{map[string]any{"name": 7}, 400, "wrong_type", "name"},
		} {
			res := owner.Do("POST", base, tc.body)
			if e := errorOf(t, res); res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("POST %v: %d %s", tc.body, res.Status, res.Body)
			}
		}

		// Members: agents and owners join; a viewer cannot; someone from
		// another workspace does not exist here.
		one := base + "/" + sales.Team.ID
		var got struct{ Team teamOut }
		owner.Do("PUT", one+"/members/"+agent.ID, nil).Must(t, 200).JSON(t, &got)
		owner.Do("PUT", one+"/members/"+agent.ID, nil).Must(t, 200) // again: harmless
		owner.Do("PUT", one+"/members/"+owner.ID, nil).Must(t, 200).JSON(t, &got)
		// The test clock stands still, so both joined at the same time:
		// compare as sets.
		if diff := cmp.Diff([]string{agent.ID, owner.ID}, memberIDs(got.Team), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		if code := owner.Do("PUT", one+"/members/"+viewer.ID, nil).Must(t, 422).ErrorCode(); code != "not_an_agent" {
			t.Errorf("a viewer joining: %s", code)
		}
		owner.Do("PUT", one+"/members/"+outsider.ID, nil).Must(t, 404)
		owner.Do("PUT", base+"/no-such-team/members/"+agent.ID, nil).Must(t, 404)

		var list struct{ Teams []teamOut }
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Teams) != 2 || list.Teams[0].Name != "Sales" || list.Teams[1].Name != "Support" || len(list.Teams[0].Members) != 2 {
			t.Fatalf("list %+v", list.Teams)
		}
		viewer.Do("GET", one, nil).Must(t, 200).JSON(t, &got)
		roles := map[string]string{}
		for _, m := range got.Team.Members {
			roles[m.UserID] = m.Role
		}
		if got.Team.ID != sales.Team.ID || roles[agent.ID] != "agent" || roles[owner.ID] != "owner" {
			t.Errorf("get %+v", got.Team)
		}
		viewer.Do("GET", base+"/no-such-team", nil).Must(t, 404)

		// Partial updates keep what is not sent.
		owner.Do("PATCH", one, map[string]any{"auto_assign": true}).Must(t, 200).JSON(t, &got)
		if got.Team.Name != "Sales" || got.Team.Description != "Quotes and orders" || !got.Team.AutoAssign {
			t.Errorf("after patching auto_assign: %+v", got.Team)
		}
		owner.Do("PATCH", one, map[string]any{"name": "Orders"}).Must(t, 200).JSON(t, &got)
		if got.Team.Name != "Orders" || !got.Team.AutoAssign {
			t.Errorf("after renaming: %+v", got.Team)
		}
		if code := owner.Do("PATCH", one, map[string]any{"name": "support"}).Must(t, 409).ErrorCode(); code != "team_exists" {
			t.Errorf("renaming onto another team: %s", code)
		}
		owner.Do("PATCH", one, map[string]any{"name": " "}).Must(t, 422)
		if code := owner.Do("PATCH", one, map[string]any{}).Must(t, 400).ErrorCode(); code != "nothing_to_change" {
			t.Errorf("empty patch: %s", code)
		}
		owner.Do("PATCH", base+"/no-such-team", map[string]any{"name": "x"}).Must(t, 404)

		// Only admins change teams.
		for _, u := range []*apptest.User{agent, viewer} {
			u.Do("POST", base, map[string]any{"name": "Mine"}).Must(t, 403)
			u.Do("PATCH", one, map[string]any{"name": "Mine"}).Must(t, 403)
			u.Do("PUT", one+"/members/"+u.ID, nil).Must(t, 403)
			u.Do("DELETE", one+"/members/"+agent.ID, nil).Must(t, 403)
			u.Do("DELETE", one, nil).Must(t, 403)
		}

		owner.Do("DELETE", one+"/members/"+owner.ID, nil).Must(t, 204)
		owner.Do("DELETE", one+"/members/"+owner.ID, nil).Must(t, 404)
		owner.Do("DELETE", one, nil).Must(t, 204)
		owner.Do("DELETE", one, nil).Must(t, 404)
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Teams) != 1 || list.Teams[0].Name != "Support" {
			t.Errorf("after deleting: %+v", list.Teams)
		}
	})
}

// Issue 5 item 3: each agent sets their own status (a person, never an
// API key); admins set anyone's status and capacity and the workspace's
// default; the agents list shows status, online, load and capacity;
// bad values are refused naming the field.
func TestAvailabilityAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "avail")
		ws := owner.CreateWorkspace(t, "Availability")
		agent, viewer := a.SignUp(t, "avail-agent"), a.SignUp(t, "avail-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		outsider := a.SignUp(t, "avail-outsider")
		base := "/api/v1/workspaces/" + ws

		var one struct{ Agent agentOut }
		agent.Do("PUT", base+"/me/availability", map[string]string{"status": "busy"}).Must(t, 200).JSON(t, &one)
		if one.Agent.UserID != agent.ID || one.Agent.Status != "busy" || one.Agent.Online {
			t.Errorf("after going busy: %+v", one.Agent)
		}
		for _, body := range []any{map[string]string{"status": "away"}, map[string]string{}} {
			if res := agent.Do("PUT", base+"/me/availability", body).Must(t, 422); res.ErrorCode() != "invalid_status" {
				t.Errorf("status %v: %s", body, res.Body)
			}
		}
		// A viewer takes no conversations; an API key is nobody.
		viewer.Do("PUT", base+"/me/availability", map[string]string{"status": "online"}).Must(t, 403)
		var key struct{ Secret string }
		owner.Do("POST", base+"/api-keys", map[string]string{"name": "agent key", "role": "agent"}).Must(t, 201).JSON(t, &key)
		k := a.Client(t)
		k.Header.Set("Authorization", "Bearer "+key.Secret)
		k.Do("PUT", base+"/me/availability", map[string]string{"status": "online"}).Must(t, 403)

		// Going online counts as being seen: the agent is online at once.
		agent.Do("PUT", base+"/me/availability", map[string]string{"status": "online"}).Must(t, 200).JSON(t, &one)
		if one.Agent.Status != "online" || !one.Agent.Online {
			t.Errorf("after going online: %+v", one.Agent)
		}

		// Admins set others' status and capacity; agents cannot.
		agent.Do("PUT", base+"/agents/"+owner.ID+"/availability", map[string]string{"status": "offline"}).Must(t, 403)
		agent.Do("PUT", base+"/agents/"+agent.ID+"/capacity", map[string]any{"capacity": 50}).Must(t, 403)
		owner.Do("PUT", base+"/agents/"+agent.ID+"/availability", map[string]string{"status": "offline"}).Must(t, 200).JSON(t, &one)
		if one.Agent.Status != "offline" || one.Agent.Online {
			t.Errorf("set by an admin: %+v", one.Agent)
		}
		owner.Do("PUT", base+"/agents/"+agent.ID+"/capacity", map[string]any{"capacity": 3}).Must(t, 200).JSON(t, &one)
		if one.Agent.Capacity != 3 || one.Agent.OwnCapacity == nil || *one.Agent.OwnCapacity != 3 {
			t.Errorf("own capacity: %+v", one.Agent)
		}
		for _, body := range []any{`{}`, `{"capacity":-1}`, `{"capacity":1001}`, `{"capacity":"many"}`, `{"capacity":2.5}`} {
			if res := owner.Do("PUT", base+"/agents/"+agent.ID+"/capacity", body).Must(t, 422); res.ErrorCode() != "invalid_capacity" {
				t.Errorf("capacity %s: %s", body, res.Body)
			}
		}
		if code := owner.Do("PUT", base+"/agents/"+viewer.ID+"/capacity", `{"capacity":1}`).Must(t, 422).ErrorCode(); code != "not_an_agent" {
			t.Errorf("a viewer's capacity: %s", code)
		}
		owner.Do("PUT", base+"/agents/"+viewer.ID+"/availability", map[string]string{"status": "busy"}).Must(t, 422)
		owner.Do("PUT", base+"/agents/"+outsider.ID+"/availability", map[string]string{"status": "busy"}).Must(t, 404)
		owner.Do("PUT", base+"/agents/"+outsider.ID+"/capacity", `{"capacity":1}`).Must(t, 404)

		// Workspace settings: everyone reads them, admins write both at once.
		type settingsOut struct {
			Settings struct {
				DefaultCapacity int  `json:"default_capacity"`
				AutoAssign      bool `json:"auto_assign"`
			}
		}
		var set settingsOut
		viewer.Do("GET", base+"/assignment-settings", nil).Must(t, 200).JSON(t, &set)
		if set.Settings.DefaultCapacity != 10 || set.Settings.AutoAssign {
			t.Errorf("defaults: %+v", set)
		}
		for _, tc := range []struct{ body, code string }{
			{`{}`, "invalid_default_capacity"},
			{`{"default_capacity":2}`, "invalid_auto_assign"},
			{`{"default_capacity":-1,"auto_assign":true}`, "invalid_default_capacity"},
		} {
			if code := owner.Do("PUT", base+"/assignment-settings", tc.body).Must(t, 422).ErrorCode(); code != tc.code {
				t.Errorf("settings %s: %s", tc.body, code)
			}
		}
		agent.Do("PUT", base+"/assignment-settings", `{"default_capacity":2,"auto_assign":true}`).Must(t, 403)
		owner.Do("PUT", base+"/assignment-settings", `{"default_capacity":2,"auto_assign":true}`).Must(t, 200)
		viewer.Do("GET", base+"/assignment-settings", nil).Must(t, 200).JSON(t, &set)
		if set.Settings.DefaultCapacity != 2 || !set.Settings.AutoAssign {
			t.Errorf("saved: %+v", set)
		}

		// Back to the default capacity; an assigned open conversation is load.
		owner.Do("PUT", base+"/agents/"+agent.ID+"/capacity", `{"capacity":null}`).Must(t, 200).JSON(t, &one)
		if one.Agent.Capacity != 2 || one.Agent.OwnCapacity != nil {
			t.Errorf("back to the default: %+v", one.Agent)
		}
		s := seedConversation(t, a, ws, "hello")
		if err := a.Inbox.Assign(t.Context(), audit.Actor{UserID: owner.ID}, ws, s.conversationID, agent.ID); err != nil {
			t.Fatal(err)
		}
		var list struct{ Agents []agentOut }
		viewer.Do("GET", base+"/agents", nil).Must(t, 200).JSON(t, &list)
		byID := map[string]agentOut{}
		for _, ag := range list.Agents {
			byID[ag.UserID] = ag
		}
		if _, ok := byID[viewer.ID]; ok || len(list.Agents) != 2 {
			t.Errorf("agents list holds %d members (a viewer takes no conversations): %+v", len(list.Agents), list.Agents)
		}
		if ag := byID[agent.ID]; ag.Load != 1 || ag.Capacity != 2 || ag.Status != "offline" || ag.Role != "agent" {
			t.Errorf("agent row %+v", ag)
		}
		if res := viewer.Do("GET", base+"/agents", nil); res.Status != http.StatusOK {
			t.Errorf("viewer reads agents: %d", res.Status)
		}
	})
}

// The teams, agents and settings answers are what openapi.json says:
// every member documented, the required ones there, with their types
// (nulls included: a member never seen, with the default capacity).
func TestTeamsMatchOpenAPI(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, dbtest.SQLite(t))
	owner := a.SignUp(t, "openapi-teams")
	ws := owner.CreateWorkspace(t, "Shapes of teams")
	agent := a.SignUp(t, "openapi-teams-agent")
	a.Join(t, owner, ws, agent, "agent")
	base := "/api/v1/workspaces/" + ws
	var created map[string]any
	owner.Do("POST", base+"/teams", map[string]any{"name": "Sales", "description": "Quotes"}).Must(t, 201).JSON(t, &created)
	id, _ := created["team"].(map[string]any)["id"].(string)
	var one map[string]any
	owner.Do("PUT", base+"/teams/"+id+"/members/"+agent.ID, nil).Must(t, 200).JSON(t, &one)
	conforms(t, doc, "#/components/schemas/Team", one["team"], "team")
	var list map[string]any
	owner.Do("GET", base+"/teams", nil).Must(t, 200).JSON(t, &list)
	for _, tm := range list["teams"].([]any) {
		conforms(t, doc, "#/components/schemas/Team", tm, "teams")
	}
	owner.Do("PUT", base+"/agents/"+owner.ID+"/capacity", `{"capacity":4}`).Must(t, 200).JSON(t, &one)
	conforms(t, doc, "#/components/schemas/Agent", one["agent"], "agent")
	owner.Do("GET", base+"/agents", nil).Must(t, 200).JSON(t, &list)
	seen := map[string]bool{}
	for _, ag := range list["agents"].([]any) {
		for k := range conforms(t, doc, "#/components/schemas/Agent", ag, "agents") {
			seen[k] = true
		}
		m := ag.(map[string]any)
		seen["null own_capacity"] = seen["null own_capacity"] || m["own_capacity"] == nil
		seen["null last_seen_at"] = seen["null last_seen_at"] || m["last_seen_at"] == nil
	}
	for _, want := range []string{"null own_capacity", "null last_seen_at"} {
		if !seen[want] {
			t.Errorf("the agents list never had %s: the test no longer covers it", want)
		}
	}
	owner.Do("GET", base+"/assignment-settings", nil).Must(t, 200).JSON(t, &one)
	conforms(t, doc, "#/components/schemas/AssignmentSettings", one["settings"], "settings")
}

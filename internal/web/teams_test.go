package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 5 item 3: Settings → Teams. An admin creates, renames and deletes
// teams and changes who is in them; refusals come back on the page saying
// why; viewers see the teams and who is online but no forms, and their
// posts are refused; each agent sets their own status and returns to the
// page they were on, never elsewhere.
func TestTeamsPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Wat")
		ws := owner.createWorkspace("Wat's Woks")
		agent, agentAddr := s.signUp(t, "Xia")
		s.join(t, owner, ws, agent, agentAddr, "agent")
		viewer, viewerAddr := s.signUp(t, "Yen")
		s.join(t, owner, ws, viewer, viewerAddr, "viewer")
		agentID, viewerID := s.userID(t, agentAddr), s.userID(t, viewerAddr)
		base := "/w/" + ws + "/settings/teams"

		owner.get(base).want(t, http.StatusOK, "No teams yet", "Create a team below", "Who is online", "Xia")
		viewer.get(base).want(t, http.StatusOK, "No teams yet", "An owner or admin creates teams").lacks(t, `id="team-name"`)

		owner.post(base, url.Values{"name": {"Kitchen"}, "auto_assign": {"on"}}).redirectsTo(t, base)
		owner.post(base, url.Values{"name": {"KITCHEN"}}).want(t, http.StatusConflict, "A team with this name already exists")
		owner.post(base, url.Values{"name": {" "}}).want(t, http.StatusUnprocessableEntity, `aria-invalid="true"`)
		teams, err := s.Teams.Teams(t.Context(), ws)
		if err != nil || len(teams) != 1 || !teams[0].AutoAssign {
			t.Fatalf("teams %+v, %v", teams, err)
		}
		one := base + "/" + teams[0].ID

		owner.post(one+"/members", url.Values{"user_id": {agentID}}).redirectsTo(t, base)
		owner.post(one+"/members", url.Values{"user_id": {viewerID}}).want(t, http.StatusUnprocessableEntity, "Viewers only read")
		owner.post(one+"/members", url.Values{}).want(t, http.StatusUnprocessableEntity, "Choose someone to add")
		owner.post(base+"/no-such-team/members", url.Values{"user_id": {agentID}}).want(t, http.StatusNotFound)
		owner.get(base).want(t, http.StatusOK, "Kitchen", "Assigns new conversations automatically", "Remove Xia from Kitchen")

		owner.post(one, url.Values{"edit_name": {"Front"}, "edit_description": {"Walk-ins"}}).redirectsTo(t, base)
		if tm, _ := s.Teams.Team(t.Context(), ws, teams[0].ID); tm.Name != "Front" || tm.AutoAssign {
			t.Errorf("after the edit form (auto-assign unticked): %+v", tm)
		}
		owner.post(one, url.Values{"edit_name": {""}}).want(t, http.StatusUnprocessableEntity, `id="edit-name-error-`+teams[0].ID+`"`)

		// Viewers and agents cannot change teams.
		for _, c := range []*client{viewer, agent} {
			if p := c.post(base, url.Values{"name": {"Mine"}}); p.Status != http.StatusForbidden {
				t.Errorf("a non-admin creating a team: %d", p.Status)
			}
			if p := c.post(one+"/delete", nil); p.Status != http.StatusForbidden {
				t.Errorf("a non-admin deleting a team: %d", p.Status)
			}
		}

		owner.post("/w/"+ws+"/settings/assignment", url.Values{"default_capacity": {"3"}, "auto_assign": {"on"}}).redirectsTo(t, base)
		owner.post("/w/"+ws+"/settings/assignment", url.Values{"default_capacity": {"lots"}}).want(t, http.StatusUnprocessableEntity, "Enter a whole number")
		owner.post("/w/"+ws+"/settings/assignment", url.Values{"default_capacity": {"-1"}}).want(t, http.StatusUnprocessableEntity)
		if set, _ := s.Teams.Settings(t.Context(), s.DB.R, ws); set.DefaultCapacity != 3 || !set.AutoAssign {
			t.Errorf("settings %+v", set)
		}

		owner.post(one+"/members/"+agentID+"/remove", nil).redirectsTo(t, base)
		owner.post(one+"/members/"+agentID+"/remove", nil).want(t, http.StatusNotFound)
		owner.post(one+"/delete", nil).redirectsTo(t, base)
		owner.get(base).want(t, http.StatusOK, "No teams yet")

		// Availability: agents set their own and go back where they were;
		// the switch is not offered to viewers, who are refused.
		agent.get("/w/"+ws+"/conversations").want(t, http.StatusOK, `data-availability`, `value="online" checked`)
		viewer.get("/w/"+ws).lacks(t, "data-availability")
		agent.post("/w/"+ws+"/availability", url.Values{"status": {"busy"}, "back": {"/w/" + ws + "/conversations"}}).redirectsTo(t, "/w/"+ws+"/conversations")
		for _, back := range []string{"https://evil.example/", "//evil.example/w/" + ws, "/w/" + ws + "/../../x?y", "/w/" + ws + "/../../x"} {
			if loc := agent.post("/w/"+ws+"/availability", url.Values{"status": {"busy"}, "back": {back}}).redirectsTo(t, "/w/"); loc != "/w/"+ws {
				t.Errorf("back %q went to %q", back, loc)
			}
		}
		agent.post("/w/"+ws+"/availability", url.Values{"status": {"away"}}).want(t, http.StatusUnprocessableEntity)
		if p := viewer.post("/w/"+ws+"/availability", url.Values{"status": {"online"}}); p.Status != http.StatusForbidden {
			t.Errorf("a viewer setting a status: %d", p.Status)
		}
		agent.get("/w/"+ws).want(t, http.StatusOK, `value="busy" checked`)
		agents, err := s.Teams.Load(t.Context(), ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range agents {
			if a.UserID == agentID && a.Status != team.StatusBusy {
				t.Errorf("the agent's status is %s", a.Status)
			}
		}

		// After the trial the workspace takes no writes: no switch, and a
		// post is refused as the other writes are.
		s.Clock.Advance(15 * 24 * time.Hour)
		agent.post("/login", url.Values{"email": {agentAddr}, "password": {password}}).redirectsTo(t, "/")
		agent.get("/w/"+ws).want(t, http.StatusOK).lacks(t, "data-availability")
		if p := agent.post("/w/"+ws+"/availability", url.Values{"status": {"online"}}); p.Status != http.StatusPaymentRequired {
			t.Errorf("setting a status after the trial: %d", p.Status)
		}
	})
}

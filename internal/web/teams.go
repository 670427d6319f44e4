package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// teamsView is Settings → Teams: the teams with their members, who is
// online with how many conversations, and the assignment settings.
type teamsView struct {
	Teams []teamRow
	// Agents is the "who is online" table: every owner, admin and agent.
	Agents   []agentRow
	Settings team.Settings
	// Editing is the team whose edit form comes back with an error.
	Editing string
	// MaxCapacity bounds the capacity inputs.
	MaxCapacity int
}

// teamRow is a team with its members named, and the members who could
// still join it (the picker).
type teamRow struct {
	team.Team
	People     []person
	Candidates []person
}

// person is a member as the page names them.
type person struct {
	UserID string
	Label  string
	Role   workspace.Role
}

// agentRow is one line of the "who is online" table.
type agentRow struct {
	team.Agent
	Label string
	IsYou bool
}

func teamsPath(wsID string) string { return "/w/" + wsID + "/settings/teams" }

// teamsPage loads Settings → Teams for the caller; f, when given, carries
// a form's values and errors back.
func (d *Dashboard) teamsPage(r *http.Request, f *form) (*page, *teamsView, error) {
	if d.Teams == nil {
		return nil, nil, httpx.NotFound("page")
	}
	p, err := d.newPage(r, "Teams")
	if err != nil {
		return nil, nil, err
	}
	p.Nav = "teams"
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	ws := p.WS.ID
	members, err := d.Workspaces.Members(r.Context(), ws)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]person{}
	var takers []person // who may join teams, in the members' order
	for _, m := range members {
		pp := person{UserID: m.UserID, Label: m.Name, Role: m.Role}
		if pp.Label == "" {
			pp.Label = m.Email
		}
		names[m.UserID] = pp
		if m.Role != workspace.RoleViewer {
			takers = append(takers, pp)
		}
	}
	teams, err := d.Teams.Teams(r.Context(), ws)
	if err != nil {
		return nil, nil, err
	}
	agents, err := d.Teams.Load(r.Context(), ws)
	if err != nil {
		return nil, nil, err
	}
	settings, err := d.Teams.Settings(r.Context(), d.DB.R, ws)
	if err != nil {
		return nil, nil, err
	}
	v := &teamsView{Settings: settings, MaxCapacity: team.MaxCapacity}
	for _, t := range teams {
		row := teamRow{Team: t}
		in := map[string]bool{}
		for _, m := range t.Members {
			in[m.UserID] = true
			pp := names[m.UserID]
			pp.UserID, pp.Role = m.UserID, m.Role
			row.People = append(row.People, pp)
		}
		for _, pp := range takers {
			if !in[pp.UserID] {
				row.Candidates = append(row.Candidates, pp)
			}
		}
		v.Teams = append(v.Teams, row)
	}
	for _, a := range agents {
		v.Agents = append(v.Agents, agentRow{Agent: a, Label: names[a.UserID].Label, IsYou: a.UserID == p.User.ID})
	}
	p.Data = v
	return p, v, nil
}

func (d *Dashboard) teams(w http.ResponseWriter, r *http.Request) error {
	p, _, err := d.teamsPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "teams", p)
}

// teamsFormError shows the page again with err on the form it came from
// (fields are the form's field names; editing the team whose edit form
// it was), or answers err when it is not about the form.
func (d *Dashboard) teamsFormError(w http.ResponseWriter, r *http.Request, err error, editing string, fields ...string) error {
	f := newForm(r, fields...)
	e := httpx.AsError(teamProblem(err, fields...))
	if e.Status == http.StatusNotFound || e.Status >= 500 {
		return e
	}
	status, ierr := f.fail(w, e, fields...)
	if ierr != nil {
		return ierr
	}
	p, v, lerr := d.teamsPage(r, f)
	if lerr != nil {
		return lerr
	}
	v.Editing = editing
	pushURL(w, teamsPath(p.WS.ID))
	return d.render(w, status, "teams", p)
}

// teamProblem turns what the team store refuses into an error a form
// shows: field names are the form's (edit_name on an edit form).
func teamProblem(err error, fields ...string) error {
	field := func(name string) string {
		for _, f := range fields {
			if f == name || f == "edit_"+name {
				return f
			}
		}
		return ""
	}
	switch {
	case errors.Is(err, team.ErrNameTaken):
		return &httpx.Error{Status: http.StatusConflict, Code: "team_exists", Field: field("name"),
			Message: "A team with this name already exists (letter case does not count)."}
	case errors.Is(err, team.ErrNotAgent):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "not_an_agent",
			Message: "Viewers only read: make them an agent on the Team page first."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("team or member")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(field(v.Field), v.Message)
	}
	if errors.Is(err, team.ErrInvalid) {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: "That is not a valid value."}
	}
	return httpx.Internal(err)
}

func (d *Dashboard) createTeam(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	in := team.Input{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), AutoAssign: r.PostFormValue("auto_assign") != ""}
	if _, err := d.Teams.CreateTeam(r.Context(), access.Actor(r), s.Workspace.ID, in); err != nil {
		return d.teamsFormError(w, r, err, "", "name", "description", "auto_assign")
	}
	return redirect(w, r, teamsPath(s.Workspace.ID))
}

// updateTeam saves a team's edit form: name, description, auto-assign.
func (d *Dashboard) updateTeam(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	id := r.PathValue("team_id")
	in := team.Input{Name: r.PostFormValue("edit_name"), Description: r.PostFormValue("edit_description"), AutoAssign: r.PostFormValue("auto_assign") != ""}
	if _, err := d.Teams.UpdateTeam(r.Context(), access.Actor(r), s.Workspace.ID, id, in); err != nil {
		return d.teamsFormError(w, r, err, id, "edit_name", "edit_description")
	}
	return redirect(w, r, teamsPath(s.Workspace.ID))
}

func (d *Dashboard) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Teams.DeleteTeam(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("team_id")); err != nil {
		return teamProblem(err)
	}
	return redirect(w, r, teamsPath(s.Workspace.ID))
}

// addTeamMember adds the member chosen in the team's picker.
func (d *Dashboard) addTeamMember(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	userID := r.PostFormValue("user_id")
	if userID == "" {
		return d.teamsFormError(w, r, validationError("user_id", "Choose someone to add."), "")
	}
	if err := d.Teams.AddMember(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("team_id"), userID); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			// The team is gone (404) or the person left: say which on the page.
			if _, terr := d.Teams.Team(r.Context(), s.Workspace.ID, r.PathValue("team_id")); terr != nil {
				return teamProblem(terr)
			}
			err = validationError("user_id", "That person is no longer a member of this workspace.")
		}
		return d.teamsFormError(w, r, err, "")
	}
	return redirect(w, r, teamsPath(s.Workspace.ID))
}

func (d *Dashboard) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Teams.RemoveMember(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("team_id"), r.PathValue("user_id")); err != nil {
		return teamProblem(err)
	}
	return redirect(w, r, teamsPath(s.Workspace.ID))
}

// saveAssignment saves the workspace's default capacity and auto-assign.
func (d *Dashboard) saveAssignment(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("default_capacity")))
	if err != nil {
		return d.teamsFormError(w, r, validationError("default_capacity", "Enter a whole number, like 10."), "", "default_capacity", "auto_assign")
	}
	set := team.Settings{DefaultCapacity: n, AutoAssign: r.PostFormValue("auto_assign") != ""}
	if err := d.Teams.SetSettings(r.Context(), access.Actor(r), s.Workspace.ID, set); err != nil {
		return d.teamsFormError(w, r, err, "", "default_capacity", "auto_assign")
	}
	return redirect(w, r, teamsPath(s.Workspace.ID))
}

// validationError is a field-level problem found by the page itself.
func validationError(field, msg string) error {
	return errors.Join(team.ErrInvalid, validate.Field(field, msg))
}

// availabilityView is the signed-in member's status for the switch in the
// chrome; nil for viewers and when teams are off.
type availabilityView struct {
	Status team.Status
	Online bool
	// Back is where the switch's form returns to: the page it is on.
	Back string
}

// availabilityOf reads the caller's status for the chrome's switch.
// Failing to read it only hides the switch: the page itself matters more.
func (d *Dashboard) availabilityOf(r *http.Request, p *page) *availabilityView {
	// A read-only workspace (trial over) takes no writes: no switch.
	if d.Teams == nil || p.WS == nil || p.User == nil || !p.Can(workspace.RoleAgent) || p.ReadOnly() {
		return nil
	}
	agents, err := d.Teams.Load(r.Context(), p.WS.ID)
	if err != nil {
		d.Log.Warn("availability unavailable", "workspace", p.WS.ID, "err", err)
		return nil
	}
	for _, a := range agents {
		if a.UserID == p.User.ID {
			back := r.URL.Path
			if r.Method != http.MethodGet {
				back = "/w/" + p.WS.ID
			}
			return &availabilityView{Status: a.Status, Online: a.Online, Back: back}
		}
	}
	return nil
}

// setAvailability saves the status chosen in the chrome's switch and
// returns to the page it was on (a path inside the workspace only, so the
// form cannot send anyone elsewhere).
func (d *Dashboard) setAvailability(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	err := d.Teams.SetAvailability(r.Context(), access.Actor(r), s.Workspace.ID, access.PrincipalFrom(r.Context()).User.ID, team.Status(r.PostFormValue("status")))
	if err != nil {
		return teamProblem(err)
	}
	if r.Header.Get("X-Parley-Background") != "" {
		// The switch saved in the background (app.js): the page stays.
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/w/"+s.Workspace.ID) || strings.ContainsAny(back, "\\?#") || strings.Contains(back, "//") || strings.Contains(back, "..") {
		back = "/w/" + s.Workspace.ID
	}
	return redirect(w, r, back)
}

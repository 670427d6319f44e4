package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/validate"
)

// teamJSON is a team with its members.
type teamJSON struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	AutoAssign  bool             `json:"auto_assign"`
	Members     []teamMemberJSON `json:"members"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

// teamMemberJSON is one member of a team; role is their current role in
// the workspace (a member demoted to viewer stays listed but is never
// assigned conversations).
type teamMemberJSON struct {
	UserID  string    `json:"user_id"`
	Role    string    `json:"role"`
	AddedAt time.Time `json:"added_at"`
}

func toTeamJSON(t team.Team) teamJSON {
	out := teamJSON{ID: t.ID, Name: t.Name, Description: t.Description, AutoAssign: t.AutoAssign,
		Members: make([]teamMemberJSON, len(t.Members)), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	for i, m := range t.Members {
		out.Members[i] = teamMemberJSON{UserID: m.UserID, Role: string(m.Role), AddedAt: m.AddedAt}
	}
	return out
}

// agentJSON is one member's availability and load.
type agentJSON struct {
	UserID         string     `json:"user_id"`
	Role           string     `json:"role"`
	Status         string     `json:"status"`
	Online         bool       `json:"online"`
	Load           int        `json:"load"`
	Capacity       int        `json:"capacity"`
	OwnCapacity    *int       `json:"own_capacity"`
	LastSeenAt     *time.Time `json:"last_seen_at"`
	LastAssignedAt *time.Time `json:"last_assigned_at"`
}

func toAgentJSON(a team.Agent) agentJSON {
	return agentJSON{UserID: a.UserID, Role: string(a.Role), Status: string(a.Status), Online: a.Online,
		Load: a.Load, Capacity: a.Capacity, OwnCapacity: a.OwnCapacity,
		LastSeenAt: timeOrNil(a.LastSeenAt), LastAssignedAt: timeOrNil(a.LastAssignedAt)}
}

// timeOrNil is nil for the zero time ("never").
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// assignmentSettingsJSON is the workspace's assignment settings. Both members are
// required when writing, so that an empty body changes nothing.
type assignmentSettingsJSON struct {
	DefaultCapacity *int  `json:"default_capacity"`
	AutoAssign      *bool `json:"auto_assign"`
}

type teamRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	AutoAssign  bool   `json:"auto_assign"`
}

type teamPatch struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	AutoAssign  *bool   `json:"auto_assign"`
}

type availabilityRequest struct {
	Status string `json:"status"`
}

// capacityRequest holds capacity as raw JSON: a number sets the member's
// own capacity, null returns them to the workspace default, and a missing
// member is refused (so that {} changes nothing).
type capacityRequest struct {
	Capacity json.RawMessage `json:"capacity"`
}

func (a *API) listTeams(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.Teams.Teams(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]teamJSON, len(ts))
	for i, t := range ts {
		out[i] = toTeamJSON(t)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"teams": out})
}

func (a *API) createTeam(w http.ResponseWriter, r *http.Request) error {
	var in teamRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	t, err := a.Teams.CreateTeam(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID,
		team.Input{Name: in.Name, Description: in.Description, AutoAssign: in.AutoAssign})
	if err != nil {
		return teamError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"team": toTeamJSON(t)})
}

func (a *API) getTeam(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Teams.Team(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("team_id"))
	if err != nil {
		return teamError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"team": toTeamJSON(t)})
}

// updateTeam changes any of name, description and auto_assign; the others
// keep their values.
func (a *API) updateTeam(w http.ResponseWriter, r *http.Request) error {
	ws, id := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("team_id")
	cur, err := a.Teams.Team(r.Context(), ws, id)
	if err != nil {
		return teamError(err)
	}
	var in teamPatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Name == nil && in.Description == nil && in.AutoAssign == nil {
		return httpx.BadRequest("nothing_to_change", "Send name, description, auto_assign or several of them.")
	}
	next := team.Input{Name: cur.Name, Description: cur.Description, AutoAssign: cur.AutoAssign}
	if in.Name != nil {
		next.Name = *in.Name
	}
	if in.Description != nil {
		next.Description = *in.Description
	}
	if in.AutoAssign != nil {
		next.AutoAssign = *in.AutoAssign
	}
	t, err := a.Teams.UpdateTeam(r.Context(), access.Actor(r), ws, id, next)
	if err != nil {
		return teamError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"team": toTeamJSON(t)})
}

func (a *API) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	if err := a.Teams.DeleteTeam(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("team_id")); err != nil {
		return teamError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// addTeamMember puts a member in the team (again is harmless) and answers
// the team.
func (a *API) addTeamMember(w http.ResponseWriter, r *http.Request) error {
	ws, id := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("team_id")
	if err := a.Teams.AddMember(r.Context(), access.Actor(r), ws, id, r.PathValue("user_id")); err != nil {
		return teamError(err)
	}
	t, err := a.Teams.Team(r.Context(), ws, id)
	if err != nil {
		return teamError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"team": toTeamJSON(t)})
}

func (a *API) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	if err := a.Teams.RemoveMember(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID,
		r.PathValue("team_id"), r.PathValue("user_id")); err != nil {
		return teamError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listAgents lists the members who can take conversations with their
// status, whether they are online, their load and capacity.
func (a *API) listAgents(w http.ResponseWriter, r *http.Request) error {
	as, err := a.Teams.Load(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]agentJSON, len(as))
	for i, ag := range as {
		out[i] = toAgentJSON(ag)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"agents": out})
}

// setMyAvailability sets the signed-in caller's own status (the route is
// session only: an API key is nobody who could be online).
func (a *API) setMyAvailability(w http.ResponseWriter, r *http.Request) error {
	return a.setAvailabilityOf(w, r, access.PrincipalFrom(r.Context()).User.ID)
}

// setAgentAvailability sets another member's status (admins).
func (a *API) setAgentAvailability(w http.ResponseWriter, r *http.Request) error {
	return a.setAvailabilityOf(w, r, r.PathValue("user_id"))
}

func (a *API) setAvailabilityOf(w http.ResponseWriter, r *http.Request, userID string) error {
	var in availabilityRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	if err := a.Teams.SetAvailability(r.Context(), access.Actor(r), ws, userID, team.Status(in.Status)); err != nil {
		return teamError(err)
	}
	return a.writeAgent(w, r, ws, userID)
}

// setAgentCapacity gives a member a capacity of their own, or with null
// returns them to the workspace default (admins).
func (a *API) setAgentCapacity(w http.ResponseWriter, r *http.Request) error {
	var in capacityRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	var capacity *int
	switch raw := bytes.TrimSpace(in.Capacity); {
	case len(raw) == 0:
		return httpx.Invalid("capacity", "Send capacity: a number, or null for the workspace's default.")
	case string(raw) == "null":
	default:
		var n int
		if err := json.Unmarshal(raw, &n); err != nil {
			return httpx.Invalid("capacity", "Send capacity: a whole number, or null for the workspace's default.")
		}
		capacity = &n
	}
	ws, userID := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("user_id")
	if err := a.Teams.SetCapacity(r.Context(), access.Actor(r), ws, userID, capacity); err != nil {
		return teamError(err)
	}
	return a.writeAgent(w, r, ws, userID)
}

// writeAgent answers one member's availability and load after a change.
func (a *API) writeAgent(w http.ResponseWriter, r *http.Request, ws, userID string) error {
	as, err := a.Teams.Load(r.Context(), ws)
	if err != nil {
		return httpx.Internal(err)
	}
	for _, ag := range as {
		if ag.UserID == userID {
			return httpx.WriteJSON(w, http.StatusOK, map[string]any{"agent": toAgentJSON(ag)})
		}
	}
	return httpx.NotFound("member")
}

func (a *API) getAssignmentSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Teams.Settings(r.Context(), a.DB.R, access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"settings": assignmentSettingsJSON{DefaultCapacity: &s.DefaultCapacity, AutoAssign: &s.AutoAssign}})
}

func (a *API) putAssignmentSettings(w http.ResponseWriter, r *http.Request) error {
	var in assignmentSettingsJSON
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.DefaultCapacity == nil {
		return httpx.Invalid("default_capacity", "Send default_capacity: how many open conversations each member may have at once.")
	}
	if in.AutoAssign == nil {
		return httpx.Invalid("auto_assign", "Send auto_assign: true or false.")
	}
	set := team.Settings{DefaultCapacity: *in.DefaultCapacity, AutoAssign: *in.AutoAssign}
	if err := a.Teams.SetSettings(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, set); err != nil {
		return teamError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"settings": in})
}

// teamError maps what teams refuse: a taken name (409), a viewer where an
// agent is needed (422 not_an_agent), bad input (422 naming the field),
// a team or member not in the workspace (404).
func teamError(err error) error {
	switch {
	case errors.Is(err, team.ErrNameTaken):
		return &httpx.Error{Status: http.StatusConflict, Code: "team_exists", Field: "name",
			Message: "A team with this name already exists (letter case does not count)."}
	case errors.Is(err, team.ErrNotAgent):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "not_an_agent", Field: "user_id",
			Message: "Viewers only read: make them an agent first to put them in a team or give them conversations."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("team or member")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	if errors.Is(err, team.ErrInvalid) {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: "That is not a valid value."}
	}
	return httpx.Internal(err)
}

package api

import (
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// createWorkspaceRequest is a new workspace; time_zone is optional (UTC).
type createWorkspaceRequest struct {
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"`
}

// workspacePatch changes a workspace's name, time zone or both.
type workspacePatch struct {
	Name     *string `json:"name"`
	TimeZone *string `json:"time_zone"`
}

func (a *API) listWorkspaces(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.Workspaces.ListForUser(r.Context(), access.PrincipalFrom(r.Context()).User.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"workspaces": nonNil(ms)})
}

func (a *API) createWorkspace(w http.ResponseWriter, r *http.Request) error {
	var in createWorkspaceRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	ws, err := a.Workspaces.Create(r.Context(), access.Actor(r), in.Name, in.TimeZone)
	if err != nil {
		return access.DomainError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, workspace.Membership{Workspace: *ws, Role: workspace.RoleOwner})
}

func (a *API) getWorkspace(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	return httpx.WriteJSON(w, http.StatusOK, workspace.Membership{Workspace: *s.Workspace, Role: s.Role})
}

// updateWorkspace renames the workspace and/or changes its time zone; a
// bad value (422 naming its field) changes neither.
func (a *API) updateWorkspace(w http.ResponseWriter, r *http.Request) error {
	var in workspacePatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Name == nil && in.TimeZone == nil {
		return httpx.BadRequest("nothing_to_change", "Send name, time_zone or both.")
	}
	s := access.ScopeFrom(r.Context())
	ws, err := a.Workspaces.Update(r.Context(), access.Actor(r), s.Workspace.ID, workspace.Changes{Name: in.Name, TimeZone: in.TimeZone})
	if err != nil {
		return access.DomainError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, workspace.Membership{Workspace: *ws, Role: s.Role})
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.Workspaces.Members(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"members": nonNil(ms)})
}

type roleRequest struct {
	Role string `json:"role"`
}

func parseRole(s string) (workspace.Role, error) {
	role, err := workspace.ParseRole(s)
	if err != nil {
		return "", httpx.Invalid("role", "Choose one of owner, admin, agent or viewer.")
	}
	return role, nil
}

func (a *API) changeRole(w http.ResponseWriter, r *http.Request) error {
	var in roleRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	role, err := parseRole(in.Role)
	if err != nil {
		return err
	}
	s := access.ScopeFrom(r.Context())
	if err := a.Workspaces.ChangeRole(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, r.PathValue("user_id"), role); err != nil {
		return domainError(err, "member")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeMember removes someone from the workspace (admins and owners; the
// service enforces who may remove whom).
func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := a.Workspaces.RemoveMember(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, r.PathValue("user_id")); err != nil {
		return domainError(err, "member")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// leave removes the caller from the workspace, whatever their role; the
// last owner cannot leave. It works on an expired trial too.
func (a *API) leave(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	p := access.PrincipalFrom(r.Context())
	if err := a.Workspaces.RemoveMember(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, p.User.ID); err != nil {
		return domainError(err, "member")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// domainError maps a service error, naming what was not found.
func domainError(err error, what string) error {
	e := access.DomainError(err)
	if he, ok := e.(*httpx.Error); ok && he.Status == http.StatusNotFound {
		return httpx.NotFound(what)
	}
	return e
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) error {
	invs, err := a.Workspaces.Invitations(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"invitations": nonNil(invs)})
}

type inviteRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// invite creates an invitation and returns its link. Until e-mail delivery
// exists the inviter passes the link on; it is shown only in this response.
func (a *API) invite(w http.ResponseWriter, r *http.Request) error {
	var in inviteRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	role, err := parseRole(in.Role)
	if err != nil {
		return err
	}
	s := access.ScopeFrom(r.Context())
	inv, token, err := a.Workspaces.Invite(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, in.Email, role)
	if err != nil {
		return access.DomainError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"invitation": inv, "link": a.link("/invitations/" + token)})
}

func (a *API) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := a.Workspaces.RevokeInvitation(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("invitation_id")); err != nil {
		return domainError(err, "invitation")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// showInvitation lets whoever holds the link see where it leads before
// signing up or in.
func (a *API) showInvitation(w http.ResponseWriter, r *http.Request) error {
	inv, ws, err := a.Workspaces.InvitationByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		return access.DomainError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"workspace_name": ws.Name, "role": inv.Role, "email": inv.Email, "expires_at": inv.ExpiresAt})
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	p := access.PrincipalFrom(r.Context())
	m, err := a.Workspaces.AcceptInvitation(r.Context(), access.Actor(r), r.PathValue("token"), p.User.Email)
	if err != nil {
		return access.DomainError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, m)
}

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := a.Workspaces.APIKeys(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"api_keys": nonNil(keys)})
}

// apiKeyRequest is a new API key. Scopes are permissions beyond the role
// that a few routes require (workspace.AllScopes); most keys have none.
type apiKeyRequest struct {
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Scopes []string `json:"scopes"`
}

// createAPIKey returns the secret once; only its hash is kept (P-08).
func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var in apiKeyRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	role, err := parseRole(in.Role)
	if err != nil {
		return err
	}
	// An unknown scope, or one the role is too low for, is a 422 on scopes.
	scopes, err := workspace.ParseScopes(in.Scopes, role)
	if err != nil {
		return access.DomainError(err)
	}
	s := access.ScopeFrom(r.Context())
	key, secret, err := a.Workspaces.CreateAPIKey(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, in.Name, role, scopes...)
	if err != nil {
		return access.DomainError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"api_key": key, "secret": secret})
}

func (a *API) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := a.Workspaces.RevokeAPIKey(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("key_id")); err != nil {
		return domainError(err, "API key")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) workspaceAuditLog(w http.ResponseWriter, r *http.Request) error {
	return a.auditLog(w, r, audit.Filter{WorkspaceID: access.ScopeFrom(r.Context()).Workspace.ID})
}

func (a *API) myAuditLog(w http.ResponseWriter, r *http.Request) error {
	return a.auditLog(w, r, audit.Filter{UserID: access.PrincipalFrom(r.Context()).User.ID})
}

func (a *API) auditLog(w http.ResponseWriter, r *http.Request, f audit.Filter) error {
	q := r.URL.Query()
	f.Before, f.Limit = q.Get("before"), 50
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_limit", Field: "limit", Message: "limit must be a whole number from 1 to 200."}
		}
		f.Limit = n
	}
	entries, err := audit.List(r.Context(), a.DB, f)
	if err != nil {
		return httpx.Internal(err)
	}
	next := ""
	if len(entries) > 0 && len(entries) == f.Limit {
		next = entries[len(entries)-1].ID
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"entries": nonNil(entries), "next_before": next})
}

func (a *API) link(path string) string { return a.BaseURL + path }

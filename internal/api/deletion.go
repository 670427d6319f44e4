package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// Workspace and account deletion (promise P-33, security.md §3.O O-5, O-6).

// AccountDeleter deletes a user's own account after checking the password
// and the last-owner rule (the app's DeleteAccount).
type AccountDeleter func(ctx context.Context, a audit.Actor, userID, password string) error

// deletionRequest confirms a workspace's deletion: its name typed, and the
// owner's password.
type deletionRequest struct {
	ConfirmName string `json:"confirm_name"`
	Password    string `json:"password"`
}

// deletionResponse is a workspace waiting to be purged.
type deletionResponse struct {
	Workspace workspace.Workspace `json:"workspace"`
	// PurgeAt is when it and everything in it is deleted for good, unless
	// an owner cancels first.
	PurgeAt time.Time `json:"purge_at"`
}

// requestWorkspaceDeletion deletes the workspace in the path: owners only,
// signed in (an API key is nobody to re-enter a password), also after a
// trial ended. From the answer on, every route of the workspace is 404 for
// everyone; an owner may cancel until purge_at.
func (a *API) requestWorkspaceDeletion(w http.ResponseWriter, r *http.Request) error {
	if a.Deletion == nil {
		return httpx.Internal(errors.New("api: workspace deletion not wired"))
	}
	var in deletionRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Password == "" {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_password", Field: "password", Message: "Enter your password to confirm."}
	}
	wsID := access.ScopeFrom(r.Context()).Workspace.ID
	var ws *workspace.Workspace
	err := a.Auth.Reauthenticate(r, func() (err error) {
		ws, err = a.Deletion.RequestDeletion(r.Context(), access.Actor(r), wsID, in.ConfirmName, in.Password)
		return err
	})
	if err != nil {
		return access.DeletionError(err)
	}
	return httpx.WriteJSON(w, http.StatusAccepted, deletionResponse{Workspace: *ws, PurgeAt: *ws.PurgeAt})
}

// cancelWorkspaceDeletion gives the workspace back during its grace period:
// owners only (the one route that reaches a workspace being deleted).
func (a *API) cancelWorkspaceDeletion(w http.ResponseWriter, r *http.Request) error {
	if a.Deletion == nil {
		return httpx.Internal(errors.New("api: workspace deletion not wired"))
	}
	ws, err := a.Deletion.CancelDeletion(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return access.DeletionError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, workspace.Membership{Workspace: *ws, Role: workspace.RoleOwner})
}

// deleteAccount deletes the caller's own account: the password confirms
// it; the last owner of a live workspace is refused (409 last_owner, the
// workspaces named). Every session ends, this one included.
func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	if a.DeleteAccount == nil {
		return httpx.Internal(errors.New("api: account deletion not wired"))
	}
	var in passwordOnly
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	p := access.PrincipalFrom(r.Context())
	err := a.Auth.Reauthenticate(r, func() error {
		return a.DeleteAccount(r.Context(), access.Actor(r), p.User.ID, in.Password)
	})
	if err != nil {
		return access.DeletionError(err)
	}
	a.Guard.ClearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package web

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

// Deleting a workspace and one's own account (promise P-33, security.md
// §3.O O-5, O-6): Settings → Delete workspace (owners), the page a
// workspace being deleted shows its members, with "Cancel deletion" for
// its owners, and Sign-in and security → Delete my account.

// AccountDeleter deletes a user's own account after checking the password
// and the last-owner rule (the app's DeleteAccount).
type AccountDeleter func(ctx context.Context, a audit.Actor, userID, password string) error

// deletionRoutes are this file's routes; web.go lists them with the rest.
func (d *Dashboard) deletionRoutes() []access.Route {
	signedIn := access.SignedIn()
	owner := access.Member(workspace.RoleOwner).SessionOnly()
	const ws = "/w/{workspace_id}"
	return []access.Route{
		{Method: "GET", Pattern: ws + "/settings/delete", Policy: owner, Handler: d.deleteWorkspaceForm},
		// Leaving is never held hostage by an ended trial.
		{Method: "POST", Pattern: ws + "/settings/delete", Policy: owner.AllowedWhenReadOnly().NotWhileImpersonating(), Handler: d.deleteWorkspace},
		// The only pages that reach a workspace being deleted (every other
		// page of it is 404 then): its members see when it goes, its owners
		// may cancel.
		{Method: "GET", Pattern: ws + "/deletion", Policy: access.Member(workspace.RoleViewer).SessionOnly().WhileDeleting(), Handler: d.workspaceDeletion},
		{Method: "POST", Pattern: ws + "/deletion/cancel", Policy: owner.AllowedWhenReadOnly().WhileDeleting().NotWhileImpersonating(), Handler: d.cancelWorkspaceDeletion},
		{Method: "GET", Pattern: "/account/delete", Policy: signedIn, Handler: d.deleteAccountForm},
		{Method: "POST", Pattern: "/account/delete", Policy: signedIn, Handler: d.deleteAccount},
	}
}

// deleteWorkspaceView explains what deleting the workspace does.
type deleteWorkspaceView struct {
	// GraceDays is the grace period in whole days (at least 1 shown).
	GraceDays int
	// PurgeOn is the day the purge would run if deleted now.
	PurgeOn time.Time
}

func (d *Dashboard) graceDays() int {
	if d.Deletion == nil {
		return int(workspace.DefaultPurgeAfter / (24 * time.Hour))
	}
	return max(1, int((d.Deletion.PurgeAfter()+12*time.Hour)/(24*time.Hour)))
}

func (d *Dashboard) deleteWorkspacePage(r *http.Request) (*page, error) {
	p, err := d.newPage(r, "Delete workspace")
	if err != nil {
		return nil, err
	}
	p.Nav, p.Form = "general", newForm(r)
	after := workspace.DefaultPurgeAfter
	if d.Deletion != nil {
		after = d.Deletion.PurgeAfter()
	}
	p.Data = deleteWorkspaceView{GraceDays: d.graceDays(), PurgeOn: d.Now().UTC().Add(after)}
	return p, nil
}

func (d *Dashboard) deleteWorkspaceForm(w http.ResponseWriter, r *http.Request) error {
	p, err := d.deleteWorkspacePage(r)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "workspace_delete", p)
}

// deleteWorkspace deletes the workspace: the owner typed its name and
// their password. Then they land on its deletion page, where they may
// cancel.
func (d *Dashboard) deleteWorkspace(w http.ResponseWriter, r *http.Request) error {
	if d.Deletion == nil {
		return httpx.Internal(errors.New("web: workspace deletion not wired"))
	}
	wsID := access.ScopeFrom(r.Context()).Workspace.ID
	err := d.Auth.Reauthenticate(r, func() error {
		_, err := d.Deletion.RequestDeletion(r.Context(), access.Actor(r), wsID, r.PostFormValue("confirm_name"), r.PostFormValue("password"))
		return err
	})
	if err != nil {
		p, perr := d.deleteWorkspacePage(r)
		if perr != nil {
			return perr
		}
		p.Form = newForm(r, "confirm_name")
		status, ferr := p.Form.fail(w, access.DeletionError(err), "confirm_name", "password")
		if ferr != nil {
			return ferr
		}
		return d.render(w, status, "workspace_delete", p)
	}
	return redirect(w, r, "/w/"+wsID+"/deletion")
}

// workspaceDeletionView is a workspace waiting to be purged.
type workspaceDeletionView struct {
	Workspace workspace.Workspace
	// Owner: the viewer may cancel.
	Owner bool
}

// workspaceDeletion shows a member that the workspace is being deleted and
// when it goes for good; owners get "Cancel deletion". A live workspace
// sends them to it.
func (d *Dashboard) workspaceDeletion(w http.ResponseWriter, r *http.Request) error {
	p, err := d.deletionPage(r)
	if err != nil {
		return err
	}
	if access.ScopeFrom(r.Context()).Workspace.DeletionRequestedAt == nil {
		return redirect(w, r, "/w/"+r.PathValue("workspace_id"))
	}
	return d.render(w, http.StatusOK, "workspace_deleting", p)
}

// deletionPage is the page of a workspace being deleted. It leaves the
// workspace's navigation out: every other page of it is 404.
func (d *Dashboard) deletionPage(r *http.Request) (*page, error) {
	p, err := d.newPage(r, "Workspace being deleted")
	if err != nil {
		return nil, err
	}
	s := access.ScopeFrom(r.Context())
	p.WS, p.Trial, p.Availability = nil, nil, nil
	p.Form = newForm(r)
	p.Data = workspaceDeletionView{Workspace: *s.Workspace, Owner: s.Role == workspace.RoleOwner}
	return p, nil
}

// cancelWorkspaceDeletion restores the workspace (owners, during the grace
// period) and opens it again.
func (d *Dashboard) cancelWorkspaceDeletion(w http.ResponseWriter, r *http.Request) error {
	if d.Deletion == nil {
		return httpx.Internal(errors.New("web: workspace deletion not wired"))
	}
	wsID := access.ScopeFrom(r.Context()).Workspace.ID
	if _, err := d.Deletion.CancelDeletion(r.Context(), access.Actor(r), wsID); err != nil {
		e := httpx.AsError(access.DeletionError(err))
		if e.Status != http.StatusConflict {
			return e
		}
		if errors.Is(err, workspace.ErrNotDeleting) {
			return redirect(w, r, "/w/"+wsID)
		}
		// Too late: the page says so.
		p, perr := d.deletionPage(r)
		if perr != nil {
			return perr
		}
		p.Form.Error = e.Message
		return d.render(w, e.Status, "workspace_deleting", p)
	}
	return redirect(w, r, "/w/"+wsID)
}

func (d *Dashboard) deleteAccountPage(r *http.Request) (*page, error) {
	p, err := d.newPage(r, "Delete my account")
	if err != nil {
		return nil, err
	}
	p.Nav, p.Form = "security", newForm(r)
	return p, nil
}

func (d *Dashboard) deleteAccountForm(w http.ResponseWriter, r *http.Request) error {
	p, err := d.deleteAccountPage(r)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "account_delete", p)
}

// deleteAccount deletes the signed-in person's account (their password
// confirms it), signs this browser out and says goodbye. The last owner
// of a live workspace is told which ones to hand over or delete first.
func (d *Dashboard) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	if d.DeleteAccount == nil {
		return httpx.Internal(errors.New("web: account deletion not wired"))
	}
	pr := access.PrincipalFrom(r.Context())
	err := d.Auth.Reauthenticate(r, func() error {
		return d.DeleteAccount(r.Context(), access.Actor(r), pr.User.ID, r.PostFormValue("password"))
	})
	if err != nil {
		p, perr := d.deleteAccountPage(r)
		if perr != nil {
			return perr
		}
		status, ferr := p.Form.fail(w, access.DeletionError(err), "password")
		if ferr != nil {
			return ferr
		}
		return d.render(w, status, "account_delete", p)
	}
	d.Guard.ClearSessionCookie(w)
	return d.render(w, http.StatusOK, "account_deleted", &page{Title: "Account deleted"})
}

package web

import (
	"net/http"
	"net/url"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/workspace"
)

// invitationView shows where an invitation leads before it is accepted.
type invitationView struct {
	Invitation *workspace.Invitation
	Workspace  *workspace.Workspace
	// Path is this page's address, to come back to after signing in.
	Path string
	// SignUp and Login lead to those pages and back here.
	SignUp, Login string
	// OtherEmail is set when the signed-in account's address is not the
	// invited one, to explain why accepting will be refused.
	OtherEmail bool
}

func (d *Dashboard) invitation(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	inv, ws, err := d.Workspaces.InvitationByToken(r.Context(), token)
	if err != nil {
		return domainError(err)
	}
	p, err := d.newPage(r, "Join "+ws.Name)
	if err != nil {
		return err
	}
	path := "/invitations/" + token
	next := url.QueryEscape(path)
	v := invitationView{Invitation: inv, Workspace: ws, Path: path, SignUp: "/signup?next=" + next, Login: "/login?next=" + next}
	if p.User != nil {
		v.OtherEmail = !equalFoldTrim(p.User.Email, inv.Email)
	}
	p.Data = v
	return d.render(w, http.StatusOK, "invitation", p)
}

func (d *Dashboard) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	pr := access.PrincipalFrom(r.Context())
	m, err := d.Workspaces.AcceptInvitation(r.Context(), access.Actor(r), r.PathValue("token"), pr.User.Email)
	if err != nil {
		return domainError(err)
	}
	return redirect(w, r, "/w/"+m.ID)
}

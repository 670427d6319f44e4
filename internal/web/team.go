package web

import (
	"errors"
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/workspace"
)

// teamView is the team page: members, pending invitations and, right
// after inviting someone, the link to pass on.
type teamView struct {
	Members     []memberRow
	Invitations []workspace.Invitation
	// Grantable lists the roles the viewer may give.
	Grantable []workspace.Role
	// Link is a new invitation's link, shown once (e-mail delivery does
	// not exist yet, so the inviter sends it themselves).
	Link, LinkEmail string
}

// memberRow is one member with what the viewer may do to them.
type memberRow struct {
	workspace.Member
	IsYou     bool
	CanChange bool
	CanRemove bool
}

// teamPage loads the team page for the caller. form, when given, holds
// the invitation form's values and errors.
func (d *Dashboard) teamPage(r *http.Request, f *form) (*page, *teamView, error) {
	p, err := d.newPage(r, "Team")
	if err != nil {
		return nil, nil, err
	}
	p.Nav = "team"
	if f == nil {
		f = newForm(r)
		f.Values.Set("role", string(workspace.RoleAgent))
	}
	p.Form = f
	members, err := d.Workspaces.Members(r.Context(), p.WS.ID)
	if err != nil {
		return nil, nil, err
	}
	v := &teamView{}
	owners := 0
	for _, m := range members {
		if m.Role == workspace.RoleOwner {
			owners++
		}
	}
	me := p.User.ID
	for _, m := range members {
		you := m.UserID == me
		// The service refuses to leave a workspace without an owner; don't
		// offer what would only be refused.
		lastOwner := m.Role == workspace.RoleOwner && owners == 1
		v.Members = append(v.Members, memberRow{
			Member: m, IsYou: you,
			CanChange: p.WS.Role.CanManage(m.Role) && !lastOwner,
			CanRemove: (you || p.WS.Role.CanManage(m.Role)) && !lastOwner,
		})
	}
	for _, role := range []workspace.Role{workspace.RoleOwner, workspace.RoleAdmin, workspace.RoleAgent, workspace.RoleViewer} {
		if p.WS.Role.CanManage(role) {
			v.Grantable = append(v.Grantable, role)
		}
	}
	if p.Can(workspace.RoleAdmin) { // invitations carry addresses: admins only, as in the API
		if v.Invitations, err = d.Workspaces.Invitations(r.Context(), p.WS.ID); err != nil {
			return nil, nil, err
		}
	}
	p.Data = v
	return p, v, nil
}

func (d *Dashboard) team(w http.ResponseWriter, r *http.Request) error {
	p, _, err := d.teamPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "team", p)
}

func teamPath(wsID string) string { return "/w/" + wsID + "/settings/team" }

// invite creates an invitation and shows its link once, on the team page.
func (d *Dashboard) invite(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	f := newForm(r, "email", "role")
	role, err := workspace.ParseRole(r.PostFormValue("role"))
	var token string
	var inv *workspace.Invitation
	if err == nil {
		inv, token, err = d.Workspaces.Invite(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, r.PostFormValue("email"), role)
	}
	status := http.StatusOK
	if err != nil {
		var ierr error
		if status, ierr = f.fail(w, err, "email", "role"); ierr != nil {
			return ierr
		}
		if errors.Is(err, workspace.ErrAlreadyMember) { // about the address typed
			f.Errors["email"], f.Error = f.Error, ""
		}
	}
	if err == nil {
		f = nil // a fresh form for the next invitation
	}
	p, v, lerr := d.teamPage(r, f)
	if lerr != nil {
		return lerr
	}
	if err == nil {
		v.Link, v.LinkEmail = d.BaseURL+"/invitations/"+token, inv.Email
	}
	pushURL(w, teamPath(s.Workspace.ID))
	return d.render(w, status, "team", p)
}

func (d *Dashboard) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Workspaces.RevokeInvitation(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("invitation_id")); err != nil {
		return domainError(err)
	}
	return redirect(w, r, teamPath(s.Workspace.ID))
}

func (d *Dashboard) changeRole(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	role, err := workspace.ParseRole(r.PostFormValue("role"))
	if err == nil {
		err = d.Workspaces.ChangeRole(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, r.PathValue("user_id"), role)
	}
	if err != nil {
		return d.teamError(w, r, err)
	}
	return redirect(w, r, teamPath(s.Workspace.ID))
}

// removeMember removes someone, or lets the caller leave.
func (d *Dashboard) removeMember(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	userID := r.PathValue("user_id")
	if err := d.Workspaces.RemoveMember(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, userID); err != nil {
		return d.teamError(w, r, err)
	}
	if userID == access.PrincipalFrom(r.Context()).User.ID {
		return redirect(w, r, "/") // they left: back to their other workspaces
	}
	return redirect(w, r, teamPath(s.Workspace.ID))
}

// teamError shows the team page with the reason an action on a member was
// refused (the last owner cannot leave, say).
func (d *Dashboard) teamError(w http.ResponseWriter, r *http.Request, err error) error {
	f := newForm(r)
	status, ierr := f.fail(w, err)
	if ierr != nil {
		return ierr
	}
	if status == http.StatusNotFound {
		return domainError(err)
	}
	f.Values.Set("role", string(workspace.RoleAgent))
	p, _, lerr := d.teamPage(r, f)
	if lerr != nil {
		return lerr
	}
	pushURL(w, teamPath(access.ScopeFrom(r.Context()).Workspace.ID))
	return d.render(w, status, "team", p)
}

package web

import (
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
)

// root sends a signed-in person to their first workspace (by name), or to
// create one when they have none.
func (d *Dashboard) root(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "")
	if err != nil {
		return err
	}
	if len(p.Memberships) == 0 {
		return redirect(w, r, "/workspaces/new")
	}
	return redirect(w, r, "/w/"+p.Memberships[0].ID)
}

func (d *Dashboard) newWorkspaceForm(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Create a workspace")
	if err != nil {
		return err
	}
	p.Form = newForm(r)
	return d.render(w, http.StatusOK, "workspace_new", p)
}

func (d *Dashboard) createWorkspace(w http.ResponseWriter, r *http.Request) error {
	ws, err := d.Workspaces.Create(r.Context(), access.Actor(r), r.PostFormValue("name"))
	if err != nil {
		f := newForm(r, "name")
		status, ierr := f.fail(w, err, "name")
		if ierr != nil {
			return ierr
		}
		p, err := d.newPage(r, "Create a workspace")
		if err != nil {
			return err
		}
		p.Form = f
		return d.render(w, status, "workspace_new", p)
	}
	return redirect(w, r, "/w/"+ws.ID)
}

// homeView is the workspace home's checklist state.
type homeView struct {
	Members int
	APIKeys int
	// Channels counts the connected channels.
	Channels int
}

func (d *Dashboard) home(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Home")
	if err != nil {
		return err
	}
	p.Title, p.Nav = p.WS.Name, "home"
	members, err := d.Workspaces.Members(r.Context(), p.WS.ID)
	if err != nil {
		return err
	}
	v := homeView{Members: len(members)}
	cs, err := d.Channels.List(r.Context(), p.WS.ID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Status == channel.Active {
			v.Channels++
		}
	}
	if p.Can("admin") { // key counts are for those who manage keys (promise P-04)
		keys, err := d.Workspaces.APIKeys(r.Context(), p.WS.ID)
		if err != nil {
			return err
		}
		v.APIKeys = len(keys)
	}
	p.Data = v
	return d.render(w, http.StatusOK, "home", p)
}

func (d *Dashboard) general(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Workspace settings")
	if err != nil {
		return err
	}
	p.Nav, p.Form = "general", newForm(r)
	p.Form.Values.Set("name", p.WS.Name)
	return d.render(w, http.StatusOK, "general", p)
}

func (d *Dashboard) rename(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	_, err := d.Workspaces.Rename(r.Context(), access.Actor(r), s.Workspace.ID, r.PostFormValue("name"))
	if err != nil {
		f := newForm(r, "name")
		status, ierr := f.fail(w, err, "name")
		if ierr != nil {
			return ierr
		}
		p, err := d.newPage(r, "Workspace settings")
		if err != nil {
			return err
		}
		p.Nav, p.Form = "general", f
		return d.render(w, status, "general", p)
	}
	// Read the workspace again so the page and the switcher show the new name.
	p, err := d.newPage(r, "Workspace settings")
	if err != nil {
		return err
	}
	ws, err := d.Workspaces.Get(r.Context(), s.Workspace.ID)
	if err != nil {
		return err
	}
	p.WS.Workspace = *ws
	p.Nav, p.Form, p.Notice = "general", newForm(r), "The workspace is now called “"+ws.Name+"”."
	p.Form.Values.Set("name", ws.Name)
	return d.render(w, http.StatusOK, "general", p)
}

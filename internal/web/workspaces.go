package web

import (
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// root sends a signed-in person to their first workspace (by name), or to
// create one when they have none.
func (d *Dashboard) root(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "")
	if err != nil {
		return err
	}
	// A workspace being deleted is closed (deletion.go): the first live
	// one, else the first one's deletion page.
	for _, m := range p.Memberships {
		if !m.Deleting() {
			return redirect(w, r, "/w/"+m.ID)
		}
	}
	if len(p.Memberships) > 0 {
		return redirect(w, r, "/w/"+p.Memberships[0].ID+"/deletion")
	}
	return redirect(w, r, "/workspaces/new")
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
	ws, err := d.Workspaces.Create(r.Context(), access.Actor(r), r.PostFormValue("name"), "")
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

// generalView is the settings page's time zone choice.
type generalView struct {
	Zones []zoneGroup
}

func (d *Dashboard) general(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Workspace settings")
	if err != nil {
		return err
	}
	p.Nav, p.Form = "general", newForm(r)
	p.Form.Values.Set("name", p.WS.Name)
	p.Form.Values.Set("time_zone", p.WS.TimeZone)
	p.Data = generalView{Zones: d.zones.choices(p.WS.TimeZone)}
	return d.render(w, http.StatusOK, "general", p)
}

// updateGeneral saves the settings form: the name and the time zone, each
// only when the form sends it. A bad value shows next to its field and
// changes nothing.
func (d *Dashboard) updateGeneral(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return httpx.BadRequest("bad_form", "The form could not be read.")
	}
	var c workspace.Changes
	if r.PostForm.Has("name") {
		c.Name = new(r.PostForm.Get("name"))
	}
	if r.PostForm.Has("time_zone") {
		c.TimeZone = new(r.PostForm.Get("time_zone"))
	}
	s := access.ScopeFrom(r.Context())
	before := s.Workspace
	ws, err := d.Workspaces.Update(r.Context(), access.Actor(r), s.Workspace.ID, c)
	if err != nil {
		f := newForm(r, "name", "time_zone")
		status, ierr := f.fail(w, err, "name", "time_zone")
		if ierr != nil {
			return ierr
		}
		p, err := d.newPage(r, "Workspace settings")
		if err != nil {
			return err
		}
		p.Nav, p.Form = "general", f
		p.Data = generalView{Zones: d.zones.choices(f.Get("time_zone"))}
		return d.render(w, status, "general", p)
	}
	// A new page, so the switcher shows the new name.
	p, err := d.newPage(r, "Workspace settings")
	if err != nil {
		return err
	}
	p.WS.Workspace = *ws
	p.Nav, p.Form = "general", newForm(r)
	p.Form.Values.Set("name", ws.Name)
	p.Form.Values.Set("time_zone", ws.TimeZone)
	p.Data = generalView{Zones: d.zones.choices(ws.TimeZone)}
	p.Notice = savedNotice(before, ws)
	return d.render(w, http.StatusOK, "general", p)
}

// savedNotice says what the settings form changed.
func savedNotice(before, after *workspace.Workspace) string {
	renamed, rezoned := before.Name != after.Name, before.TimeZone != after.TimeZone
	switch {
	case renamed && rezoned:
		return "The workspace is now called “" + after.Name + "”, in the time zone " + after.TimeZone + "."
	case rezoned:
		return "The workspace's time zone is now " + after.TimeZone + "."
	case renamed:
		return "The workspace is now called “" + after.Name + "”."
	}
	return "Saved: nothing needed changing."
}

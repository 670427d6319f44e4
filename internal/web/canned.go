package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// cannedView is the Canned responses settings page.
type cannedView struct {
	// Query is what the search box holds; Rows are the responses whose
	// shortcut or title starts with it (all of them when it is empty).
	Query string
	Rows  []cannedRow
	// Full says the list stopped at Limit responses: searching finds
	// the others.
	Full  bool
	Limit int
	// Create is the add form's fields.
	Create []inputField
}

// cannedRow is one response with its edit form.
type cannedRow struct {
	canned.Response
	// Fields are its edit form's; Editing says the form came back with an
	// error, so it is shown open.
	Fields  []inputField
	Editing bool
}

// cannedPlaceholders is the body's hint: what is filled in when an agent
// inserts the response.
const cannedPlaceholders = "{{contact.first_name}}, {{contact.name}}, {{agent.first_name}} and {{workspace.name}} are filled in when it is inserted; {{contact.first_name|there}} says “there” when the name is unknown."

// cannedFields are the fields of the add form (prefix "") or of an edit
// form (prefix "edit_", idSuffix the response's ID), filled from r.
func cannedFields(prefix, idSuffix string, f *form, returned bool, r canned.Response) []inputField {
	id := func(name string) string {
		if idSuffix == "" {
			return "canned-" + name
		}
		return "edit-" + name + "-" + idSuffix
	}
	shortcut := r.Shortcut
	if shortcut != "" {
		shortcut = "/" + shortcut
	}
	return []inputField{
		fieldFrom(inputField{ID: id("shortcut"), Name: prefix + "shortcut", Label: "Shortcut", Required: true, MaxLength: 33, Mono: true,
			Pattern: `/?[A-Za-z0-9][A-Za-z0-9_\-]{0,31}`, Placeholder: "/thanks",
			Hint: "What agents type after / in the reply box: letters, digits, - and _."}, f, returned, shortcut),
		fieldFrom(inputField{ID: id("title"), Name: prefix + "title", Label: "Title", Required: true, MaxLength: canned.MaxTitleRunes,
			Placeholder: "For example: Thank you"}, f, returned, r.Title),
		fieldFrom(inputField{ID: id("body"), Name: prefix + "body", Label: "Reply", Required: true, MaxLength: canned.MaxBodyRunes, Rows: 4,
			Hint: cannedPlaceholders}, f, returned, r.Body),
	}
}

func cannedPath(wsID string) string { return "/w/" + wsID + "/settings/canned-responses" }

// cannedPage builds the page; f is a form that came back with an error
// (nil otherwise), editing the ID of the response whose edit form it is
// ("" for the add form).
func (d *Dashboard) cannedPage(r *http.Request, f *form, editing string) (*page, error) {
	p, err := d.newPage(r, "Canned responses")
	if err != nil {
		return nil, err
	}
	p.Nav = "canned"
	returned := f != nil
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	v := &cannedView{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	list, err := d.Canned.List(r.Context(), p.WS.ID, v.Query, canned.MaxList)
	if err != nil {
		return nil, err
	}
	v.Full, v.Limit = len(list) == canned.MaxList, canned.MaxList
	v.Create = cannedFields("", "", f, returned && editing == "", canned.Response{})
	for _, c := range list {
		ed := returned && editing == c.ID
		v.Rows = append(v.Rows, cannedRow{Response: c, Editing: ed, Fields: cannedFields("edit_", c.ID, f, ed, c)})
	}
	p.Data = v
	return p, nil
}

func (d *Dashboard) cannedResponses(w http.ResponseWriter, r *http.Request) error {
	p, err := d.cannedPage(r, nil, "")
	if err != nil {
		return err
	}
	if s := r.URL.Query().Get("saved"); s != "" {
		p.Notice = "Saved. Agents insert it by typing /" + canned.NormalizeShortcut(s) + " in the reply box."
	}
	return d.render(w, http.StatusOK, "canned", p)
}

// cannedInput reads a canned response form; prefix is "" or "edit_".
func cannedInput(r *http.Request, prefix string) canned.Input {
	return canned.Input{Shortcut: r.PostFormValue(prefix + "shortcut"), Title: r.PostFormValue(prefix + "title"), Body: r.PostFormValue(prefix + "body")}
}

// savedPath is the list after a save, with the notice naming shortcut.
func savedPath(wsID, shortcut string) string {
	return cannedPath(wsID) + "?saved=" + url.QueryEscape(shortcut)
}

func (d *Dashboard) createCanned(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	c, err := d.Canned.Create(r.Context(), access.Actor(r), s.Workspace.ID, cannedInput(r, ""))
	if err == nil {
		return redirect(w, r, savedPath(s.Workspace.ID, c.Shortcut))
	}
	f := newForm(r, "shortcut", "title", "body")
	status, ierr := f.fail(w, cannedProblem(err), "shortcut", "title", "body")
	if ierr != nil {
		return ierr
	}
	p, lerr := d.cannedPage(r, f, "")
	if lerr != nil {
		return lerr
	}
	pushURL(w, cannedPath(s.Workspace.ID))
	return d.render(w, status, "canned", p)
}

// updateCanned saves a response's edit form; an error comes back on that
// form, shown open.
func (d *Dashboard) updateCanned(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	id := r.PathValue("canned_id")
	c, err := d.Canned.Update(r.Context(), access.Actor(r), s.Workspace.ID, id, cannedInput(r, "edit_"))
	if err == nil {
		return redirect(w, r, savedPath(s.Workspace.ID, c.Shortcut))
	}
	e := httpx.AsError(cannedProblem(err))
	if e.Status == http.StatusNotFound || e.Status >= 500 {
		return e
	}
	f := newForm(r, "edit_shortcut", "edit_title", "edit_body")
	f.Errors["edit_"+e.Field] = e.Message
	p, lerr := d.cannedPage(r, f, id)
	if lerr != nil {
		return lerr
	}
	pushURL(w, cannedPath(s.Workspace.ID))
	return d.render(w, formStatus(e), "canned", p)
}

func (d *Dashboard) deleteCanned(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Canned.Delete(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("canned_id")); err != nil {
		return cannedProblem(err)
	}
	return redirect(w, r, cannedPath(s.Workspace.ID))
}

// cannedProblem says in plain words what a change refused, on the form
// field at fault.
func cannedProblem(err error) error {
	switch {
	case errors.Is(err, db.ErrConflict):
		return &httpx.Error{Status: http.StatusConflict, Code: "shortcut_taken", Field: "shortcut",
			Message: "Another canned response has this shortcut already. Pick another one."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("canned response")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return err
}

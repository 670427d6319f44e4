package web

import (
	"errors"
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// tagsView is the Tags settings page.
type tagsView struct {
	Tags   []tagRow
	Colors []tagColor
	// Editing is the ID of the tag whose edit form came back with an
	// error, so it is shown open.
	Editing string
}

// tagRow is one tag with how many contacts have it.
type tagRow struct {
	contact.Tag
	Contacts int
	// Colors are the colour choices for its edit form: the palette, plus
	// its own colour when it was set outside it (through the API).
	Colors []tagColor
}

// tagColor is a colour people can pick for a tag. The palette keeps tags
// readable on the dashboard's light background; the API accepts any.
type tagColor struct {
	Value, Name string
}

var tagPalette = []tagColor{
	{"", "Grey (default)"}, {"#1a7f5a", "Green"}, {"#2456d6", "Blue"}, {"#7c3aed", "Purple"},
	{"#b42318", "Red"}, {"#c2410c", "Orange"}, {"#a16207", "Yellow"}, {"#0e7490", "Teal"}, {"#be185d", "Pink"},
}

// colorsFor is the palette, with color added when it is not in it.
func colorsFor(color string) []tagColor {
	for _, c := range tagPalette {
		if c.Value == color {
			return tagPalette
		}
	}
	return append(append([]tagColor{}, tagPalette...), tagColor{color, "Custom (" + color + ")"})
}

func tagsPath(wsID string) string { return "/w/" + wsID + "/settings/tags" }

func (d *Dashboard) tagsPage(r *http.Request, f *form) (*page, *tagsView, error) {
	p, err := d.newPage(r, "Tags")
	if err != nil {
		return nil, nil, err
	}
	p.Nav = "tags"
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	tags, err := d.Contacts.Tags(r.Context(), p.WS.ID)
	if err != nil {
		return nil, nil, err
	}
	usage, err := d.Contacts.TagUsage(r.Context(), p.WS.ID)
	if err != nil {
		return nil, nil, err
	}
	v := &tagsView{Colors: tagPalette}
	for _, t := range tags {
		v.Tags = append(v.Tags, tagRow{Tag: t, Contacts: usage[t.ID], Colors: colorsFor(t.Color)})
	}
	p.Data = v
	return p, v, nil
}

func (d *Dashboard) tags(w http.ResponseWriter, r *http.Request) error {
	p, _, err := d.tagsPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "tags", p)
}

func (d *Dashboard) createTag(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	_, err := d.Contacts.CreateTag(r.Context(), access.Actor(r), s.Workspace.ID, r.PostFormValue("name"), r.PostFormValue("color"))
	if err == nil {
		return redirect(w, r, tagsPath(s.Workspace.ID))
	}
	f := newForm(r, "name", "color")
	status, ierr := f.fail(w, tagProblem(err), "name", "color")
	if ierr != nil {
		return ierr
	}
	p, _, lerr := d.tagsPage(r, f)
	if lerr != nil {
		return lerr
	}
	pushURL(w, tagsPath(s.Workspace.ID))
	return d.render(w, status, "tags", p)
}

// updateTag renames and recolours a tag from its edit form; an error comes
// back on that form, shown open.
func (d *Dashboard) updateTag(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	id := r.PathValue("tag_id")
	name, color := r.PostFormValue("edit_name"), r.PostFormValue("edit_color")
	_, err := d.Contacts.UpdateTag(r.Context(), access.Actor(r), s.Workspace.ID, id, &name, &color)
	if err == nil {
		return redirect(w, r, tagsPath(s.Workspace.ID))
	}
	e := httpx.AsError(tagProblem(err))
	if e.Status == http.StatusNotFound || e.Status >= 500 {
		return e
	}
	f := newForm(r, "edit_name", "edit_color")
	f.Errors["edit_"+e.Field] = e.Message
	p, v, lerr := d.tagsPage(r, f)
	if lerr != nil {
		return lerr
	}
	v.Editing = id
	pushURL(w, tagsPath(s.Workspace.ID))
	return d.render(w, formStatus(e), "tags", p)
}

func (d *Dashboard) deleteTag(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Contacts.DeleteTag(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("tag_id")); err != nil {
		return tagProblem(err)
	}
	return redirect(w, r, tagsPath(s.Workspace.ID))
}

// tagProblem says in plain words what a tag change refused, on the form
// field at fault.
func tagProblem(err error) error {
	switch {
	case errors.Is(err, contact.ErrTagExists):
		return &httpx.Error{Status: http.StatusConflict, Code: "tag_exists", Field: "name",
			Message: "A tag with this name exists already (capital letters don't make a different tag)."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("tag")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return err
}

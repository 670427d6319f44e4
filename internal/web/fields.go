package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// fieldsView is the Custom fields settings page.
type fieldsView struct {
	Active, Archived []fieldRow
	Types            []fieldTypeOption
	// Editing is the key of the field whose edit form came back with an
	// error, so it is shown open.
	Editing string
}

// fieldRow is one field definition as the page lists it.
type fieldRow struct {
	contact.Field
	TypeName string
	// Placeholder is how flows and templates write the field.
	Placeholder string
	// ChoiceLines is the choices one per line, for the edit form.
	ChoiceLines string
}

// fieldTypeOption is one entry of the type select, with what it accepts.
type fieldTypeOption struct {
	Value contact.FieldType
	Name  string
}

// fieldTypes are the types in the order the page offers them.
var fieldTypes = []fieldTypeOption{
	{contact.FieldText, "Text"}, {contact.FieldNumber, "Number"}, {contact.FieldDate, "Date"},
	{contact.FieldBoolean, "Yes or no"}, {contact.FieldEmail, "E-mail address"}, {contact.FieldPhone, "Phone number"},
	{contact.FieldChoice, "One of a list"},
}

func typeName(t contact.FieldType) string {
	for _, o := range fieldTypes {
		if o.Value == t {
			return o.Name
		}
	}
	return string(t)
}

func fieldsPath(wsID string) string { return "/w/" + wsID + "/settings/fields" }

func (d *Dashboard) fieldsPage(r *http.Request, f *form) (*page, *fieldsView, error) {
	p, err := d.newPage(r, "Custom fields")
	if err != nil {
		return nil, nil, err
	}
	p.Nav = "fields"
	if f == nil {
		f = newForm(r)
		f.Values.Set("type", string(contact.FieldText))
	}
	p.Form = f
	all, err := d.Contacts.Fields(r.Context(), p.WS.ID, true)
	if err != nil {
		return nil, nil, err
	}
	v := &fieldsView{Types: fieldTypes}
	for _, fd := range all {
		row := fieldRow{Field: fd, TypeName: typeName(fd.Type), Placeholder: "{{contact.field." + fd.Key + "}}",
			ChoiceLines: strings.Join(fd.Choices, "\n")}
		if fd.Archived() {
			v.Archived = append(v.Archived, row)
		} else {
			v.Active = append(v.Active, row)
		}
	}
	p.Data = v
	return p, v, nil
}

func (d *Dashboard) fields(w http.ResponseWriter, r *http.Request) error {
	p, v, err := d.fieldsPage(r, nil)
	if err != nil {
		return err
	}
	if key := r.URL.Query().Get("defined"); key != "" {
		for _, f := range v.Active {
			if f.Key == key {
				p.Notice = "The field “" + f.Label + "” is ready. Flows and message templates write it " + f.Placeholder + "."
			}
		}
	}
	return d.render(w, http.StatusOK, "fields", p)
}

// choiceList reads a textarea of choices, one per line, blank lines
// skipped.
func choiceList(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// specOf reads a field form; choices count only for a choice field, so a
// list left in the hidden box of another type is ignored.
func specOf(r *http.Request, prefix string) contact.FieldSpec {
	sp := contact.FieldSpec{Label: r.PostFormValue(prefix + "label"), Type: contact.FieldType(r.PostFormValue(prefix + "type"))}
	if sp.Type == contact.FieldChoice {
		sp.Choices = choiceList(r.PostFormValue(prefix + "choices"))
	}
	return sp
}

// defineField adds a field from the page's form.
func (d *Dashboard) defineField(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	_, err := d.Contacts.DefineField(r.Context(), access.Actor(r), s.Workspace.ID, strings.TrimSpace(r.PostFormValue("key")), specOf(r, ""))
	if err == nil {
		return redirect(w, r, fieldsPath(s.Workspace.ID)+"?defined="+r.PostFormValue("key"))
	}
	f := newForm(r, "label", "key", "type", "choices")
	status, ierr := f.fail(w, fieldDefinitionError(err), "label", "key", "type", "choices")
	if ierr != nil {
		return ierr
	}
	p, _, lerr := d.fieldsPage(r, f)
	if lerr != nil {
		return lerr
	}
	pushURL(w, fieldsPath(s.Workspace.ID))
	return d.render(w, status, "fields", p)
}

// updateField changes a field's label, type and choices from its edit
// form; an error comes back on that form, shown open.
func (d *Dashboard) updateField(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	key := r.PathValue("key")
	_, err := d.Contacts.UpdateField(r.Context(), access.Actor(r), s.Workspace.ID, key, specOf(r, "edit_"))
	if err == nil {
		return redirect(w, r, fieldsPath(s.Workspace.ID))
	}
	e := httpx.AsError(fieldDefinitionError(err))
	if e.Status == http.StatusNotFound || e.Status >= 500 {
		return e
	}
	f := newForm(r)
	f.Values.Set("type", string(contact.FieldText))
	for _, name := range []string{"edit_label", "edit_type", "edit_choices"} {
		f.Values.Set(name, r.PostFormValue(name))
	}
	if e.Field != "" {
		f.Errors["edit_"+e.Field] = e.Message
	} else {
		f.Errors["edit_label"] = e.Message
	}
	p, v, lerr := d.fieldsPage(r, f)
	if lerr != nil {
		return lerr
	}
	v.Editing = key
	pushURL(w, fieldsPath(s.Workspace.ID))
	return d.render(w, formStatus(e), "fields", p)
}

func (d *Dashboard) archiveField(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Contacts.ArchiveField(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("key")); err != nil {
		return fieldDefinitionError(err)
	}
	return redirect(w, r, fieldsPath(s.Workspace.ID))
}

func (d *Dashboard) restoreField(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Contacts.RestoreField(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("key")); err != nil {
		return fieldDefinitionError(err)
	}
	return redirect(w, r, fieldsPath(s.Workspace.ID))
}

// fieldDefinitionError says in plain words what defining or changing a
// field refused, on the form field at fault.
func fieldDefinitionError(err error) error {
	switch {
	case errors.Is(err, contact.ErrNoSuchField):
		return httpx.NotFound("field")
	case errors.Is(err, contact.ErrFieldExists):
		return &httpx.Error{Status: http.StatusConflict, Code: "field_exists", Field: "key",
			Message: "A field with this key exists already (archived fields keep their keys). Choose another key."}
	case errors.Is(err, contact.ErrFieldInUse):
		return &httpx.Error{Status: http.StatusConflict, Code: "field_in_use", Field: "type",
			Message: "Contacts have values in this field, so its type can't change. Add a new field instead."}
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return err
}

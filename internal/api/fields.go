package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// fieldJSON is a custom field definition. choices is [] except for a
// choice field; archived_at is null while the field is in use.
type fieldJSON struct {
	ID         string     `json:"id"`
	Key        string     `json:"key"`
	Label      string     `json:"label"`
	Type       string     `json:"type"`
	Choices    []string   `json:"choices"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ArchivedAt *time.Time `json:"archived_at"`
}

func toFieldJSON(f contact.Field) fieldJSON {
	return fieldJSON{
		ID: f.ID, Key: f.Key, Label: f.Label, Type: string(f.Type), Choices: nonNil(f.Choices),
		CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, ArchivedAt: timePtr(f.ArchivedAt),
	}
}

// byJSON says who made a change: a user, an API key or a flow (with its
// ID), the AI agent or Parley itself.
type byJSON struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

func toByJSON(b contact.By) *byJSON {
	if b.Kind == "" {
		return nil
	}
	return &byJSON{Type: string(b.Kind), ID: b.ID}
}

// valueJSON is a contact's value of one field, typed as JSON: a number
// field's value is a JSON number (written exactly as stored, so no digit
// is lost), a boolean field's true or false, any other a string (dates as
// YYYY-MM-DD, phone numbers in E.164). value is null when the contact has
// none.
type valueJSON struct {
	fieldJSON
	Value     any        `json:"value"`
	UpdatedBy *byJSON    `json:"updated_by"`
	ValueAt   *time.Time `json:"value_updated_at"`
}

func toValueJSON(f contact.Field, v *contact.Value) valueJSON {
	out := valueJSON{fieldJSON: toFieldJSON(f)}
	if v != nil {
		out.Value, out.UpdatedBy, out.ValueAt = typedValue(*v), toByJSON(v.UpdatedBy), timePtr(v.UpdatedAt)
	}
	return out
}

func typedValue(v contact.Value) any {
	switch v.Type {
	case contact.FieldNumber:
		return json.Number(v.Text)
	case contact.FieldBoolean:
		b, _ := v.Bool()
		return b
	}
	return v.Text
}

type fieldRequest struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Choices []string `json:"choices"`
}

// fieldPatch changes some of a field's label, type and choices; the key
// never changes.
type fieldPatch struct {
	Label   *string  `json:"label"`
	Type    *string  `json:"type"`
	Choices []string `json:"choices"`
}

// listFields lists the workspace's fields in the order they were defined;
// ?archived=true includes archived ones.
func (a *API) listFields(w http.ResponseWriter, r *http.Request) error {
	var archived bool
	switch r.URL.Query().Get("archived") {
	case "", "false":
	case "true":
		archived = true
	default:
		return badField("archived", `archived must be "true" or "false".`)
	}
	fs, err := a.Contacts.Fields(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, archived)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]fieldJSON, len(fs))
	for i, f := range fs {
		out[i] = toFieldJSON(f)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"fields": out})
}

// defineField adds a custom field (promise P-20: flows store answers in
// them).
func (a *API) defineField(w http.ResponseWriter, r *http.Request) error {
	var in fieldRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	f, err := a.Contacts.DefineField(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, in.Key,
		contact.FieldSpec{Label: in.Label, Type: contact.FieldType(in.Type), Choices: in.Choices})
	if err != nil {
		return fieldError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"field": toFieldJSON(f)})
}

// updateField changes what the request names of a field's label, type and
// choices. The type changes only while no contact has a value; leaving a
// choice type drops the choices.
func (a *API) updateField(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	cur, err := a.Contacts.FieldByKey(r.Context(), ws, r.PathValue("key"))
	if err != nil {
		return fieldError(err)
	}
	var in fieldPatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Label == nil && in.Type == nil && in.Choices == nil {
		return httpx.BadRequest("nothing_to_change", "Send label, type, choices or several of them.")
	}
	spec := contact.FieldSpec{Label: cur.Label, Type: cur.Type, Choices: cur.Choices}
	if in.Label != nil {
		spec.Label = *in.Label
	}
	if in.Type != nil {
		spec.Type = contact.FieldType(*in.Type)
		if spec.Type != contact.FieldChoice && in.Choices == nil {
			spec.Choices = nil
		}
	}
	if in.Choices != nil {
		spec.Choices = in.Choices
	}
	f, err := a.Contacts.UpdateField(r.Context(), access.Actor(r), ws, cur.Key, spec)
	if err != nil {
		return fieldError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"field": toFieldJSON(f)})
}

// archiveField hides a field: its values are kept, hidden, and it cannot
// be set until restored.
func (a *API) archiveField(w http.ResponseWriter, r *http.Request) error {
	return a.setFieldArchived(w, r, true)
}

// restoreField brings an archived field back with its values.
func (a *API) restoreField(w http.ResponseWriter, r *http.Request) error {
	return a.setFieldArchived(w, r, false)
}

func (a *API) setFieldArchived(w http.ResponseWriter, r *http.Request, archive bool) error {
	ws, key := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("key")
	change := a.Contacts.RestoreField
	if archive {
		change = a.Contacts.ArchiveField
	}
	if err := change(r.Context(), access.Actor(r), ws, key); err != nil {
		return fieldError(err)
	}
	f, err := a.Contacts.FieldByKey(r.Context(), ws, key)
	if err != nil {
		return fieldError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"field": toFieldJSON(f)})
}

// checkContact answers 404 unless the workspace has the contact of the
// path, before anything else is looked at: another workspace's contact is
// not found whatever the rest of the request says (promise P-03).
func (a *API) checkContact(r *http.Request) (contact.Contact, error) {
	c, err := a.Contacts.Get(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("contact_id"))
	if errors.Is(err, db.ErrNotFound) {
		return c, httpx.NotFound("contact")
	}
	if err != nil {
		return c, httpx.Internal(err)
	}
	return c, nil
}

// contactFields lists every field in use with the contact's value (null
// when it has none), opened (promise P-15).
func (a *API) contactFields(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	fs, err := a.Contacts.Fields(r.Context(), c.WorkspaceID, false)
	if err != nil {
		return httpx.Internal(err)
	}
	vals, err := a.Contacts.FieldValues(r.Context(), c.WorkspaceID, c.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]valueJSON, len(fs))
	for i, f := range fs {
		var v *contact.Value
		if got, ok := vals[f.Key]; ok {
			v = &got
		}
		out[i] = toValueJSON(f, v)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"fields": out})
}

type valueRequest struct {
	Value json.RawMessage `json:"value"`
}

// setContactField sets the contact's value of a field. The value may be a
// JSON string, number or boolean; it is checked against the field's type
// and a bad one is a 422 naming the field's key.
func (a *API) setContactField(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	var in valueRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	raw, err := rawValue(key, in.Value)
	if err != nil {
		return err
	}
	v, err := a.Contacts.SetField(r.Context(), nil, c.WorkspaceID, c.ID, key, raw,
		contact.SetOptions{By: contact.ByActor(access.Actor(r)), Region: c.Region()})
	if err != nil {
		return valueError(err, key)
	}
	f, err := a.Contacts.FieldByKey(r.Context(), c.WorkspaceID, key)
	if err != nil {
		return fieldError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toValueJSON(f, &v))
}

// rawValue is the text of a JSON string, number or boolean value.
func rawValue(key string, m json.RawMessage) (string, error) {
	m = bytes.TrimSpace(m)
	msg := "Send value as a string, a number or true or false."
	if len(m) == 0 {
		return "", &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_value", Field: key, Message: "Send the value to set as value; DELETE clears it."}
	}
	switch m[0] {
	case '"':
		var s string
		if err := json.Unmarshal(m, &s); err != nil {
			return "", &httpx.Error{Status: http.StatusBadRequest, Code: "wrong_type", Field: key, Message: msg}
		}
		return s, nil
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(m, &b); err != nil {
			return "", &httpx.Error{Status: http.StatusBadRequest, Code: "wrong_type", Field: key, Message: msg}
		}
		if b {
			return "true", nil
		}
		return "false", nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// The number as written: parsing it as a float would round it.
		return string(m), nil
	}
	return "", &httpx.Error{Status: http.StatusBadRequest, Code: "wrong_type", Field: key, Message: msg}
}

// clearContactField removes the contact's value of a field (archived
// fields too: removing personal data is always allowed).
func (a *API) clearContactField(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	if _, err := a.Contacts.ClearField(r.Context(), nil, c.WorkspaceID, c.ID, key); err != nil {
		return valueError(err, key)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// fieldError maps what field definitions refuse: an unknown field (404),
// a key already used or a type that cannot change (409), or a bad
// definition (422 naming key, label, type or choices).
func fieldError(err error) error {
	switch {
	case errors.Is(err, contact.ErrNoSuchField):
		return httpx.NotFound("field")
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("contact")
	case errors.Is(err, contact.ErrFieldExists):
		return &httpx.Error{Status: http.StatusConflict, Code: "field_exists", Field: "key",
			Message: "A field with this key already exists (archived fields keep their keys). Choose another key."}
	case errors.Is(err, contact.ErrFieldInUse):
		return &httpx.Error{Status: http.StatusConflict, Code: "field_in_use", Field: "type",
			Message: "Contacts have values in this field, so its type cannot change. Define a new field instead."}
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return httpx.Internal(err)
}

// valueError maps what setting a contact's value of the field key
// refuses: a value that does not fit the field's type (422 invalid_value,
// naming the key), an archived field (409 field_archived, naming it), and
// what fieldError maps.
func valueError(err error, key string) error {
	if v, ok := validate.As(err); ok {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_value", Field: v.Field, Message: v.Message}
	}
	if errors.Is(err, contact.ErrFieldArchived) {
		return &httpx.Error{Status: http.StatusConflict, Code: "field_archived", Field: key,
			Message: "The field “" + key + "” is archived, so values cannot be set. Restore it first."}
	}
	return fieldError(err)
}

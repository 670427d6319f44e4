package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// panelID is the contact panel's element ID: its forms target it, and a
// request from one of them (HX-Target) is answered with the panel alone.
const panelID = "contact-panel"

// contactPanel is the conversation page's contact panel: the contact's
// custom field values, tags, lead stage and broadcast subscription
// (promises P-15, P-25, P-26).
type contactPanel struct {
	// Action is the address its forms post to: …/conversations/{id}/contact.
	Action string
	// Profile is the contact's profile page.
	Profile string
	CanEdit bool
	Fields  []fieldInput
	// HasFields is false until the workspace defines fields: the panel
	// then points admins to Settings.
	HasFields  bool
	FieldsPath string
	Tags       []contact.Tag
	// TagOptions are the workspace's tags the contact does not have, for
	// the add box's autocomplete.
	TagOptions []string
	Stage      string
	StageNote  string
	Subscribed bool
	// SubscriptionNote says since when, or that they never opted in.
	SubscriptionNote string
	// Form carries what was typed back with its errors, by input name.
	Form   *form
	Notice string
}

// fieldInput is one custom field in the panel's form, with the input that
// fits its type.
type fieldInput struct {
	Key, Label string
	Type       contact.FieldType
	// Input is the <input> type: text, number, date, email or tel;
	// booleans get a checkbox and choices a select instead.
	Input string
	// Value is the value shown in the input: the stored one, or what was
	// typed when the form came back with an error. Original is the stored
	// one, sent back hidden so that a save changes only what was edited.
	Value, Original string
	Has             bool
	Checked         bool
	Choices         []string
	Hint, Error     string
	// SetBy says who set the value, and when.
	SetBy string
}

// Input names in the panel's fields form: the value of field k is "f.k",
// the value the form was drawn with "o.k", and "shown" lists the keys the
// form had (a field defined since is left alone).
func valueName(key string) string    { return "f." + key }
func originalName(key string) string { return "o." + key }

// Read-only view helpers for the templates.

// ValueName is the input name of the field's value.
func (f fieldInput) ValueName() string { return valueName(f.Key) }

// OriginalName is the input name of the value the form was drawn with.
func (f fieldInput) OriginalName() string { return originalName(f.Key) }

// Display is the value as a person reads it.
func (f fieldInput) Display() string {
	if !f.Has {
		return "—"
	}
	if f.Type == contact.FieldBoolean {
		if f.Original == "true" {
			return "Yes"
		}
		return "No"
	}
	return f.Original
}

func inputType(t contact.FieldType) string {
	switch t {
	case contact.FieldNumber:
		return "number"
	case contact.FieldDate:
		return "date"
	case contact.FieldEmail:
		return "email"
	case contact.FieldPhone:
		return "tel"
	}
	return "text"
}

func contactPanelPath(wsID, conversationID string) string {
	return conversationPath(wsID, conversationID) + "/contact"
}

// loadPanel reads what the panel shows of ct. f carries a form that came
// back with errors (nil: values as stored).
func (d *Dashboard) loadPanel(r *http.Request, ws *workspace.Membership, conversationID string, ct contact.Contact, readOnly bool, f *form) (*contactPanel, error) {
	ctx := r.Context()
	fields, err := d.Contacts.Fields(ctx, ws.ID, false)
	if err != nil {
		return nil, err
	}
	vals, err := d.Contacts.FieldValues(ctx, ws.ID, ct.ID)
	if err != nil {
		return nil, err
	}
	tags, err := d.Contacts.ContactTags(ctx, ws.ID, ct.ID)
	if err != nil {
		return nil, err
	}
	all, err := d.Contacts.Tags(ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	names, err := d.memberNames(r, ws.ID)
	if err != nil {
		return nil, err
	}
	if f == nil {
		f = newForm(r)
	}
	now := d.Now()
	p := &contactPanel{
		Action: contactPanelPath(ws.ID, conversationID), Profile: contactPath(ws.ID, ct.ID), CanEdit: ws.Role.AtLeast(workspace.RoleAgent) && !readOnly,
		HasFields: len(fields) > 0, FieldsPath: fieldsPath(ws.ID), Tags: tags, Form: f,
		Stage: ct.Stage, Subscribed: ct.Subscribed,
	}
	if _, ok := f.Values["stage"]; ok {
		p.Stage = f.Get("stage")
	}
	if ct.Stage != "" {
		p.StageNote = "Set " + ago(ct.StageUpdatedAt, now) + byWords(ct.StageBy, names, " by ")
	}
	switch {
	case ct.Subscribed:
		p.SubscriptionNote = "Opted in " + ago(ct.SubscribedAt, now) + byWords(ct.SubscriptionBy, names, " by ")
	case !ct.UnsubscribedAt.IsZero():
		p.SubscriptionNote = "Withdrew " + ago(ct.UnsubscribedAt, now) + byWords(ct.SubscriptionBy, names, " by ")
	default:
		p.SubscriptionNote = "Never opted in: broadcasts don't reach them."
	}
	has := make(map[string]bool, len(tags))
	for _, t := range tags {
		has[t.ID] = true
	}
	for _, t := range all {
		if !has[t.ID] {
			p.TagOptions = append(p.TagOptions, t.Name)
		}
	}
	for _, fd := range fields {
		in := fieldInput{Key: fd.Key, Label: fd.Label, Type: fd.Type, Input: inputType(fd.Type), Choices: fd.Choices}
		if v, ok := vals[fd.Key]; ok {
			in.Has, in.Value, in.Original = true, v.Text, v.Text
			in.SetBy = "Set " + ago(v.UpdatedAt, now) + byWords(v.UpdatedBy, names, " by ")
		}
		if _, ok := f.Values[valueName(fd.Key)]; ok {
			in.Value = f.Get(valueName(fd.Key))
		}
		in.Checked = in.Value == "true"
		in.Error = f.Err(valueName(fd.Key))
		switch fd.Type {
		case contact.FieldPhone:
			if ct.Region() == "" {
				in.Hint = "With the country code, like +855 12 345 678."
			} else {
				in.Hint = "A number without a country code is read as a " + ct.Region() + " number."
			}
		case contact.FieldNumber:
			in.Hint = "A plain number, like 12 or 3.5."
		}
		p.Fields = append(p.Fields, in)
	}
	return p, nil
}

// byWords names the author of a change, after prefix; "" when unknown.
func byWords(b contact.By, names map[string]string, prefix string) string {
	switch b.Kind {
	case contact.ByUser:
		if n := names[b.ID]; n != "" {
			return prefix + n
		}
		return prefix + "a former member"
	case contact.ByAPIKey:
		return prefix + "your software, through the API"
	case contact.ByFlow:
		return prefix + "a flow"
	case contact.ByAI:
		return prefix + "the AI agent"
	case contact.BySystem:
		return prefix + "Parley"
	}
	return ""
}

// panelTarget reports whether the request came from a panel form through
// htmx, which then gets the panel alone to swap in.
func panelTarget(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == panelID
}

// panelDone answers a panel form that worked: the fresh panel to swap in
// (with a confirmation), or, without htmx, the conversation page again.
func (d *Dashboard) panelDone(w http.ResponseWriter, r *http.Request, notice string) error {
	if !panelTarget(r) {
		s := access.ScopeFrom(r.Context())
		return redirect(w, r, conversationPath(s.Workspace.ID, r.PathValue("conversation_id")))
	}
	return d.showPanel(w, r, http.StatusOK, nil, notice)
}

// showPanel answers with the panel alone (htmx) or the whole conversation
// page, with f's values and errors, in status.
func (d *Dashboard) showPanel(w http.ResponseWriter, r *http.Request, status int, f *form, notice string) error {
	s := access.ScopeFrom(r.Context())
	if panelTarget(r) {
		_, _, ct, err := d.loadConversation(r, s.Workspace.ID)
		if err != nil {
			return err
		}
		ws := &workspace.Membership{Workspace: *s.Workspace, Role: s.Role}
		panel, err := d.loadPanel(r, ws, r.PathValue("conversation_id"), ct, s.Workspace.ReadOnly(d.Now()), f)
		if err != nil {
			return err
		}
		panel.Notice = notice
		return d.renderPanel(w, status, panel)
	}
	p, err := d.conversationPage(r, nil)
	if err != nil {
		return err
	}
	v := p.Data.(*conversationView)
	if v.Panel, err = d.loadPanel(r, p.WS, v.ID, v.Contact, p.ReadOnly(), f); err != nil {
		return err
	}
	pushURL(w, conversationPath(p.WS.ID, v.ID))
	return d.render(w, status, "conversation", p)
}

// panelContact returns the contact of the request's conversation: another
// workspace's conversation is not found (promise P-03).
func (d *Dashboard) panelContact(r *http.Request) (contact.Contact, error) {
	_, _, ct, err := d.loadConversation(r, access.ScopeFrom(r.Context()).Workspace.ID)
	return ct, err
}

// saveContactFields saves the panel's field values: only those edited
// since the form was drawn, checked all at once (every bad value gets its
// message), then stored together or not at all. An emptied input clears
// the value; an unticked box of a field without a value leaves it unset.
func (d *Dashboard) saveContactFields(w http.ResponseWriter, r *http.Request) error {
	ct, err := d.panelContact(r)
	if err != nil {
		return err
	}
	ws := ct.WorkspaceID
	fields, err := d.Contacts.Fields(r.Context(), ws, false)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return httpx.BadRequest("invalid_form", "The form could not be read.")
	}
	shown := map[string]bool{}
	for _, k := range r.PostForm["shown"] {
		shown[k] = true
	}
	f := newForm(r)
	var changes []contact.FieldChange
	for _, fd := range fields {
		if !shown[fd.Key] {
			continue
		}
		orig := r.PostFormValue(originalName(fd.Key))
		raw := strings.TrimSpace(r.PostFormValue(valueName(fd.Key)))
		if fd.Type == contact.FieldBoolean {
			switch {
			case raw == "true":
			case orig != "":
				raw = "false"
			default:
				raw = "" // unticked and never set: leave it unset
			}
		}
		f.Values.Set(valueName(fd.Key), raw)
		if raw == orig {
			continue
		}
		if raw == "" {
			changes = append(changes, contact.FieldChange{Key: fd.Key, Clear: true})
			continue
		}
		if _, err := fd.Parse(raw, ct.Region()); err != nil {
			f.Errors[valueName(fd.Key)] = validateMessage(err)
			continue
		}
		changes = append(changes, contact.FieldChange{Key: fd.Key, Raw: raw})
	}
	if len(f.Errors) == 0 && len(changes) > 0 {
		err = d.Contacts.ApplyFields(r.Context(), ws, ct.ID, changes,
			contact.SetOptions{By: contact.ByActor(access.Actor(r)), Region: ct.Region()})
		switch {
		case err == nil:
		case errors.Is(err, contact.ErrFieldArchived):
			f.Error = "A field was archived meanwhile, so nothing was saved. Check the values and save again."
		case errors.Is(err, contact.ErrNoSuchField):
			f.Error = "A field was removed meanwhile, so nothing was saved. Check the values and save again."
		default:
			if v, ok := validate.As(err); ok {
				f.Errors[valueName(v.Field)] = v.Message
			} else {
				return notFound(err, "conversation")
			}
		}
	}
	if len(f.Errors) > 0 || f.Error != "" {
		if f.Error == "" {
			f.Error = "Nothing was saved: check the values marked below."
		}
		return d.showPanel(w, r, http.StatusUnprocessableEntity, f, "")
	}
	notice := "Nothing to save: no value was changed."
	if len(changes) > 0 {
		notice = "Saved."
	}
	return d.panelDone(w, r, notice)
}

func validateMessage(err error) string {
	if v, ok := validate.As(err); ok {
		return v.Message
	}
	return "That is not a valid value."
}

// clearContactField removes one value (the panel's Clear button).
func (d *Dashboard) clearContactField(w http.ResponseWriter, r *http.Request) error {
	ct, err := d.panelContact(r)
	if err != nil {
		return err
	}
	if _, err := d.Contacts.ClearField(r.Context(), nil, ct.WorkspaceID, ct.ID, r.PathValue("key")); err != nil {
		return notFound(err, "field")
	}
	return d.panelDone(w, r, "Cleared.")
}

// addContactTag puts a tag on the contact by name, creating it when the
// workspace has none of that name.
func (d *Dashboard) addContactTag(w http.ResponseWriter, r *http.Request) error {
	ct, err := d.panelContact(r)
	if err != nil {
		return err
	}
	t, added, err := d.Contacts.TagContact(r.Context(), nil, ct.WorkspaceID, ct.ID, r.PostFormValue("tag"), true, contact.ByActor(access.Actor(r)))
	if v, ok := validate.As(err); ok {
		f := newForm(r, "tag")
		f.Errors["tag"] = v.Message
		return d.showPanel(w, r, http.StatusUnprocessableEntity, f, "")
	}
	if err != nil {
		return notFound(err, "conversation")
	}
	notice := "Tagged “" + t.Name + "”."
	if !added {
		notice = "They have the tag “" + t.Name + "” already."
	}
	return d.panelDone(w, r, notice)
}

// removeContactTag takes a tag off the contact.
func (d *Dashboard) removeContactTag(w http.ResponseWriter, r *http.Request) error {
	ct, err := d.panelContact(r)
	if err != nil {
		return err
	}
	if _, err := d.Contacts.UntagContactID(r.Context(), nil, ct.WorkspaceID, ct.ID, r.PathValue("tag_id")); err != nil {
		return notFound(err, "tag")
	}
	return d.panelDone(w, r, "Tag removed.")
}

// saveLead sets the lead stage and the broadcast subscription, each only
// when it was changed in the form.
func (d *Dashboard) saveLead(w http.ResponseWriter, r *http.Request) error {
	ct, err := d.panelContact(r)
	if err != nil {
		return err
	}
	by := contact.ByActor(access.Actor(r))
	stage, err := contact.CheckStage(r.PostFormValue("stage"))
	if err != nil {
		f := newForm(r, "stage")
		f.Errors["stage"] = validateMessage(err)
		return d.showPanel(w, r, http.StatusUnprocessableEntity, f, "")
	}
	on := r.PostFormValue("subscribed") == "true"
	if r.PostFormValue("stage") != r.PostFormValue("o.stage") {
		if err := d.setStage(r.Context(), ct.WorkspaceID, ct.ID, stage, by); err != nil {
			return notFound(err, "conversation")
		}
	}
	if wasOn := r.PostFormValue("o.subscribed") == "true"; on != wasOn {
		if _, err := d.Contacts.SetSubscribed(r.Context(), nil, ct.WorkspaceID, ct.ID, on, by); err != nil {
			return notFound(err, "conversation")
		}
	}
	return d.panelDone(w, r, "Saved.")
}

// setStage puts the contact in the lead stage and, in the same
// transaction, moves its card on the default pipeline to match.
func (d *Dashboard) setStage(ctx context.Context, workspaceID, contactID, stage string, by contact.By) error {
	return d.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := d.Contacts.SetStage(ctx, tx, workspaceID, contactID, stage, by); err != nil {
			return err
		}
		return d.Pipelines.SyncStage(ctx, tx, workspaceID, contactID, stage, by)
	})
}

// renderPanel writes the panel alone, for htmx to swap in, with status: a
// form with errors comes back as 422 (the page's htmx settings swap it).
func (d *Dashboard) renderPanel(w http.ResponseWriter, status int, panel *contactPanel) error {
	var buf bytes.Buffer
	if err := d.pages.sets["conversation"].ExecuteTemplate(&buf, "contact-panel", panel); err != nil {
		return httpx.Internal(fmt.Errorf("web: render contact panel: %w", err))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

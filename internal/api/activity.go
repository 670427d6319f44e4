package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// activityJSON is one entry of a contact's activity log (promise P-25).
// kind is one of the activity kinds; actor says who did it
// ("user:<id>", "api_key:<id>", "flow:<id>", "ai", "system"); data holds
// the kind's details (a note's "text", a move's pipeline and stages).
type activityJSON struct {
	ID        string            `json:"id"`
	ContactID string            `json:"contact_id"`
	Kind      string            `json:"kind"`
	Actor     string            `json:"actor"`
	Data      map[string]string `json:"data"`
	At        time.Time         `json:"at"`
	EditedAt  *time.Time        `json:"edited_at"`
}

func toActivityJSON(e activity.Entry) activityJSON {
	data := e.Data
	if data == nil {
		data = map[string]string{}
	}
	return activityJSON{ID: e.ID, ContactID: e.ContactID, Kind: e.Kind, Actor: e.Actor, Data: data, At: e.At, EditedAt: timePtr(e.EditedAt)}
}

// listActivity lists a contact's activity, newest first; next_before
// continues the list when the page was full.
func (a *API) listActivity(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	n, err := pageLimit(r)
	if err != nil {
		return err
	}
	es, err := a.Activity.List(r.Context(), c.WorkspaceID, c.ID, r.URL.Query().Get("before"), n)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]activityJSON, len(es))
	for i, e := range es {
		out[i] = toActivityJSON(e)
	}
	next := ""
	if len(es) == n {
		next = es[len(es)-1].ID
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"activity": out, "next_before": next})
}

// createContactNote writes a note on a contact's profile.
func (a *API) createContactNote(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	var in noteRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	e, err := a.Activity.AddNote(r.Context(), access.Actor(r), c.WorkspaceID, c.ID, in.Text)
	if err != nil {
		return contactNoteError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"note": toActivityJSON(e)})
}

// contactNote returns the note named in the path, which must be a note on
// the contact named in the path (404 otherwise).
func (a *API) contactNote(r *http.Request) (activity.Entry, error) {
	c, err := a.checkContact(r)
	if err != nil {
		return activity.Entry{}, err
	}
	e, err := a.Activity.Get(r.Context(), c.WorkspaceID, r.PathValue("note_id"))
	if errors.Is(err, db.ErrNotFound) || (err == nil && (e.ContactID != c.ID || e.Kind != activity.KindNote)) {
		return e, httpx.NotFound("note")
	}
	if err != nil {
		return e, httpx.Internal(err)
	}
	return e, nil
}

// updateContactNote replaces a contact note's text: its author may, and
// so may the workspace's owners and admins.
func (a *API) updateContactNote(w http.ResponseWriter, r *http.Request) error {
	e, err := a.contactNote(r)
	if err != nil {
		return err
	}
	var in noteRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	e, err = a.Activity.EditNote(r.Context(), access.Actor(r), isAdmin(r), e.WorkspaceID, e.ID, in.Text)
	if err != nil {
		return contactNoteError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"note": toActivityJSON(e)})
}

// deleteContactNote deletes a contact note, with the same rule.
func (a *API) deleteContactNote(w http.ResponseWriter, r *http.Request) error {
	e, err := a.contactNote(r)
	if err != nil {
		return err
	}
	if err := a.Activity.DeleteNote(r.Context(), access.Actor(r), isAdmin(r), e.WorkspaceID, e.ID); err != nil {
		return contactNoteError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isAdmin reports whether the caller is an owner or admin of the
// request's workspace.
func isAdmin(r *http.Request) bool {
	return access.ScopeFrom(r.Context()).Role.AtLeast(workspace.RoleAdmin)
}

// contactNoteError maps what contact notes refuse: someone else's note
// (403 not_note_author), bad text (422 naming the field), a note or
// contact not in the workspace (404).
func contactNoteError(err error) error {
	switch {
	case errors.Is(err, activity.ErrNotAuthor):
		return &httpx.Error{Status: http.StatusForbidden, Code: "not_note_author",
			Message: "Only the note's author, or an owner or admin of the workspace, can change or delete it."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("note")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return httpx.Internal(err)
}

package web

import (
	"errors"
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/timeline"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// noteOf reads the private note named by the address and checks that it
// belongs to the conversation in it: a note of another conversation (or
// workspace) is a 404, whatever the caller may do to notes.
func (d *Dashboard) noteOf(r *http.Request) (timeline.Entry, error) {
	if d.Timeline == nil {
		return timeline.Entry{}, httpx.NotFound("note")
	}
	e, err := d.Timeline.GetNote(r.Context(), scopeWS(r), r.PathValue("event_id"))
	if errors.Is(err, db.ErrNotFound) || (err == nil && e.ConversationID != r.PathValue("conversation_id")) {
		return timeline.Entry{}, httpx.NotFound("note")
	}
	return e, err
}

// editNote replaces the text of the reader's own private note; its
// mentions follow the new text (a newly mentioned teammate is told).
func (d *Dashboard) editNote(w http.ResponseWriter, r *http.Request) error {
	e, err := d.noteOf(r)
	if err != nil {
		return err
	}
	_, err = d.Timeline.EditNote(r.Context(), access.Actor(r), scopeWS(r), e.ID, r.PostFormValue("note"))
	switch {
	case errors.Is(err, timeline.ErrNotAuthor):
		return httpx.Forbidden("Only the person who wrote a note can change it.")
	case errors.Is(err, timeline.ErrInvalid):
		msg := "Write the note (at most 5,000 characters)."
		var ve *validate.Error
		if errors.As(err, &ve) && ve.Message != "" {
			msg = ve.Message
		}
		return d.showProblem(w, r, http.StatusUnprocessableEntity, nil, "", "The note was not changed: "+msg)
	case err != nil:
		return notFound(err, "note")
	}
	return back(w, r)
}

// deleteNote deletes a private note: its author may, and so may the
// workspace's admins.
func (d *Dashboard) deleteNote(w http.ResponseWriter, r *http.Request) error {
	e, err := d.noteOf(r)
	if err != nil {
		return err
	}
	admin := access.ScopeFrom(r.Context()).Role.AtLeast(workspace.RoleAdmin)
	err = d.Timeline.DeleteNote(r.Context(), access.Actor(r), scopeWS(r), e.ID, admin)
	switch {
	case errors.Is(err, timeline.ErrNotAuthor):
		return httpx.Forbidden("Only the person who wrote a note, or an admin, can delete it.")
	case err != nil:
		return notFound(err, "note")
	}
	return back(w, r)
}

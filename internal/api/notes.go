package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/timeline"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// noteJSON is a private note on a conversation. text keeps mentions in
// their @[Name](user:<id>) form; mentions are the members it notifies.
// erased is true (and text "") once the contact was erased (P-33).
type noteJSON struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	ContactID      string     `json:"contact_id"`
	Actor          string     `json:"actor"`
	AuthorID       string     `json:"author_id"`
	Text           string     `json:"text"`
	Mentions       []string   `json:"mentions"`
	Erased         bool       `json:"erased"`
	CreatedAt      time.Time  `json:"created_at"`
	EditedAt       *time.Time `json:"edited_at"`
}

func toNoteJSON(e timeline.Entry) noteJSON {
	out := noteJSON{ID: e.ID, ConversationID: e.ConversationID, ContactID: e.ContactID, Actor: e.Actor,
		Mentions: []string{}, CreatedAt: e.At}
	if n := e.Note; n != nil {
		out.AuthorID, out.Text, out.Erased, out.EditedAt = n.AuthorID, n.Text, n.Erased, timePtr(n.EditedAt)
		if n.Mentions != nil {
			out.Mentions = n.Mentions
		}
	}
	return out
}

// mentionJSON is a note that mentions the caller; read_at is null while
// unread.
type mentionJSON struct {
	NoteID         string     `json:"note_id"`
	ConversationID string     `json:"conversation_id"`
	At             time.Time  `json:"at"`
	ReadAt         *time.Time `json:"read_at"`
	Note           noteJSON   `json:"note"`
}

type noteRequest struct {
	Text string `json:"text"`
}

// createNote adds a private note to a conversation; mentions of members
// in the text notify them.
func (a *API) createNote(w http.ResponseWriter, r *http.Request) error {
	ws, conv := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("conversation_id")
	// Another workspace's conversation is a 404 whatever the body says.
	if _, err := a.Inbox.Conversation(r.Context(), ws, conv); err != nil {
		return conversationError(err)
	}
	var in noteRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	e, err := a.Timeline.AddNote(r.Context(), access.Actor(r), ws, conv, in.Text)
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("conversation")
	}
	if err != nil {
		return noteError(err, "")
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"note": toNoteJSON(e)})
}

// conversationNote returns the workspace's note named in the path, which
// must be on the conversation named in the path (404 otherwise).
func (a *API) conversationNote(r *http.Request) (timeline.Entry, error) {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	e, err := a.Timeline.GetNote(r.Context(), ws, r.PathValue("note_id"))
	if errors.Is(err, db.ErrNotFound) || (err == nil && e.ConversationID != r.PathValue("conversation_id")) {
		return e, httpx.NotFound("note")
	}
	if err != nil {
		return e, httpx.Internal(err)
	}
	return e, nil
}

// updateNote replaces a note's text; only its author may.
func (a *API) updateNote(w http.ResponseWriter, r *http.Request) error {
	e, err := a.conversationNote(r)
	if err != nil {
		return err
	}
	var in noteRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	e, err = a.Timeline.EditNote(r.Context(), access.Actor(r), e.WorkspaceID, e.ID, in.Text)
	if err != nil {
		return noteError(err, "Only the note's author can change it.")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"note": toNoteJSON(e)})
}

// deleteNote deletes a note and its mentions: its author may, and so may
// the workspace's owners and admins.
func (a *API) deleteNote(w http.ResponseWriter, r *http.Request) error {
	e, err := a.conversationNote(r)
	if err != nil {
		return err
	}
	asAdmin := access.ScopeFrom(r.Context()).Role.AtLeast(workspace.RoleAdmin)
	if err := a.Timeline.DeleteNote(r.Context(), access.Actor(r), e.WorkspaceID, e.ID, asAdmin); err != nil {
		return noteError(err, "Only the note's author, or an owner or admin of the workspace, can delete it.")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listMentions lists the notes that mention the signed-in caller, newest
// first (?unread=true for unread ones only); next_before continues the
// list. The route is session-only: an API key is nobody to mention.
func (a *API) listMentions(w http.ResponseWriter, r *http.Request) error {
	n, err := pageLimit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var unreadOnly bool
	switch q.Get("unread") {
	case "", "false":
	case "true":
		unreadOnly = true
	default:
		return badField("unread", `unread must be "true" or "false".`)
	}
	ws, user := access.ScopeFrom(r.Context()).Workspace.ID, access.PrincipalFrom(r.Context()).User.ID
	ms, err := a.Timeline.Mentions(r.Context(), ws, user, unreadOnly, q.Get("before"), n)
	if err != nil {
		return httpx.Internal(err)
	}
	unread, err := a.Timeline.UnreadMentions(r.Context(), ws, user)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]mentionJSON, len(ms))
	for i, m := range ms {
		out[i] = mentionJSON{NoteID: m.EventID, ConversationID: m.ConversationID, At: m.At, ReadAt: timePtr(m.ReadAt), Note: toNoteJSON(m.Note)}
	}
	next := ""
	if len(ms) == n {
		next = ms[len(ms)-1].EventID
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"mentions": out, "unread": unread, "next_before": next})
}

// readMention marks the caller's mention in a note read; again is
// harmless.
func (a *API) readMention(w http.ResponseWriter, r *http.Request) error {
	ws, user := access.ScopeFrom(r.Context()).Workspace.ID, access.PrincipalFrom(r.Context()).User.ID
	err := a.Timeline.MarkMentionRead(r.Context(), ws, user, r.PathValue("note_id"))
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("mention")
	}
	if err != nil {
		return httpx.Internal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// noteError maps what the timeline refuses: someone else's note (403
// not_note_author, saying who may), bad text (422 naming the field), a
// note not in the workspace (404).
func noteError(err error, notAuthor string) error {
	switch {
	case errors.Is(err, timeline.ErrNotAuthor):
		return &httpx.Error{Status: http.StatusForbidden, Code: "not_note_author", Message: notAuthor}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("note")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return httpx.Internal(err)
}

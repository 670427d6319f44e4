package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/timeline"
)

// timelineItemJSON is one entry of a conversation's full timeline. type
// says which of message, event and note is set: a message either way (with
// its delivery and read state and attachments in content), an event
// (owner, assignment, team, status, snooze, flow, ai, handoff, seen) or a
// private note.
type timelineItemJSON struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	At      time.Time    `json:"at"`
	Message *messageJSON `json:"message,omitempty"`
	Event   *eventJSON   `json:"event,omitempty"`
	Note    *noteJSON    `json:"note,omitempty"`
}

// eventJSON is a timeline event: who did what. data holds IDs, states and
// reasons only, never personal data ({"from":"bot","to":"human",
// "reason":"takeover"}).
type eventJSON struct {
	Kind  string            `json:"kind"`
	Actor string            `json:"actor"`
	Data  map[string]string `json:"data"`
}

func toTimelineItemJSON(it inbox.Item) timelineItemJSON {
	if m := it.Message; m != nil {
		mj := toMessageJSON(*m)
		return timelineItemJSON{Type: "message", ID: m.ID, At: it.At, Message: &mj}
	}
	e := it.Event
	if e.Kind == timeline.KindNote {
		n := toNoteJSON(*e)
		return timelineItemJSON{Type: "note", ID: e.ID, At: it.At, Note: &n}
	}
	data := e.Data
	if data == nil {
		data = map[string]string{}
	}
	return timelineItemJSON{Type: "event", ID: e.ID, At: it.At, Event: &eventJSON{Kind: string(e.Kind), Actor: e.Actor, Data: data}}
}

// conversationTimeline returns a page of the conversation's full timeline,
// newest first: messages, events and notes merged. next_cursor continues
// with older items ("" when this page holds the oldest).
func (a *API) conversationTimeline(w http.ResponseWriter, r *http.Request) error {
	n, err := pageLimit(r)
	if err != nil {
		return err
	}
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	page, err := a.Inbox.Timeline(r.Context(), ws, r.PathValue("conversation_id"), r.URL.Query().Get("cursor"), n)
	if errors.Is(err, inbox.ErrInvalid) {
		return badField("cursor", "cursor must be the next_cursor of the previous page.")
	}
	if err != nil {
		return conversationError(err)
	}
	items := make([]timelineItemJSON, len(page.Items))
	for i, it := range page.Items {
		items[i] = toTimelineItemJSON(it)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": page.NextCursor})
}

// markSeen records that the caller opened the conversation: it is no
// longer unread, and the person sees "seen" on their side when the
// messaging window allows it.
func (a *API) markSeen(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	id := r.PathValue("conversation_id")
	if err := a.Inbox.MarkSeen(r.Context(), access.Actor(r), ws, id); err != nil {
		return conversationError(err)
	}
	return a.writeConversation(w, r, ws, id)
}

type typingRequest struct {
	On *bool `json:"on"`
}

// typing shows ({"on":true}) or hides the Page's typing indicator while a
// member writes a reply. Only a conversation a person owns shows one (409
// not_human_owned otherwise: take it over first); calls are throttled by
// the inbox, so a client may send one per keystroke.
func (a *API) typing(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	id := r.PathValue("conversation_id")
	if _, err := a.Inbox.Conversation(r.Context(), ws, id); err != nil {
		return conversationError(err)
	}
	var in typingRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.On == nil {
		return httpx.Invalid("on", "Send on: true while typing, false when done.")
	}
	err := a.Inbox.Typing(r.Context(), ws, id, *in.On)
	var se *channel.SendError
	switch {
	case errors.Is(err, inbox.ErrInvalid):
		return httpx.Conflict("not_human_owned", "Only a conversation a person owns shows typing: take it over first.")
	case errors.As(err, &se):
		return &httpx.Error{Status: http.StatusBadGateway, Code: "platform_error", Message: "The platform did not take the typing indicator; it is not needed for replies.", Err: err}
	case err != nil:
		return conversationError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

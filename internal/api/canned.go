package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// cannedJSON is a canned response. shortcut is stored without its "/".
type cannedJSON struct {
	ID        string    `json:"id"`
	Shortcut  string    `json:"shortcut"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toCannedJSON(c canned.Response) cannedJSON {
	return cannedJSON{ID: c.ID, Shortcut: c.Shortcut, Title: c.Title, Body: c.Body, CreatedBy: c.CreatedBy,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type cannedPatch struct {
	Shortcut *string `json:"shortcut"`
	Title    *string `json:"title"`
	Body     *string `json:"body"`
}

// listCanned lists the workspace's canned responses in shortcut order;
// ?q= keeps those whose shortcut or title starts with it (what an agent
// typed after "/"), ?limit= takes 1 to 100 (default 20).
func (a *API) listCanned(w http.ResponseWriter, r *http.Request) error {
	n := canned.DefaultList
	if l := r.URL.Query().Get("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > canned.MaxList {
			return badField("limit", "limit must be a whole number from 1 to "+strconv.Itoa(canned.MaxList)+".")
		}
		n = v
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		return badField("q", "q is at most 200 characters.")
	}
	list, err := a.Canned.List(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, q, n)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]cannedJSON, len(list))
	for i, c := range list {
		out[i] = toCannedJSON(c)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"canned_responses": out})
}

// createCanned adds a canned response; a shortcut the workspace has
// already is a 409.
func (a *API) createCanned(w http.ResponseWriter, r *http.Request) error {
	var in canned.Input
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	c, err := a.Canned.Create(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, in)
	if err != nil {
		return cannedError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"canned_response": toCannedJSON(c)})
}

func (a *API) getCanned(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Canned.Get(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("canned_id"))
	if err != nil {
		return cannedError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"canned_response": toCannedJSON(c)})
}

// updateCanned changes any of shortcut, title and body; the others keep
// their values.
func (a *API) updateCanned(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	c, err := a.Canned.Get(r.Context(), ws, r.PathValue("canned_id"))
	if err != nil {
		return cannedError(err)
	}
	var in cannedPatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Shortcut == nil && in.Title == nil && in.Body == nil {
		return httpx.BadRequest("nothing_to_change", "Send shortcut, title, body or any of them.")
	}
	next := canned.Input{Shortcut: c.Shortcut, Title: c.Title, Body: c.Body}
	if in.Shortcut != nil {
		next.Shortcut = *in.Shortcut
	}
	if in.Title != nil {
		next.Title = *in.Title
	}
	if in.Body != nil {
		next.Body = *in.Body
	}
	c, err = a.Canned.Update(r.Context(), access.Actor(r), ws, c.ID, next)
	if err != nil {
		return cannedError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"canned_response": toCannedJSON(c)})
}

func (a *API) deleteCanned(w http.ResponseWriter, r *http.Request) error {
	if err := a.Canned.Delete(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("canned_id")); err != nil {
		return cannedError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renderCanned fills a canned response's placeholders for a conversation:
// its contact's names, the caller's name and the workspace's, as the
// reply box inserts it. Nothing is sent.
func (a *API) renderCanned(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	c, err := a.Canned.Get(r.Context(), s.Workspace.ID, r.PathValue("canned_id"))
	if err != nil {
		return cannedError(err)
	}
	convID := r.URL.Query().Get("conversation_id")
	if convID == "" {
		return httpx.Invalid("conversation_id", "Say which conversation the reply is for: ?conversation_id=….")
	}
	conv, err := a.Inbox.Conversation(r.Context(), s.Workspace.ID, convID)
	if err != nil {
		return conversationError(err)
	}
	ct, err := a.Contacts.Get(r.Context(), s.Workspace.ID, conv.ContactID)
	if err != nil {
		return httpx.Internal(err)
	}
	agent := ""
	if p := access.PrincipalFrom(r.Context()); p.User != nil {
		agent = p.User.Name
	}
	first, _, _ := strings.Cut(strings.TrimSpace(agent), " ")
	text := canned.Render(c.Body, canned.Vars{
		canned.VarFirstName: ct.FirstName, canned.VarLastName: ct.LastName, canned.VarContactName: ct.DisplayName(),
		canned.VarAgentName: agent, canned.VarAgentFirst: first, canned.VarWorkspace: s.Workspace.Name,
	})
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"text": text, "canned_response": toCannedJSON(c)})
}

// cannedError maps what canned responses refuse: a shortcut taken (409
// naming it), bad input (422 naming the field), a response not in the
// workspace (404).
func cannedError(err error) error {
	switch {
	case errors.Is(err, db.ErrConflict):
		return &httpx.Error{Status: http.StatusConflict, Code: "shortcut_taken", Field: "shortcut",
			Message: "Another canned response already has this shortcut."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("canned response")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return httpx.Internal(err)
}

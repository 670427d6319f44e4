package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/search"
)

// searchContactJSON is a contact whose name, phone or e-mail matches.
type searchContactJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// searchMessageJSON is a message whose text matches, with a snippet of it.
type searchMessageJSON struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	ContactID      string    `json:"contact_id"`
	Snippet        string    `json:"snippet"`
	At             time.Time `json:"at"`
}

// searchWorkspace finds the workspace's contacts and messages containing
// ?q= (package search: anywhere for three characters or more, at the
// start of a word for one or two), newest first; ?type=contacts or
// messages narrows it, ?limit= takes 1 to 100 per kind (default 20).
// "partial" says older matches may exist. A query empty or over 100
// characters is a 422. Searches count against a per-member budget
// (SearchLimit): every query opens sealed text to verify its hits.
func (a *API) searchWorkspace(w http.ResponseWriter, r *http.Request) error {
	if a.Search == nil {
		return httpx.Internal(errors.New("api: search: no index"))
	}
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	qs := r.URL.Query()
	opt := search.QueryOptions{Limit: search.DefaultLimit}
	if l := qs.Get("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > search.MaxLimit {
			return searchInvalid("limit", "limit must be a whole number from 1 to "+strconv.Itoa(search.MaxLimit)+".")
		}
		opt.Limit = v
	}
	switch qs.Get("type") {
	case "":
	case "contacts":
		opt.Contacts = true
	case "messages":
		opt.Messages = true
	default:
		return searchInvalid("type", "type is contacts or messages (or absent for both).")
	}
	if err := searchAllowed(a.SearchLimit, ws, access.Actor(r)); err != nil {
		return err
	}
	res, err := a.Search.Search(r.Context(), ws, qs.Get("q"), opt)
	if errors.Is(err, search.ErrInvalid) {
		return searchInvalid("q", "q must have 1 to "+strconv.Itoa(search.MaxQueryRunes)+" characters besides spaces.")
	}
	if err != nil {
		return httpx.Internal(err)
	}
	out := struct {
		Contacts []searchContactJSON `json:"contacts"`
		Messages []searchMessageJSON `json:"messages"`
		Partial  bool                `json:"partial"`
	}{Contacts: []searchContactJSON{}, Messages: []searchMessageJSON{}, Partial: res.Partial}
	for _, c := range res.Contacts {
		out.Contacts = append(out.Contacts, searchContactJSON{ID: c.ID, Name: c.Name})
	}
	for _, m := range res.Messages {
		out.Messages = append(out.Messages, searchMessageJSON{ID: m.ID, ConversationID: m.ConversationID, ContactID: m.ContactID,
			Snippet: m.Snippet, At: m.At.UTC()})
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func searchInvalid(field, msg string) *httpx.Error {
	return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + field, Field: field, Message: msg}
}

// searchAllowed counts one search of the caller (a member or an API key)
// in the workspace against l, and refuses it with 429 and Retry-After when
// the budget is spent; a nil l allows everything. The dashboard counts its
// searches on the same limiter under the same key
// ("<workspace>|user:<id>", web's searchAllowed), so a member has one
// budget on both surfaces.
func searchAllowed(l *httpx.Limiter, workspaceID string, actor audit.Actor) error {
	if l == nil {
		return nil
	}
	who := "user:" + actor.UserID
	if actor.APIKeyID != "" {
		who = "api_key:" + actor.APIKeyID
	}
	if ok, retry := l.Allow(workspaceID + "|" + who); !ok {
		return httpx.TooManyRequests(retry)
	}
	return nil
}

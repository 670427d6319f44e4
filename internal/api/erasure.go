package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
)

// EraseFunc erases one of the workspace's contacts or conversations (the
// app's EraseContact and DeleteConversation, over package erasure);
// db.ErrNotFound when it is not the workspace's.
type EraseFunc func(ctx context.Context, a audit.Actor, workspaceID, id string) error

// eraseContact deletes the contact in the path everywhere and destroys its
// key (promises P-33, P-34): its conversations, messages, notes,
// activity, fields, tags, cards, flow sessions and search entries go, and
// what was sealed for it stops opening in every copy. It cannot be
// undone, hence admins only; it stays open once a trial has ended (a
// person's erasure is not a feature to pay for). 204 when done.
func (a *API) eraseContact(w http.ResponseWriter, r *http.Request) error {
	return a.erase(w, r, a.EraseContact, r.PathValue("contact_id"), "contact")
}

// deleteConversation deletes the conversation in path with its messages,
// notes and flow session; the contact stays. Admins only, 204 when done.
func (a *API) deleteConversation(w http.ResponseWriter, r *http.Request) error {
	return a.erase(w, r, a.DeleteConversation, r.PathValue("conversation_id"), "conversation")
}

// erase runs f on id, mapping a foreign or unknown id to a 404.
func (a *API) erase(w http.ResponseWriter, r *http.Request, f EraseFunc, id, what string) error {
	if f == nil {
		return httpx.Internal(errors.New("api: erase " + what + ": not wired"))
	}
	err := f(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound(what)
	case err != nil:
		return httpx.Internal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

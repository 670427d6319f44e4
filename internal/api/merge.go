package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
)

// identityJSON is one channel identity of a contact: the channel and the
// person's platform-scoped ID there; merged is true for identities that
// came with a merged contact, since is when the contact got it.
type identityJSON struct {
	ChannelID string    `json:"channel_id"`
	PSID      string    `json:"psid"`
	Merged    bool      `json:"merged"`
	Since     time.Time `json:"since"`
}

// mergeRequest names the contact merged into the one in the path.
type mergeRequest struct {
	OtherContactID string `json:"other_contact_id"`
}

// mergeContacts merges other_contact_id into the contact in the path,
// which is kept (promise P-25): its channel identities, conversations,
// notes, activity, flow sessions, field values and tags become the kept
// contact's, the kept contact's values winning, and the other contact is
// deleted with its key. It cannot be undone, hence admins only.
func (a *API) mergeContacts(w http.ResponseWriter, r *http.Request) error {
	ws, keepID := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("contact_id")
	// Another workspace's contact is a 404 whatever the body says.
	if _, err := a.Contacts.Get(r.Context(), ws, keepID); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("contact")
		}
		return httpx.Internal(err)
	}
	var in mergeRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	goneID := strings.TrimSpace(in.OtherContactID)
	switch {
	case goneID == "":
		return httpx.Invalid("other_contact_id", "Name the contact to merge into this one.")
	case goneID == keepID:
		return httpx.Invalid("other_contact_id", "A contact cannot be merged with itself.")
	}
	if a.MergeContacts == nil {
		return httpx.Internal(errors.New("api: merge contacts: not wired"))
	}
	kept, err := a.MergeContacts(r.Context(), access.Actor(r), ws, keepID, goneID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("contact")
	case errors.Is(err, contact.ErrInvalid):
		return httpx.Invalid("other_contact_id", a.mergeRefusal(r.Context(), ws, keepID, goneID))
	case err != nil:
		return httpx.Internal(err)
	}
	ids, err := a.Contacts.Identities(r.Context(), ws, kept.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]identityJSON, 0, len(ids))
	for _, id := range ids {
		out = append(out, identityJSON{ChannelID: id.ChannelID, PSID: id.ExternalID, Merged: id.Merged, Since: id.Since})
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"contact": toContactJSON(kept), "identities": out, "merged_contact_id": goneID})
}

// mergeRefusal says, in words, why two contacts cannot be merged: they
// write on a same channel (named), which makes them two people to it.
func (a *API) mergeRefusal(ctx context.Context, ws, keepID, goneID string) string {
	const generic = "These two contacts cannot be merged: they both write to you on the same channel, where they are two different people."
	mine, err := a.Contacts.Identities(ctx, ws, keepID)
	if err != nil {
		return generic
	}
	theirs, err := a.Contacts.Identities(ctx, ws, goneID)
	if err != nil {
		return generic
	}
	for _, x := range mine {
		for _, y := range theirs {
			if x.ChannelID != y.ChannelID {
				continue
			}
			if ch, err := a.Channels.Get(ctx, ws, x.ChannelID); err == nil && ch.Name != "" {
				return "These two contacts cannot be merged: they both write to you on " + ch.Name + ", where they are two different people."
			}
		}
	}
	return generic
}

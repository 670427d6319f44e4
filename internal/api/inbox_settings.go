package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
)

// maxReturnToBotMinutes bounds return_to_bot_after_minutes (the inbox's
// MaxReturnToBotAfter: 30 days).
const maxReturnToBotMinutes = int(inbox.MaxReturnToBotAfter / time.Minute)

// inboxSettingsJSON is a workspace's inbox settings.
// return_to_bot_after_minutes hands a conversation people own back to the
// bot after that long without a message from the team (0: never).
// Automatic assignment is not here: it is set with the teams
// (assignment-settings).
type inboxSettingsJSON struct {
	ReturnToBotAfterMinutes *int `json:"return_to_bot_after_minutes"`
}

func toInboxSettingsJSON(s inbox.Settings) inboxSettingsJSON {
	m := int(s.ReturnToBotAfter / time.Minute)
	return inboxSettingsJSON{ReturnToBotAfterMinutes: &m}
}

// getInboxSettings returns the workspace's inbox settings.
func (a *API) getInboxSettings(w http.ResponseWriter, r *http.Request) error {
	set, err := a.Inbox.Settings(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"settings": toInboxSettingsJSON(set)})
}

// putInboxSettings replaces the workspace's inbox settings. A new silence applies from the next message a member
// sends.
func (a *API) putInboxSettings(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	var in inboxSettingsJSON
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	switch {
	case in.ReturnToBotAfterMinutes == nil:
		return httpx.Invalid("return_to_bot_after_minutes", "Send return_to_bot_after_minutes (0 to never hand back on its own).")
	case *in.ReturnToBotAfterMinutes < 0 || *in.ReturnToBotAfterMinutes > maxReturnToBotMinutes:
		return httpx.Invalid("return_to_bot_after_minutes", "return_to_bot_after_minutes must be from 0 (never) to 43200 (30 days).")
	}
	set := inbox.Settings{ReturnToBotAfter: time.Duration(*in.ReturnToBotAfterMinutes) * time.Minute}
	if err := a.Inbox.SetSettings(r.Context(), access.Actor(r), ws, set); err != nil {
		if errors.Is(err, inbox.ErrInvalid) {
			return httpx.Invalid("return_to_bot_after_minutes", "return_to_bot_after_minutes must be from 0 (never) to 43200 (30 days).")
		}
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"settings": toInboxSettingsJSON(set)})
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
)

// contactJSON is a person on one channel, with exactly the profile fields
// the platform shared (promise P-14). profile_pic is the platform's URL,
// which expires. stage is the lead stage (null for none); subscribed says
// whether they opted in to broadcasts, with the last opt-in and withdrawal.
type contactJSON struct {
	ID             string     `json:"id"`
	ChannelID      string     `json:"channel_id"`
	PSID           string     `json:"psid"`
	FirstName      string     `json:"first_name"`
	LastName       string     `json:"last_name"`
	Locale         string     `json:"locale"`
	ProfilePic     string     `json:"profile_pic"`
	Stage          *string    `json:"stage"`
	StageUpdatedAt *time.Time `json:"stage_updated_at"`
	Subscribed     bool       `json:"subscribed"`
	SubscribedAt   *time.Time `json:"subscribed_at"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

func toContactJSON(c contact.Contact) contactJSON {
	out := contactJSON{
		ID: c.ID, ChannelID: c.ChannelID, PSID: c.ExternalID, FirstName: c.FirstName, LastName: c.LastName,
		Locale: c.Locale, ProfilePic: c.PictureURL, StageUpdatedAt: timePtr(c.StageUpdatedAt),
		Subscribed: c.Subscribed, SubscribedAt: timePtr(c.SubscribedAt), UnsubscribedAt: timePtr(c.UnsubscribedAt),
		CreatedAt: c.CreatedAt,
	}
	if c.Stage != "" {
		out.Stage = &c.Stage
	}
	return out
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Contacts.Get(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("contact_id"))
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("contact")
	}
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toContactJSON(c))
}

// contactPatch changes a contact's lead stage (a string; "" or null takes
// it out of any) and/or broadcast subscription.
type contactPatch struct {
	Stage      json.RawMessage `json:"stage"`
	Subscribed *bool           `json:"subscribed"`
}

// updateContact sets the lead stage and/or the subscription, both in one
// transaction after both are checked, so a bad stage changes nothing.
func (a *API) updateContact(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	var in contactPatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Stage == nil && in.Subscribed == nil {
		return httpx.BadRequest("nothing_to_change", "Send stage, subscribed or both.")
	}
	var stage *string
	if in.Stage != nil {
		var s *string
		if err := json.Unmarshal(in.Stage, &s); err != nil {
			return &httpx.Error{Status: http.StatusBadRequest, Code: "wrong_type", Field: "stage", Message: `Field "stage" must be a string or null.`}
		}
		v := ""
		if s != nil {
			v = *s
		}
		if v, err = contact.CheckStage(v); err != nil {
			return access.DomainError(err)
		}
		stage = &v
	}
	by := contact.ByActor(access.Actor(r))
	err = a.DB.Tx(r.Context(), func(ctx context.Context, tx bun.Tx) error {
		if stage != nil {
			if _, err := a.Contacts.SetStage(ctx, tx, c.WorkspaceID, c.ID, *stage, by); err != nil {
				return err
			}
			// The default pipeline's board follows the lead stage.
			if err := a.Pipelines.SyncStage(ctx, tx, c.WorkspaceID, c.ID, *stage, by); err != nil {
				return err
			}
		}
		if in.Subscribed != nil {
			if _, err := a.Contacts.SetSubscribed(ctx, tx, c.WorkspaceID, c.ID, *in.Subscribed, by); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("contact")
	}
	if err != nil {
		return access.DomainError(err)
	}
	if c, err = a.Contacts.Get(r.Context(), c.WorkspaceID, c.ID); err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toContactJSON(c))
}

package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
)

// contactJSON is a person on one channel, with exactly the profile fields
// the platform shared (promise P-14). profile_pic is the platform's URL,
// which expires.
type contactJSON struct {
	ID         string    `json:"id"`
	ChannelID  string    `json:"channel_id"`
	PSID       string    `json:"psid"`
	FirstName  string    `json:"first_name"`
	LastName   string    `json:"last_name"`
	Locale     string    `json:"locale"`
	ProfilePic string    `json:"profile_pic"`
	CreatedAt  time.Time `json:"created_at"`
}

func toContactJSON(c contact.Contact) contactJSON {
	return contactJSON{
		ID: c.ID, ChannelID: c.ChannelID, PSID: c.ExternalID, FirstName: c.FirstName, LastName: c.LastName,
		Locale: c.Locale, ProfilePic: c.PictureURL, CreatedAt: c.CreatedAt,
	}
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

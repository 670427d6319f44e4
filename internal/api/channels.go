package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// channelJSON is a connected channel as the API shows it. It has no token
// field at all: tokens never leave the server (promise P-10).
type channelJSON struct {
	ID             string       `json:"id"`
	Type           string       `json:"type"`
	PageID         string       `json:"page_id"`
	Name           string       `json:"name"`
	Status         string       `json:"status"`
	TokenState     string       `json:"token_state"`
	Health         healthJSON   `json:"health"`
	AutoReply      string       `json:"auto_reply"`
	Settings       settingsJSON `json:"settings"`
	CreatedAt      time.Time    `json:"created_at"`
	DisconnectedAt *time.Time   `json:"disconnected_at"`
}

// healthJSON says whether events arrive and what last went wrong. Times
// are null when it never happened.
type healthJSON struct {
	LastEventAt *time.Time `json:"last_event_at"`
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
}

// settingsJSON is channel.Settings with every key present, so clients
// need not guess what an absent one means.
type settingsJSON struct {
	GetStarted  string               `json:"get_started"`
	Greeting    string               `json:"greeting"`
	Menu        []channel.MenuItem   `json:"menu"`
	IceBreakers []channel.IceBreaker `json:"ice_breakers"`
}

func toChannelJSON(c channel.Channel) channelJSON {
	return channelJSON{
		ID: c.ID, Type: string(c.Type), PageID: c.ExternalID, Name: c.Name,
		Status: string(c.Status), TokenState: string(c.TokenState),
		Health: healthJSON{
			LastEventAt: timePtr(c.LastEventAt), LastError: c.LastError, LastErrorAt: timePtr(c.LastErrorAt),
		},
		AutoReply: c.AutoReply,
		Settings: settingsJSON{
			GetStarted: c.Settings.GetStarted, Greeting: c.Settings.Greeting,
			Menu: nonNil(c.Settings.Menu), IceBreakers: nonNil(c.Settings.IceBreakers),
		},
		CreatedAt: c.CreatedAt, DisconnectedAt: timePtr(c.DisconnectedAt),
	}
}

// timePtr turns the zero time ("never") into null.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.Channels.List(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]channelJSON, len(cs))
	for i, c := range cs {
		out[i] = toChannelJSON(c)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"channels": out})
}

func (a *API) getChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Channels.Get(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("channel_id"))
	if err != nil {
		return channelError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toChannelJSON(c))
}

type connectRequest struct {
	Type        string `json:"type"`
	PageID      string `json:"page_id"`
	AccessToken string `json:"access_token"`
}

// createChannel connects a Page by its access token. The token is checked
// against the Graph API before anything is stored, and is never sent back.
func (a *API) createChannel(w http.ResponseWriter, r *http.Request) error {
	var in connectRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Type != string(channel.Messenger) {
		return httpx.Invalid("type", `Only "messenger" channels can be connected so far.`)
	}
	c, err := a.Connect.ConnectToken(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, in.PageID, in.AccessToken)
	if err != nil {
		return channelError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, toChannelJSON(c))
}

// disconnectChannel unsubscribes the Page and destroys its token; the
// channel stays, disconnected, with its conversations.
func (a *API) disconnectChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Connect.Disconnect(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("channel_id"))
	if err != nil {
		return channelError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toChannelJSON(c))
}

type settingsRequest struct {
	AutoReply   string               `json:"auto_reply"`
	GetStarted  string               `json:"get_started"`
	Greeting    string               `json:"greeting"`
	Menu        []channel.MenuItem   `json:"menu"`
	IceBreakers []channel.IceBreaker `json:"ice_breakers"`
}

// configureChannel replaces the automatic reply and the Page settings
// (PUT: what is left out is removed), pushing them to Messenger first.
func (a *API) configureChannel(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	id := r.PathValue("channel_id")
	// Look the channel up before reading the body, so another workspace's
	// channel is a 404 whatever the body says.
	if _, err := a.Channels.Get(r.Context(), s.Workspace.ID, id); err != nil {
		return channelError(err)
	}
	var in settingsRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	st := channel.Settings{GetStarted: in.GetStarted, Greeting: in.Greeting, Menu: in.Menu, IceBreakers: in.IceBreakers}
	c, err := a.Connect.Configure(r.Context(), access.Actor(r), s.Workspace.ID, id, in.AutoReply, st)
	if err != nil {
		return channelError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toChannelJSON(c))
}

// badField is a request field that is wrong as sent: 400 naming the field.
func badField(field, msg string) *httpx.Error {
	return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_" + field, Field: field, Message: msg}
}

// channelError maps what connecting and configuring channels can refuse.
// Bad input is a 400 naming the field; a token Meta refuses, or one for
// another Page, is a 422 whose code says which; a Page connected to another
// workspace is a 409.
func channelError(err error) error {
	var ce *connect.ConnectError
	switch {
	case errors.As(err, &ce):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: ce.Code, Message: ce.Message, Err: err}
	case errors.Is(err, channel.ErrTakenElsewhere):
		return httpx.Conflict("page_taken", "This Page is connected to another Parley workspace. Disconnect it there first: a Page's messages can only go to one workspace.")
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("channel")
	}
	if v, ok := validate.As(err); ok {
		field := v.Field
		if field == "token" { // connect's name for what this API calls access_token
			field = "access_token"
		}
		// The code names the top-level field ("invalid_menu" for
		// "menu[2].title"); field keeps the whole path.
		top := field
		if i := strings.IndexAny(top, "[."); i > 0 {
			top = top[:i]
		}
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + top, Field: field, Message: v.Message}
	}
	return access.DomainError(err)
}

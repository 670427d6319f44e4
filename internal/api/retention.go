package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/workspace"
)

// Retention settings (promise P-35, security.md §3.N): every member reads
// how long the workspace keeps each class of data; owners and admins
// change the periods and place or lift legal holds. A hold's reason and
// the list of held contacts are shown to admins only (a reason may name
// a case or a person).

// retentionClassJSON is one class's period and its allowed range. max is
// null when there is no upper bound; days 0 means the workspace's lifetime.
type retentionClassJSON struct {
	Class           string `json:"class"`
	Title           string `json:"title"`
	About           string `json:"about"`
	Days            int    `json:"days"`
	Chosen          bool   `json:"chosen"`
	Default         int    `json:"default"`
	Min             int    `json:"min"`
	Max             *int   `json:"max"`
	LifetimeAllowed bool   `json:"lifetime_allowed"`
}

type holdJSON struct {
	ID        string    `json:"id"`
	ContactID string    `json:"contact_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

type retentionJSON struct {
	Classes      []retentionClassJSON `json:"classes"`
	LegalHold    *holdJSON            `json:"legal_hold"`
	ContactHolds int                  `json:"contact_holds"`
	// Holds lists every hold with its reason (admins only).
	Holds []holdJSON `json:"holds,omitempty"`
}

func toHoldJSON(h retention.Hold, withReason bool) holdJSON {
	out := holdJSON{ID: h.ID, ContactID: h.ContactID, CreatedAt: h.CreatedAt}
	if withReason {
		out.Reason = h.Reason
	}
	return out
}

// retentionView renders the settings for the caller's role.
func (a *API) retentionView(r *http.Request, set retention.Settings) (retentionJSON, error) {
	sc := access.ScopeFrom(r.Context())
	isAdmin := sc.Role.AtLeast(workspace.RoleAdmin)
	out := retentionJSON{ContactHolds: set.ContactHolds, Classes: []retentionClassJSON{}}
	for _, c := range set.Classes {
		j := retentionClassJSON{Class: string(c.Class), Title: c.Title, About: c.About, Days: c.Days, Chosen: c.Chosen,
			Default: c.Default, Min: c.Min, LifetimeAllowed: c.LifetimeAllowed}
		if c.Max > 0 {
			m := c.Max
			j.Max = &m
		}
		out.Classes = append(out.Classes, j)
	}
	if set.Hold != nil {
		h := toHoldJSON(*set.Hold, isAdmin)
		out.LegalHold = &h
	}
	if isAdmin {
		holds, err := a.Retention.Holds(r.Context(), sc.Workspace.ID)
		if err != nil {
			return out, err
		}
		for _, h := range holds {
			out.Holds = append(out.Holds, toHoldJSON(h, true))
		}
	}
	return out, nil
}

// getRetention returns the workspace's retention periods and holds.
func (a *API) getRetention(w http.ResponseWriter, r *http.Request) error {
	set, err := a.Retention.Settings(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	v, err := a.retentionView(r, set)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"retention": v})
}

// putRetention changes the periods of the classes named in days (the
// others keep theirs). A period outside its class's range is 422 naming
// the class and the range, and changes nothing.
func (a *API) putRetention(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Days map[string]*int `json:"days"`
	}
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if len(in.Days) == 0 {
		return httpx.Invalid("days", `Send days: an object of data classes and periods in days, for example {"message_content": 365}.`)
	}
	days := map[retention.Class]int{}
	for c, d := range in.Days {
		if d == nil {
			return httpx.Invalid(c, c+" needs a number of days.")
		}
		days[retention.Class(c)] = *d
	}
	set, err := a.Retention.Set(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, days)
	if err != nil {
		return retentionError(err, "workspace")
	}
	v, err := a.retentionView(r, set)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"retention": v})
}

// putWorkspaceHold places the workspace under a legal hold (or changes the
// reason of its hold): retention deletes nothing of it until it is lifted.
func (a *API) putWorkspaceHold(w http.ResponseWriter, r *http.Request) error {
	return a.placeLegalHold(w, r, "")
}

// deleteWorkspaceHold lifts the workspace's legal hold.
func (a *API) deleteWorkspaceHold(w http.ResponseWriter, r *http.Request) error {
	return a.releaseLegalHold(w, r, "")
}

// putContactHold places one contact under a legal hold.
func (a *API) putContactHold(w http.ResponseWriter, r *http.Request) error {
	return a.placeLegalHold(w, r, r.PathValue("contact_id"))
}

// deleteContactHold lifts a contact's legal hold.
func (a *API) deleteContactHold(w http.ResponseWriter, r *http.Request) error {
	return a.releaseLegalHold(w, r, r.PathValue("contact_id"))
}

func (a *API) placeLegalHold(w http.ResponseWriter, r *http.Request, contactID string) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	h, err := a.Retention.PlaceHold(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, contactID, in.Reason)
	if err != nil {
		return retentionError(err, "contact")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"hold": toHoldJSON(h, true)})
}

func (a *API) releaseLegalHold(w http.ResponseWriter, r *http.Request, contactID string) error {
	if err := a.Retention.ReleaseHold(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, contactID); err != nil {
		return retentionError(err, "legal hold")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// retentionError maps the service's errors: bad input 422 naming the
// field, db.ErrNotFound 404 naming what was not found.
func retentionError(err error, what string) error {
	var inv *retention.InvalidError
	switch {
	case errors.As(err, &inv):
		return httpx.Invalid(inv.Field, inv.Message)
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound(what)
	}
	return httpx.Internal(err)
}

package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/httpx"
)

// errorView is the error page's content.
type errorView struct {
	Status    int
	Heading   string
	Message   string
	RequestID string
	// Back is where the page's main button leads.
	Back, BackLabel string
}

// writeError renders e as a friendly page. A caller who is not signed in
// (or whose session ended) is sent to the sign-in page instead, with a way
// back to where they were going.
func (d *Dashboard) writeError(w http.ResponseWriter, r *http.Request, e *httpx.Error) {
	if e.Status == http.StatusUnauthorized {
		to := "/login"
		if r.Header.Get("HX-Request") == "true" {
			// An htmx request (a poll, a boosted link) would follow a
			// redirect and swap the sign-in page into part of the page:
			// have htmx load it as a whole page instead, coming back to
			// the page the person was on.
			if cur, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && cur.Path != "" && cur.Path != "/" {
				to += "?next=" + url.QueryEscape(safeNext(cur.RequestURI()))
			}
			w.Header().Set("HX-Redirect", to)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			to += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.RetryAfter))
	}
	v := errorView{Status: e.Status, Message: e.Message, Back: "/", BackLabel: "Go to your dashboard"}
	switch e.Status {
	case http.StatusNotFound:
		v.Heading = "We can't find that page"
		v.Message = "The link may be old, or the page may belong to a workspace you are not a member of."
	case http.StatusForbidden:
		v.Heading = "You don't have access to this"
	case http.StatusPaymentRequired:
		v.Heading = "This workspace is read-only"
		if id := r.PathValue("workspace_id"); id != "" {
			v.Back, v.BackLabel = "/w/"+id, "Back to the workspace"
		}
	case http.StatusTooManyRequests:
		v.Heading = "Too many attempts"
		v.Message = fmt.Sprintf("Too many attempts, try again in %d seconds.", max(e.RetryAfter, 1))
	case http.StatusGone:
		v.Heading = "This link can't be used any more"
	default:
		if e.Status >= 500 {
			v.Heading = "Something went wrong on our side"
			v.Message = "It has been logged. Please try again in a moment; if it keeps happening, send the reference below to your administrator."
			v.RequestID = httpx.RequestID(r.Context())
		} else {
			v.Heading = "That didn't work"
		}
	}
	p := &page{Title: v.Heading, Data: v}
	if err := d.render(w, e.Status, "error", p); err != nil {
		// The error page itself failed: fall back to plain text.
		d.Log.ErrorContext(r.Context(), "render error page", "err", err)
		http.Error(w, strings.TrimSpace(v.Heading+". "+v.Message), e.Status)
	}
}

// domainError maps a service error to an *httpx.Error through the access
// layer's mapping, which the JSON API shares. One case differs: on a page
// that asks for the password to confirm a change, a wrong one belongs next
// to that field, in plain words rather than sign-in words.
func domainError(err error) error {
	if errors.Is(err, account.ErrInvalidCredentials) {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_password", Field: "password",
			Message: "That password is not right."}
	}
	return access.DomainError(err)
}

package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/metacallback"
)

// The public privacy pages (issue 6 item 10, promise P-32): the privacy
// page (GET /privacy), the data-deletion instructions (GET
// /data-deletion/instructions) and the status page of a Meta
// data-deletion request (GET /data-deletion?code=…), whose URL Parley
// hands Meta in its callback answer. None needs a session; none shows
// anything personal.

// DeletionStatus finds a Meta data-deletion request by its confirmation
// code (metacallback.Service implements it): db.ErrNotFound for any code
// it does not know.
type DeletionStatus interface {
	Status(ctx context.Context, code string) (metacallback.Request, error)
}

// Operator names who runs the server on the public pages
// (PARLEY_OPERATOR_NAME, PARLEY_OPERATOR_EMAIL); empty fields are left out.
type Operator struct {
	Name, Email string
}

// privacyView is what the three pages show.
type privacyView struct {
	Operator Operator
	// Code is the code looked up ("" when none was given); Found says
	// whether a request has it, Request is that request.
	Code    string
	Found   bool
	Request metacallback.Request
}

// Received, InProgress and Completed let the template compare states.
func (v privacyView) Received() bool   { return v.Request.State == metacallback.Received }
func (v privacyView) InProgress() bool { return v.Request.State == metacallback.InProgress }
func (v privacyView) Completed() bool  { return v.Request.State == metacallback.Completed }

// Date formats a day for the page.
func (privacyView) Date(t time.Time) string { return t.UTC().Format("2 January 2006") }

// privacyPolicy serves GET /privacy.
func (d *Dashboard) privacyPolicy(w http.ResponseWriter, r *http.Request) error {
	return d.render(w, http.StatusOK, "privacy_policy", &page{Title: "Privacy", Data: privacyView{Operator: d.Operator}})
}

// deletionInstructions serves GET /data-deletion/instructions: how a
// person asks for their data to be deleted, and what each way reaches.
func (d *Dashboard) deletionInstructions(w http.ResponseWriter, r *http.Request) error {
	return d.render(w, http.StatusOK, "privacy_deletion_instructions", &page{Title: "Deleting your data", Data: privacyView{Operator: d.Operator}})
}

// maxCode bounds the code read from the query; real ones are 32 characters.
const maxCode = 64

// deletionStatus serves GET /data-deletion?code=…: the state of the
// request (received, in progress, completed with its date) and what it
// did, never whom it was about. An unknown, malformed or absent code gets
// the same neutral page, so the page tells no one whether Parley knew
// someone (H-2). Lookups are rate-limited per address (H-4): codes have
// 128 bits, and the limit keeps guessing from even being tried at scale.
func (d *Dashboard) deletionStatus(w http.ResponseWriter, r *http.Request) error {
	// The code is a credential in the URL: never send it on in a Referer.
	w.Header().Set("Referrer-Policy", "no-referrer")
	v := privacyView{Operator: d.Operator}
	code := r.URL.Query().Get("code")
	if code != "" && len(code) <= maxCode {
		if d.DeletionLimit != nil {
			if ok, retry := d.DeletionLimit.Allow("deletion-status:" + httpx.ClientIP(r.Context()).String()); !ok {
				return &httpx.Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
					Message: "Too many look-ups from this address. Try again later.", RetryAfter: retry}
			}
		}
		v.Code = code
		if d.DeletionStatus != nil {
			req, err := d.DeletionStatus.Status(r.Context(), code)
			switch {
			case err == nil:
				v.Found, v.Request = true, req
			case !errors.Is(err, db.ErrNotFound):
				return err
			}
		}
	}
	return d.render(w, http.StatusOK, "privacy_deletion_status", &page{Title: "Data deletion status", Data: v})
}

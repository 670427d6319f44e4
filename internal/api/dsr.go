package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// Data-subject requests and a contact's privacy state (promises P-34,
// P-40). Roles: everyone reads; agents log and answer requests, set flags,
// record consent and correct; admins export (personal data in bulk) and
// erase.

type privacyRequestJSON struct {
	ID                 string     `json:"id"`
	ContactID          *string    `json:"contact_id"`
	Kind               string     `json:"kind"`
	State              string     `json:"state"`
	ReceivedAt         time.Time  `json:"received_at"`
	AcknowledgeBy      time.Time  `json:"acknowledge_by"`
	CompleteBy         time.Time  `json:"complete_by"`
	AcknowledgedAt     *time.Time `json:"acknowledged_at"`
	ClosedAt           *time.Time `json:"closed_at"`
	Reason             string     `json:"reason"`
	Overdue            bool       `json:"overdue"`
	AcknowledgeOverdue bool       `json:"acknowledge_overdue"`
	CreatedAt          time.Time  `json:"created_at"`
}

func (a *API) toPrivacyRequestJSON(r dsr.Request) privacyRequestJSON {
	now := a.Now()
	out := privacyRequestJSON{ID: r.ID, Kind: string(r.Kind), State: string(r.State), ReceivedAt: r.ReceivedAt,
		AcknowledgeBy: r.AcknowledgeBy, CompleteBy: r.CompleteBy, AcknowledgedAt: timePtr(r.AcknowledgedAt), ClosedAt: timePtr(r.ClosedAt),
		Reason: r.Reason, Overdue: r.Overdue(now), AcknowledgeOverdue: r.AcknowledgeOverdue(now), CreatedAt: r.CreatedAt}
	if r.ContactID != "" {
		out.ContactID = &r.ContactID
	}
	return out
}

// dsrError maps package dsr's refusals: bad input 422 naming the field,
// a state that does not allow the change 409, an expired export 410,
// anything unknown or another workspace's 404.
func dsrError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound(what)
	case errors.Is(err, dsr.ErrExpired):
		return &httpx.Error{Status: http.StatusGone, Code: "export_expired", Message: "This export's download link has expired and its file was deleted. Start a new export."}
	case errors.Is(err, dsr.ErrExportRunning):
		return httpx.Conflict("export_running", "An export of this contact is already being built. Wait for it to finish.")
	case errors.Is(err, dsr.ErrConflict):
		return httpx.Conflict("request_closed", "The request is not in a state that allows this (it may already be answered).")
	}
	return access.DomainError(err)
}

func (a *API) listPrivacyRequests(w http.ResponseWriter, r *http.Request) error {
	wsID := access.ScopeFrom(r.Context()).Workspace.ID
	q := r.URL.Query()
	list, err := a.DSR.List(r.Context(), wsID, dsr.Filter{State: q.Get("state"), ContactID: q.Get("contact_id")})
	if err != nil {
		return dsrError(err, "request")
	}
	out := make([]privacyRequestJSON, len(list))
	for i, req := range list {
		out[i] = a.toPrivacyRequestJSON(req)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"requests": out})
}

func (a *API) createPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ContactID  string     `json:"contact_id"`
		Kind       string     `json:"kind"`
		ReceivedAt *time.Time `json:"received_at"`
	}
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	nr := dsr.NewRequest{ContactID: in.ContactID, Kind: dsr.Kind(in.Kind)}
	if in.ReceivedAt != nil {
		nr.ReceivedAt = *in.ReceivedAt
	}
	req, err := a.DSR.Create(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, nr)
	if err != nil {
		return dsrError(err, "contact")
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"request": a.toPrivacyRequestJSON(req)})
}

func (a *API) getPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := a.DSR.Get(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("request_id"))
	if err != nil {
		return dsrError(err, "request")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"request": a.toPrivacyRequestJSON(req)})
}

func (a *API) acknowledgePrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := a.DSR.Acknowledge(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("request_id"))
	if err != nil {
		return dsrError(err, "request")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"request": a.toPrivacyRequestJSON(req)})
}

func (a *API) completePrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := a.DSR.Complete(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("request_id"))
	if err != nil {
		return dsrError(err, "request")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"request": a.toPrivacyRequestJSON(req)})
}

func (a *API) refusePrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	req, err := a.DSR.Refuse(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("request_id"), in.Reason)
	if err != nil {
		return dsrError(err, "request")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"request": a.toPrivacyRequestJSON(req)})
}

func (a *API) erasePrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := a.DSR.Erase(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("request_id"))
	if err != nil {
		return dsrError(err, "request")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"request": a.toPrivacyRequestJSON(req)})
}

type consentJSON struct {
	ID        string    `json:"id"`
	ChannelID *string   `json:"channel_id"`
	State     string    `json:"state"`
	Source    string    `json:"source"`
	Actor     string    `json:"actor"`
	At        time.Time `json:"at"`
}

func toConsentJSON(c dsr.Consent) consentJSON {
	out := consentJSON{ID: c.ID, State: string(c.State), Source: c.Source, Actor: c.Actor, At: c.At}
	if c.ChannelID != "" {
		out.ChannelID = &c.ChannelID
	}
	return out
}

type flagsJSON struct {
	Restricted bool       `json:"restricted"`
	Objected   bool       `json:"objected"`
	Minor      bool       `json:"minor"`
	UpdatedAt  *time.Time `json:"updated_at"`
}

type exportJSON struct {
	ID         string     `json:"id"`
	ContactID  string     `json:"contact_id"`
	RequestID  *string    `json:"request_id"`
	State      string     `json:"state"`
	StepsDone  int        `json:"steps_done"`
	StepsTotal int        `json:"steps_total"`
	SizeBytes  int64      `json:"size_bytes"`
	Error      string     `json:"error"`
	Downloads  int        `json:"downloads"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	// DownloadURL is set while the archive can be downloaded.
	DownloadURL *string `json:"download_url"`
}

func (a *API) toExportJSON(e dsr.Export) exportJSON {
	out := exportJSON{ID: e.ID, ContactID: e.ContactID, State: string(e.State), StepsDone: e.StepsDone, StepsTotal: e.StepsTotal,
		SizeBytes: e.SizeBytes, Error: e.Error, Downloads: e.Downloads, CreatedAt: e.CreatedAt, FinishedAt: timePtr(e.FinishedAt), ExpiresAt: timePtr(e.ExpiresAt)}
	if e.RequestID != "" {
		out.RequestID = &e.RequestID
	}
	if e.Downloadable(a.Now()) {
		u := "/api/v1/workspaces/" + e.WorkspaceID + "/privacy-exports/" + e.ID + "/download"
		out.DownloadURL = &u
	}
	return out
}

// getContactPrivacy is the contact's privacy panel: flags, why automation
// is blocked, consent history, requests and exports.
func (a *API) getContactPrivacy(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f, err := a.DSR.Flags(ctx, c.WorkspaceID, c.ID)
	if err != nil {
		return dsrError(err, "contact")
	}
	hist, err := a.DSR.Consents(ctx, c.WorkspaceID, c.ID)
	if err != nil {
		return dsrError(err, "contact")
	}
	reqs, err := a.DSR.List(ctx, c.WorkspaceID, dsr.Filter{ContactID: c.ID})
	if err != nil {
		return dsrError(err, "contact")
	}
	// Exports are personal data in bulk: only admins see them.
	exps := []dsr.Export{}
	if access.ScopeFrom(ctx).Role.AtLeast(workspace.RoleAdmin) {
		if exps, err = a.DSR.Exports(ctx, c.WorkspaceID, c.ID); err != nil {
			return dsrError(err, "contact")
		}
	}
	why, err := dsr.Blocked(ctx, a.DB.R, c.WorkspaceID, c.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := map[string]any{
		"flags":      flagsJSON{Restricted: f.Restricted, Objected: f.Objected, Minor: f.Minor, UpdatedAt: timePtr(f.UpdatedAt)},
		"automation": map[string]any{"blocked": why != "", "reason": why},
		"consents":   mapSlice(hist, toConsentJSON),
		"requests":   mapSlice(reqs, a.toPrivacyRequestJSON),
		"exports":    mapSlice(exps, a.toExportJSON),
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func (a *API) patchContactPrivacy(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	var in struct {
		Restricted *bool  `json:"restricted"`
		Objected   *bool  `json:"objected"`
		Minor      *bool  `json:"minor"`
		RequestID  string `json:"request_id"`
	}
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	f, err := a.DSR.SetFlags(r.Context(), access.Actor(r), c.WorkspaceID, c.ID,
		dsr.FlagsChange{Restricted: in.Restricted, Objected: in.Objected, Minor: in.Minor, RequestID: in.RequestID})
	if err != nil {
		return dsrError(err, "contact")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"flags": flagsJSON{Restricted: f.Restricted, Objected: f.Objected, Minor: f.Minor, UpdatedAt: timePtr(f.UpdatedAt)}})
}

func (a *API) contactAccessSummary(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	s, err := a.DSR.Summary(r.Context(), c.WorkspaceID, c.ID)
	if err != nil {
		return dsrError(err, "contact")
	}
	cats := make([]map[string]any, len(s.Categories))
	for i, cat := range s.Categories {
		cats[i] = map[string]any{"name": cat.Name, "count": cat.Count}
	}
	consent := map[string]string{}
	for ch, st := range s.Consent {
		if ch == "" {
			ch = "all"
		}
		consent[ch] = string(st)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"contact_id": s.ContactID, "name": s.Name, "categories": cats, "shared_with": s.SharedWith,
		"flags":   flagsJSON{Restricted: s.Flags.Restricted, Objected: s.Flags.Objected, Minor: s.Flags.Minor, UpdatedAt: timePtr(s.Flags.UpdatedAt)},
		"consent": consent, "automation": map[string]any{"blocked": s.Blocked != "", "reason": s.Blocked},
	})
}

func (a *API) recordConsent(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	var in struct {
		ChannelID string `json:"channel_id"`
		State     string `json:"state"`
		Source    string `json:"source"`
		RequestID string `json:"request_id"`
	}
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	got, err := a.DSR.RecordConsent(r.Context(), access.Actor(r), c.WorkspaceID, c.ID,
		dsr.NewConsent{ChannelID: in.ChannelID, State: dsr.ConsentState(in.State), Source: in.Source, RequestID: in.RequestID})
	if err != nil {
		return dsrError(err, "contact")
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"consent": toConsentJSON(got)})
}

func (a *API) correctContact(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	var in struct {
		FirstName *string                     `json:"first_name"`
		LastName  *string                     `json:"last_name"`
		Fields    map[string]*json.RawMessage `json:"fields"`
		RequestID string                      `json:"request_id"`
	}
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	corr := dsr.Correction{FirstName: in.FirstName, LastName: in.LastName, RequestID: in.RequestID}
	for key, raw := range in.Fields {
		if raw == nil || string(*raw) == "null" {
			corr.Fields = append(corr.Fields, contact.FieldChange{Key: key, Clear: true})
			continue
		}
		var v string
		if err := json.Unmarshal(*raw, &v); err != nil {
			return &httpx.Error{Status: http.StatusBadRequest, Code: "wrong_type", Field: "fields." + key, Message: `Each field value must be a string, or null to remove it.`}
		}
		corr.Fields = append(corr.Fields, contact.FieldChange{Key: key, Raw: v})
	}
	if err := a.DSR.Correct(r.Context(), access.Actor(r), c.WorkspaceID, c.ID, corr); err != nil {
		return dsrError(err, "contact")
	}
	if c, err = a.Contacts.Get(r.Context(), c.WorkspaceID, c.ID); err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toContactJSON(c))
}

func (a *API) startContactExport(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	var in struct {
		RequestID string `json:"request_id"`
	}
	if r.ContentLength != 0 {
		if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
			return err
		}
	}
	e, err := a.DSR.StartExport(r.Context(), access.Actor(r), c.WorkspaceID, c.ID, in.RequestID)
	if err != nil {
		return dsrError(err, "contact")
	}
	return httpx.WriteJSON(w, http.StatusAccepted, map[string]any{"export": a.toExportJSON(e)})
}

func (a *API) getContactExport(w http.ResponseWriter, r *http.Request) error {
	e, err := a.DSR.GetExport(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("export_id"))
	if err != nil {
		return dsrError(err, "export")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"export": a.toExportJSON(e)})
}

func (a *API) downloadContactExport(w http.ResponseWriter, r *http.Request) error {
	e, data, err := a.DSR.Download(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("export_id"))
	if err != nil {
		return dsrError(err, "export")
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="contact-`+e.ContactID+`.zip"`)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	// Personal data: never cached by the browser or a proxy.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(data)
	return err
}

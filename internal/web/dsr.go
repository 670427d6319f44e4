package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/workspace"
)

// Privacy requests (promises P-34, P-40): the workspace's data-subject
// requests with their deadlines (overdue ones highlighted), and each
// contact's privacy page: access summary, flags, consent, requests,
// correction and exports. Everyone reads; agents log and answer requests,
// set flags, record consent and correct; admins export and erase.

func privacyRequestsPath(wsID string) string { return "/w/" + wsID + "/privacy-requests" }
func contactPrivacyPath(wsID, contactID string) string {
	return "/w/" + wsID + "/contacts/" + contactID + "/privacy"
}

// dsrRequestRow is one request as the pages show it.
type dsrRequestRow struct {
	dsr.Request
	// Contact is the contact's name (or a placeholder); Link its privacy
	// page ("" once erased).
	Contact, Link string
	// Overdue and AckOverdue are judged at the page's now.
	Overdue, AckOverdue bool
	// Due says the next deadline in words, and Received the date received,
	// both in the workspace's time zone (a deadline is a date where the
	// shop is, not in UTC).
	Due, Received string
	// WSID, Back (where forms return) and what the reader may do, for the
	// row's buttons.
	WSID, Back          string
	CanAnswer, CanErase bool
}

// dsrRows decorates requests with their contacts' names and deadlines.
func (d *Dashboard) dsrRows(r *http.Request, p *page, back string, reqs []dsr.Request) ([]dsrRequestRow, error) {
	wsID := p.WS.ID
	var ids []string
	for _, q := range reqs {
		if q.ContactID != "" {
			ids = append(ids, q.ContactID)
		}
	}
	names, err := d.Contacts.GetMany(r.Context(), wsID, ids)
	if err != nil {
		return nil, err
	}
	now := d.Now()
	loc := workspaceZone(p.WS)
	day := func(t time.Time) string { return t.In(loc).Format("2 Jan 2006") }
	out := make([]dsrRequestRow, len(reqs))
	for i, q := range reqs {
		row := dsrRequestRow{Request: q, Overdue: q.Overdue(now), AckOverdue: q.AcknowledgeOverdue(now), Contact: "Erased contact",
			Received: day(q.ReceivedAt), WSID: wsID, Back: back, CanAnswer: p.Can("agent") && !p.ReadOnly(), CanErase: p.Can("admin") && !p.ReadOnly()}
		if q.ContactID != "" {
			row.Link = contactPrivacyPath(wsID, q.ContactID)
			row.Contact = "Unnamed contact"
			if c, ok := names[q.ContactID]; ok && c.DisplayName() != "" {
				row.Contact = c.DisplayName()
			}
		}
		switch {
		case !q.Open():
			row.Due = "Closed " + day(q.ClosedAt)
		case q.State == dsr.StateReceived:
			row.Due = "Acknowledge by " + day(q.AcknowledgeBy) + ", complete by " + day(q.CompleteBy)
		default:
			row.Due = "Complete by " + day(q.CompleteBy)
		}
		out[i] = row
	}
	return out, nil
}

// dsrListView is the requests page's data.
type dsrListView struct {
	Rows   []dsrRequestRow
	Filter string
	// Filters are the tabs: value and label.
	Filters [][2]string
}

func (d *Dashboard) privacyRequests(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Privacy requests")
	if err != nil {
		return err
	}
	p.Nav = "privacy"
	filter := r.URL.Query().Get("state")
	if filter == "" {
		filter = "open"
	}
	if filter == "all" {
		filter = ""
	}
	reqs, err := d.DSR.List(r.Context(), p.WS.ID, dsr.Filter{State: filter})
	if errors.Is(err, dsr.ErrInvalid) {
		return httpx.BadRequest("invalid_state", "Filter by open, overdue, closed or all.")
	}
	if err != nil {
		return err
	}
	rows, err := d.dsrRows(r, p, privacyRequestsPath(p.WS.ID), reqs)
	if err != nil {
		return err
	}
	if filter == "" {
		filter = "all"
	}
	p.Data = &dsrListView{Rows: rows, Filter: filter,
		Filters: [][2]string{{"open", "Open"}, {"overdue", "Overdue"}, {"closed", "Closed"}, {"all", "All"}}}
	p.Notice = doneNotice(r.URL.Query().Get("done"))
	return d.render(w, http.StatusOK, "dsr_requests", p)
}

// doneNotice is the confirmation after a change.
func doneNotice(done string) string {
	return map[string]string{
		"acknowledged": "Request acknowledged.",
		"completed":    "Request completed.",
		"refused":      "Request refused; the reason is kept with it.",
		"erased":       "The contact was erased everywhere and the request completed.",
		"logged":       "Request logged. Its deadlines count from the date received.",
		"flags":        "Privacy settings saved.",
		"consent":      "Consent recorded.",
		"corrected":    "Correction saved.",
		"export":       "Export started. Reload this page to see its progress.",
	}[done]
}

// backTo is where a form on either page returns: the contact's privacy
// page when it came from there (a relative path of this workspace), else
// the requests page.
func backTo(r *http.Request, wsID string) string {
	if b := r.PostFormValue("back"); strings.HasPrefix(b, "/w/"+wsID+"/") && !strings.Contains(b, "//") && !strings.ContainsAny(b, "?#\\") {
		return b
	}
	return privacyRequestsPath(wsID)
}

// answerRequest runs one state change from a button.
func (d *Dashboard) answerRequest(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	id := r.PathValue("request_id")
	a := access.Actor(r)
	var err error
	done := r.PathValue("action")
	switch done {
	case "acknowledge":
		_, err = d.DSR.Acknowledge(r.Context(), a, ws, id)
		done = "acknowledged"
	case "complete":
		_, err = d.DSR.Complete(r.Context(), a, ws, id)
		done = "completed"
	case "refuse":
		_, err = d.DSR.Refuse(r.Context(), a, ws, id, r.PostFormValue("reason"))
		done = "refused"
	default:
		return httpx.NotFound("page")
	}
	if err != nil {
		return d.dsrFail(r, err)
	}
	return redirect(w, r, backTo(r, ws)+"?done="+done)
}

// eraseRequest erases an erasure request's contact (admins; the form asks
// to type ERASE).
func (d *Dashboard) eraseRequest(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	if strings.TrimSpace(r.PostFormValue("confirm")) != "ERASE" {
		return httpx.Invalid("confirm", "Type ERASE to confirm: erasing cannot be undone.")
	}
	if _, err := d.DSR.Erase(r.Context(), access.Actor(r), ws, r.PathValue("request_id")); err != nil {
		return d.dsrFail(r, err)
	}
	return redirect(w, r, privacyRequestsPath(ws)+"?done=erased")
}

// dsrFail maps a refused change to an error page with the reason.
func (d *Dashboard) dsrFail(r *http.Request, err error) error {
	switch {
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("request")
	case errors.Is(err, dsr.ErrConflict):
		return httpx.Conflict("request_closed", "That request was already answered.")
	case errors.Is(err, dsr.ErrExportRunning):
		return httpx.Conflict("export_running", "An export of this contact is already being built. Reload the page to see its progress.")
	case errors.Is(err, dsr.ErrExpired):
		return &httpx.Error{Status: http.StatusGone, Code: "export_expired", Message: "This export has expired and its file was deleted. Start a new export."}
	}
	return domainError(err)
}

// contactPrivacyView is the contact privacy page's data.
type contactPrivacyView struct {
	ID, Name  string
	Summary   dsr.Summary
	Flags     dsr.Flags
	Consents  []consentRow
	Channels  []channelOption
	Requests  []dsrRequestRow
	Exports   []exportRow
	Kinds     []dsr.Kind
	Sources   []string
	Back      string
	FirstName string
	LastName  string
	// Open are the contact's open requests, which a form can say it
	// answers (each form offers those of its kinds).
	Open []dsrRequestRow
	// LinkDays is how long a new export's link works: the service's TTL
	// or the workspace's retention period of exports, whichever is
	// shorter. MaxMB is the largest archive an export can make.
	LinkDays int
	MaxMB    int64
}

type channelOption struct{ ID, Name string }

// consentRow is a consent record with its time in the workspace's zone.
type consentRow struct {
	dsr.Consent
	When string
}

// exportRow is an export as the page shows it: times in the workspace's
// zone, and Until the real end of its link.
type exportRow struct {
	dsr.Export
	Download string
	Progress string
	Started  string
	// Until is when the link stops working ("" until the archive is
	// built): its expiry, or sooner when the workspace's retention period
	// of exports deletes the export first.
	Until string
}

// exportsRetention is the workspace's retention period of exports, 0 when
// retention will not delete them (no retention service, or a legal hold on
// the workspace).
func (d *Dashboard) exportsRetention(r *http.Request, wsID string) (time.Duration, error) {
	if d.Retention == nil {
		return 0, nil
	}
	set, err := d.Retention.Settings(r.Context(), wsID)
	if err != nil {
		return 0, err
	}
	days := set.Days(retention.ClassExports)
	if set.Hold != nil || days == retention.Lifetime {
		return 0, nil
	}
	return time.Duration(days) * retention.Day, nil
}

// linkEnd is when export e's link really stops working: its expiry, or
// when retention (keep, 0 for never) deletes the export, if sooner.
func linkEnd(e dsr.Export, keep time.Duration) time.Time {
	end := e.ExpiresAt
	if keep > 0 && (end.IsZero() || e.CreatedAt.Add(keep).Before(end)) {
		end = e.CreatedAt.Add(keep)
	}
	return end
}

func (d *Dashboard) contactPrivacy(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Privacy")
	if err != nil {
		return err
	}
	p.Nav = "privacy"
	ctx := r.Context()
	c, err := d.Contacts.Get(ctx, p.WS.ID, r.PathValue("contact_id"))
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("contact")
	}
	if err != nil {
		return err
	}
	v := &contactPrivacyView{ID: c.ID, Name: c.DisplayName(), Kinds: dsr.Kinds(), Sources: dsr.Sources(),
		Back: contactPrivacyPath(p.WS.ID, c.ID), FirstName: c.FirstName, LastName: c.LastName}
	if v.Name == "" {
		v.Name = "Unnamed contact"
	}
	if v.Summary, err = d.DSR.Summary(ctx, p.WS.ID, c.ID); err != nil {
		return err
	}
	v.Flags = v.Summary.Flags
	loc := workspaceZone(p.WS)
	stamp := func(t time.Time) string { return t.In(loc).Format("2 Jan 2006 15:04 MST") }
	consents, err := d.DSR.Consents(ctx, p.WS.ID, c.ID)
	if err != nil {
		return err
	}
	for _, cs := range consents {
		v.Consents = append(v.Consents, consentRow{Consent: cs, When: stamp(cs.At)})
	}
	chs, err := d.Channels.List(ctx, p.WS.ID)
	if err != nil {
		return err
	}
	for _, ch := range chs {
		v.Channels = append(v.Channels, channelOption{ID: ch.ID, Name: ch.Name})
	}
	reqs, err := d.DSR.List(ctx, p.WS.ID, dsr.Filter{ContactID: c.ID})
	if err != nil {
		return err
	}
	if v.Requests, err = d.dsrRows(r, p, v.Back, reqs); err != nil {
		return err
	}
	for _, q := range v.Requests {
		if q.Open() {
			v.Open = append(v.Open, q)
		}
	}
	if p.Can("admin") {
		exps, err := d.DSR.Exports(ctx, p.WS.ID, c.ID)
		if err != nil {
			return err
		}
		keep, err := d.exportsRetention(r, p.WS.ID)
		if err != nil {
			return err
		}
		ttl := d.DSR.ExportTTL()
		if keep > 0 && keep < ttl {
			ttl = keep
		}
		v.LinkDays = int((ttl + retention.Day - 1) / retention.Day)
		v.MaxMB = d.DSR.MaxArchiveBytes() >> 20
		now := d.Now()
		for _, e := range exps {
			row := exportRow{Export: e, Started: stamp(e.CreatedAt)}
			if e.State == dsr.ExportDone {
				end := linkEnd(e, keep)
				row.Until = stamp(end)
				if e.Downloadable(now) && now.Before(end) {
					row.Download = "/w/" + p.WS.ID + "/privacy-exports/" + e.ID + "/download"
				}
			}
			if e.StepsTotal > 0 {
				row.Progress = strconv.Itoa(e.StepsDone) + " of " + strconv.Itoa(e.StepsTotal) + " conversations"
			}
			v.Exports = append(v.Exports, row)
		}
	}
	p.Data = v
	p.Notice = doneNotice(r.URL.Query().Get("done"))
	return d.render(w, http.StatusOK, "dsr_contact", p)
}

// logRequest logs a request about the contact from its privacy page.
func (d *Dashboard) logRequest(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	cid := r.PathValue("contact_id")
	in := dsr.NewRequest{ContactID: cid, Kind: dsr.Kind(r.PostFormValue("kind"))}
	if s := strings.TrimSpace(r.PostFormValue("received_at")); s != "" {
		// The date is the workspace's: received on the 3rd where the shop
		// is, whatever the date in UTC then.
		sc := access.ScopeFrom(r.Context())
		loc := workspaceZone(&workspace.Membership{Workspace: *sc.Workspace, Role: sc.Role})
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			return httpx.Invalid("received_at", "Enter the date received as YYYY-MM-DD.")
		}
		in.ReceivedAt = t.UTC()
		// A date entered today means now, not midnight.
		if now := d.Now(); s == now.In(loc).Format("2006-01-02") {
			in.ReceivedAt = now.UTC()
		}
	}
	if _, err := d.DSR.Create(r.Context(), access.Actor(r), ws, in); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("contact")
		}
		return domainError(err)
	}
	return redirect(w, r, contactPrivacyPath(ws, cid)+"?done=logged")
}

// saveFlags saves the three checkboxes.
func (d *Dashboard) saveFlags(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	cid := r.PathValue("contact_id")
	if err := r.ParseForm(); err != nil {
		return httpx.BadRequest("bad_form", "The form could not be read.")
	}
	on := func(k string) *bool { b := r.PostForm.Get(k) == "on"; return &b }
	_, err := d.DSR.SetFlags(r.Context(), access.Actor(r), ws, cid, dsr.FlagsChange{
		Restricted: on("restricted"), Objected: on("objected"), Minor: on("minor"), RequestID: r.PostForm.Get("request_id")})
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("contact")
		}
		return domainError(err)
	}
	return redirect(w, r, contactPrivacyPath(ws, cid)+"?done=flags")
}

// saveConsent records consent given or withdrawn.
func (d *Dashboard) saveConsent(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	cid := r.PathValue("contact_id")
	_, err := d.DSR.RecordConsent(r.Context(), access.Actor(r), ws, cid, dsr.NewConsent{
		ChannelID: r.PostFormValue("channel_id"), State: dsr.ConsentState(r.PostFormValue("state")), Source: r.PostFormValue("source"),
		RequestID: r.PostFormValue("request_id")})
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("contact")
		}
		return domainError(err)
	}
	return redirect(w, r, contactPrivacyPath(ws, cid)+"?done=consent")
}

// saveCorrection corrects the contact's names.
func (d *Dashboard) saveCorrection(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	cid := r.PathValue("contact_id")
	first, last := r.PostFormValue("first_name"), r.PostFormValue("last_name")
	err := d.DSR.Correct(r.Context(), access.Actor(r), ws, cid, dsr.Correction{FirstName: &first, LastName: &last, RequestID: r.PostFormValue("request_id")})
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("contact")
		}
		return domainError(err)
	}
	return redirect(w, r, contactPrivacyPath(ws, cid)+"?done=corrected")
}

// startExport starts an export of the contact (admins).
func (d *Dashboard) startExport(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	cid := r.PathValue("contact_id")
	if _, err := d.DSR.StartExport(r.Context(), access.Actor(r), ws, cid, r.PostFormValue("request_id")); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("contact")
		}
		return d.dsrFail(r, err)
	}
	return redirect(w, r, contactPrivacyPath(ws, cid)+"?done=export")
}

// downloadExport serves an export archive (admins), until it expires.
func (d *Dashboard) downloadExport(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	e, data, err := d.DSR.Download(r.Context(), access.Actor(r), ws, r.PathValue("export_id"))
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("export")
		}
		return d.dsrFail(r, err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="contact-`+e.ContactID+`.zip"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(data)
	return err
}

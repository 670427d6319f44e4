package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/killswitch"
	"github.com/parleyhq/parley/internal/metacallback"
	"github.com/parleyhq/parley/internal/operator"
	"github.com/parleyhq/parley/internal/validate"
)

// The operator console (promise P-06) at /admin: platform administrators
// with two-factor authentication on (the guard's PlatformAdmin policy; a
// 404 for everyone else) see every workspace's health and usage, pause
// and resume sending and processing (the kill switch, P-37) and act as a
// user to see what they see, and import the lists of app-scoped user IDs
// Meta sends by e-mail for deletion (security.md H-7). Deps.KillSwitch and
// Deps.Console serve it; the import goes through Deps.DeletionStatus when
// it is an ASIDImporter (metacallback.Service is both).

const adminPath = "/admin"

// adminRoutes are the console's routes. Stopping an impersonation is
// reached while acting as someone else; the guard hands it the real
// administrator.
func (d *Dashboard) adminRoutes() []access.Route {
	admin := access.PlatformAdmin()
	return []access.Route{
		{Method: "GET", Pattern: adminPath, Policy: admin, Handler: d.adminConsole},
		{Method: "POST", Pattern: adminPath + "/killswitch", Policy: admin, Handler: d.adminKillSwitch},
		{Method: "POST", Pattern: adminPath + "/impersonate", Policy: admin, Handler: d.adminImpersonate},
		{Method: "POST", Pattern: adminPath + "/impersonate/stop", Policy: admin, Handler: d.adminStopImpersonating},
		{Method: "POST", Pattern: adminPath + "/data-deletion/import", Policy: admin, Handler: d.adminImportASIDs},
	}
}

// ASIDImporter opens a Meta data-deletion request for each app-scoped
// user ID of a list Meta sent by e-mail, audit-logged with the operator
// as actor, and returns one request per person (metacallback.Service
// implements it: ImportASIDs). A malformed list is a *validate.Error on
// the field "asids" and opens nothing.
type ASIDImporter interface {
	ImportASIDs(ctx context.Context, a audit.Actor, asids []string) ([]metacallback.Request, error)
}

// asidImporter is the console's importer: the deletion-status service,
// when it imports too (nil otherwise, and the form is not shown).
func (d *Dashboard) asidImporter() ASIDImporter {
	im, _ := d.DeletionStatus.(ASIDImporter)
	return im
}

// adminView is the console page.
type adminView struct {
	Pauses     []killswitch.Pause
	Workspaces []adminWorkspace
	Bound      string
	// Names are the workspaces' names by ID, for the status.
	Names map[string]string
	// Impersonating is the user the administrator acts as (nil: nobody).
	Impersonating bool
	// CanImport shows the import of Meta's deletion lists.
	CanImport bool
}

// adminWorkspace is a workspace row with what the kill switch holds.
type adminWorkspace struct {
	operator.Summary
	OutboundPaused, ProcessingPaused bool
}

// adminPage builds the console for the real administrator.
func (d *Dashboard) adminPage(r *http.Request) (*page, error) {
	p, err := d.newPage(r, "Operator console")
	if err != nil {
		return nil, err
	}
	p.Nav, p.Form = "admin", newForm(r, "workspace", "reason", "user", "impersonate_reason", "asids")
	if d.KillSwitch == nil || d.Console == nil {
		return nil, httpx.Internal(errors.New("web: operator console not wired"))
	}
	pauses, err := d.KillSwitch.Status(r.Context())
	if err != nil {
		return nil, httpx.Internal(err)
	}
	sums, err := d.Console.Workspaces(r.Context())
	if err != nil {
		return nil, httpx.Internal(err)
	}
	v := &adminView{Pauses: pauses, Bound: killswitch.Bound.String(), Impersonating: p.Impersonator != nil, Names: map[string]string{},
		CanImport: d.asidImporter() != nil}
	global := killswitch.Pause{}
	byWS := map[string]killswitch.Pause{}
	for _, ps := range pauses {
		if ps.Global() {
			global = ps
		} else {
			byWS[ps.WorkspaceID] = ps
		}
	}
	for _, s := range sums {
		v.Names[s.ID] = s.Name
		ps := byWS[s.ID]
		v.Workspaces = append(v.Workspaces, adminWorkspace{Summary: s,
			OutboundPaused: global.Outbound || ps.Outbound, ProcessingPaused: global.Processing || ps.Processing})
	}
	p.Data = v
	return p, nil
}

func (d *Dashboard) adminConsole(w http.ResponseWriter, r *http.Request) error {
	p, err := d.adminPage(r)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("imported")); err == nil && n > 0 {
		p.Notice = importedNotice(n)
	}
	return d.render(w, http.StatusOK, "admin", p)
}

// importedNotice tells the operator what an import did.
func importedNotice(n int) string {
	if n == 1 {
		return "1 data-deletion request is open for the imported ID. It runs in the background, as for Meta's callback."
	}
	return fmt.Sprintf("%d data-deletion requests are open for the imported IDs, one per person. They run in the background, as for Meta's callback.", n)
}

// adminImportASIDs opens a deletion request for each app-scoped user ID
// of the textarea (one a line), as Meta's callback would; a person whose
// request is still open keeps it (ImportASIDs).
func (d *Dashboard) adminImportASIDs(w http.ResponseWriter, r *http.Request) error {
	im := d.asidImporter()
	if im == nil {
		return httpx.Internal(errors.New("web: data-deletion import not wired"))
	}
	lines := strings.Split(r.PostFormValue("asids"), "\n") // ImportASIDs trims each, "\r" too
	reqs, err := im.ImportASIDs(r.Context(), access.Actor(r), lines)
	if err != nil {
		return d.adminFail(w, r, err, "asids")
	}
	return redirect(w, r, adminPath+"?imported="+strconv.Itoa(len(reqs)))
}

// adminKillSwitch pauses or resumes (op) what the form names.
func (d *Dashboard) adminKillSwitch(w http.ResponseWriter, r *http.Request) error {
	c := killswitch.Change{
		WorkspaceID: r.PostFormValue("workspace"),
		Outbound:    r.PostFormValue("outbound") != "",
		Processing:  r.PostFormValue("processing") != "",
		Reason:      r.PostFormValue("reason"),
	}
	by := killswitch.Operator{Actor: access.Actor(r)}
	var err error
	switch r.PostFormValue("op") {
	case "pause":
		err = d.KillSwitch.Pause(r.Context(), by, c)
	case "resume":
		err = d.KillSwitch.Resume(r.Context(), by, c)
	default:
		err = httpx.Invalid("op", "Choose pause or resume.")
	}
	if err == nil {
		return redirect(w, r, adminPath)
	}
	if errors.Is(err, db.ErrNotFound) {
		err = httpx.Invalid("workspace", "There is no such workspace.")
	}
	return d.adminFail(w, r, err, "workspace", "reason", "what")
}

// adminImpersonate starts acting as the user the form names and opens
// the dashboard as they see it.
func (d *Dashboard) adminImpersonate(w http.ResponseWriter, r *http.Request) error {
	pr := access.PrincipalFrom(r.Context())
	if pr.Impersonator != nil {
		return d.adminFail(w, r, httpx.Invalid("user", "Stop impersonating first."), "user")
	}
	_, err := d.Console.Impersonate(r.Context(), access.Actor(r), pr.Session.ID, r.PostFormValue("user"), r.PostFormValue("impersonate_reason"))
	if ve, ok := validate.As(err); ok && ve.Field == "reason" {
		// The form's reason field has its own name.
		err = httpx.Invalid("impersonate_reason", ve.Message)
	}
	if err != nil {
		return d.adminFail(w, r, err, "user", "impersonate_reason")
	}
	return redirect(w, r, "/")
}

// adminStopImpersonating ends the session's impersonation and goes back
// to the console.
func (d *Dashboard) adminStopImpersonating(w http.ResponseWriter, r *http.Request) error {
	pr := access.PrincipalFrom(r.Context())
	if err := d.Console.StopImpersonating(r.Context(), access.Actor(r), pr.Session.ID); err != nil {
		return err
	}
	return redirect(w, r, adminPath)
}

// adminFail shows the console again with err on the form.
func (d *Dashboard) adminFail(w http.ResponseWriter, r *http.Request, err error, fields ...string) error {
	p, perr := d.adminPage(r)
	if perr != nil {
		return perr
	}
	err = adminError(err)
	status, ierr := p.Form.fail(w, err, fields...)
	if ierr != nil {
		return ierr
	}
	pushURL(w, adminPath)
	return d.render(w, status, "admin", p)
}

// adminError words the console's domain errors.
func adminError(err error) error {
	switch {
	case errors.Is(err, killswitch.ErrNotAdmin), errors.Is(err, operator.ErrNotAdmin):
		return httpx.Forbidden("Only platform administrators can do this.")
	case errors.Is(err, killswitch.ErrNeeds2FA), errors.Is(err, operator.ErrNeeds2FA):
		return httpx.Forbidden("Turn on two-factor authentication to use the operator console.")
	case errors.Is(err, operator.ErrCannotImpersonate):
		return httpx.Invalid("user", "You cannot act as yourself or as another platform administrator.")
	case errors.Is(err, db.ErrNotFound):
		return httpx.Invalid("user", "There is no such user or workspace.")
	}
	return err
}

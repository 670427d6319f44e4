package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/httpx"
)

// The flow pages: the list (with its empty state, "New flow" and importing
// a document), and the editor page, which is a shell for the flow editor
// island (static/islands/): the island loads and saves the flow through
// the JSON API with the session cookie, so every rule about flows stays in
// package flow and its API handlers.

func flowsPath(ws string) string       { return "/w/" + ws + "/flows" }
func flowPath(ws, id string) string    { return flowsPath(ws) + "/" + id }
func flowAPIPath(ws, id string) string { return "/api/v1/workspaces/" + ws + "/flows/" + id }

// flowsView is the flows list.
type flowsView struct {
	// Archived is true on the archived tab.
	Archived bool
	Rows     []flowRow
	// Others counts the flows of the other tab, to offer it.
	Others int
}

// flowRow is one flow in the list.
type flowRow struct {
	ID        string
	Name      string
	Published int
	// Changed: the draft has edits that are not published.
	Changed  bool
	Triggers []string
	Updated  string
	Export   string
}

// editorView is the editor page.
type editorView struct {
	ID       string
	Name     string
	Archived bool
	// CanEdit: the island offers editing (the API decides anyway).
	CanEdit bool
}

// flowsPage builds the list page with the form f (nil: a fresh one).
func (d *Dashboard) flowsPage(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Flows")
	if err != nil {
		return nil, err
	}
	p.Nav = "flows"
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	all, err := d.Flows.List(r.Context(), p.WS.ID, flow.ListOptions{})
	if err != nil {
		return nil, err
	}
	v := &flowsView{Archived: r.URL.Query().Get("status") == "archived"}
	now := d.Now()
	for _, fl := range all {
		if (fl.Status == flow.StatusArchived) != v.Archived {
			v.Others++
			continue
		}
		row := flowRow{ID: fl.ID, Name: fl.Name, Published: fl.PublishedVersion, Changed: fl.Changed,
			Updated: ago(fl.DraftUpdatedAt, now), Export: flowAPIPath(p.WS.ID, fl.ID) + "/export"}
		for _, t := range fl.Triggers {
			row.Triggers = append(row.Triggers, t.Summary)
		}
		v.Rows = append(v.Rows, row)
	}
	q := r.URL.Query()
	switch {
	case q.Get("archived") != "":
		p.Notice = "The flow is archived: it no longer starts. Conversations already in it finish it."
	case q.Get("restored") != "":
		p.Notice = "The flow is restored. Its published version, if it has one, runs again."
	}
	p.Data = v
	return p, nil
}

func (d *Dashboard) flows(w http.ResponseWriter, r *http.Request) error {
	p, err := d.flowsPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "flows", p)
}

// showFlows answers a form of the list page with the page again.
func (d *Dashboard) showFlows(w http.ResponseWriter, r *http.Request, f *form, status int) error {
	p, err := d.flowsPage(r, f)
	if err != nil {
		return err
	}
	pushURL(w, flowsPath(p.WS.ID))
	return d.render(w, status, "flows", p)
}

// failFlows shows the list page again with err on the form: on one of
// fields when it names one.
func (d *Dashboard) failFlows(w http.ResponseWriter, r *http.Request, f *form, err error, fields ...string) error {
	status, ierr := f.fail(w, flowError(err), fields...)
	if ierr != nil {
		return ierr
	}
	return d.showFlows(w, r, f, status)
}

// createFlow creates an empty flow with the name given and opens it in the
// editor.
func (d *Dashboard) createFlow(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	name := strings.TrimSpace(r.PostFormValue("name"))
	fl, _, err := d.Flows.Create(r.Context(), s.Workspace.ID, access.Actor(r), flow.Document{Name: name})
	if err != nil {
		return d.failFlows(w, r, newForm(r, "name"), err, "name")
	}
	return redirect(w, r, flowPath(s.Workspace.ID, fl.ID))
}

// importFlow creates a flow from an uploaded flow document ("bots as
// code"). A document that does not parse is refused with the parser's
// message, which names the node and the member at fault, and nothing is
// stored.
func (d *Dashboard) importFlow(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	f := newForm(r)
	file, _, err := r.FormFile("document")
	if err != nil {
		f.Errors["document"] = "Choose a flow file (.json) to import."
		return d.showFlows(w, r, f, http.StatusUnprocessableEntity)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, flow.MaxDocumentBytes+1))
	if err != nil {
		return httpx.BadRequest("bad_upload", "The file could not be read.")
	}
	doc, err := flow.Parse(data)
	if err != nil {
		var pe *flow.ParseError
		if !errors.As(err, &pe) {
			return httpx.Internal(err)
		}
		f.Errors["document"] = "This file is not a flow Parley can read: " + sentence(strings.TrimPrefix(pe.Error(), "flow: "))
		return d.showFlows(w, r, f, http.StatusUnprocessableEntity)
	}
	fl, _, err := d.Flows.Create(r.Context(), s.Workspace.ID, access.Actor(r), doc)
	if err != nil {
		return d.failFlows(w, r, f, err, "document")
	}
	return redirect(w, r, flowPath(s.Workspace.ID, fl.ID))
}

// flowEditor is the editor page. The island needs only the IDs and
// whether to offer editing; it loads the draft itself.
func (d *Dashboard) flowEditor(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Flow")
	if err != nil {
		return err
	}
	fl, _, err := d.Flows.Get(r.Context(), p.WS.ID, r.PathValue("flow_id"))
	if err != nil {
		return flowError(err)
	}
	p.Title, p.Nav = fl.Name, "flows"
	archived := fl.Status == flow.StatusArchived
	p.Data = &editorView{ID: fl.ID, Name: fl.Name, Archived: archived, CanEdit: p.Can("admin") && !p.ReadOnly() && !archived}
	return d.render(w, http.StatusOK, "flow_edit", p)
}

func (d *Dashboard) archiveFlow(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if _, err := d.Flows.Archive(r.Context(), s.Workspace.ID, r.PathValue("flow_id"), access.Actor(r)); err != nil {
		return flowError(err)
	}
	return redirect(w, r, flowsPath(s.Workspace.ID)+"?archived=1")
}

func (d *Dashboard) restoreFlow(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if _, err := d.Flows.Restore(r.Context(), s.Workspace.ID, r.PathValue("flow_id"), access.Actor(r)); err != nil {
		return flowError(err)
	}
	return redirect(w, r, flowsPath(s.Workspace.ID)+"?restored=1")
}

// flowError maps the flow store's refusals to what a person reads.
func flowError(err error) error {
	switch {
	case errors.Is(err, flow.ErrNoSuchFlow):
		return httpx.NotFound("flow")
	case errors.Is(err, flow.ErrTooManyFlows):
		return httpx.Conflict("too_many_flows", fmt.Sprintf("A workspace can keep at most %d flows. Reuse an archived one instead.", flow.MaxFlows))
	case errors.Is(err, flow.ErrArchived):
		return httpx.Conflict("flow_archived", "This flow is archived. Restore it to edit it.")
	}
	return err
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	c, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	s = string(unicode.ToUpper(c)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

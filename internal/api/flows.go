package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// flowJSON is a flow as lists and responses show it; the document itself
// is in "draft" (GET /flows/{flow_id}) or the export.
type flowJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// PublishedVersion is null until the flow is first published.
	PublishedVersion *int       `json:"published_version"`
	PublishedAt      *time.Time `json:"published_at"`
	// UnpublishedChanges: the draft was edited since the last publish.
	UnpublishedChanges bool          `json:"unpublished_changes"`
	Triggers           []triggerJSON `json:"triggers"`
	DraftUpdatedAt     time.Time     `json:"draft_updated_at"`
	CreatedAt          time.Time     `json:"created_at"`
	UpdatedAt          time.Time     `json:"updated_at"`
	ArchivedAt         *time.Time    `json:"archived_at"`
}

// triggerJSON summarizes one of the draft's triggers.
type triggerJSON struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
}

func toFlowJSON(f flow.Flow) flowJSON {
	out := flowJSON{
		ID: f.ID, Name: f.Name, Status: string(f.Status), PublishedAt: timePtr(f.PublishedAt),
		UnpublishedChanges: f.Changed, Triggers: make([]triggerJSON, len(f.Triggers)),
		DraftUpdatedAt: f.DraftUpdatedAt, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, ArchivedAt: timePtr(f.ArchivedAt),
	}
	if f.PublishedVersion > 0 {
		v := f.PublishedVersion
		out.PublishedVersion = &v
	}
	for i, t := range f.Triggers {
		out.Triggers[i] = triggerJSON{ID: t.ID, Type: string(t.Type), Summary: t.Summary}
	}
	return out
}

// versionJSON is one published version.
type versionJSON struct {
	Version     int       `json:"version"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
}

// flowResult is what creating and saving a draft answer: the flow and
// what still stops the draft from being published.
type flowResult struct {
	Flow     flowJSON       `json:"flow"`
	Problems []flow.Problem `json:"problems"`
}

func (a *API) listFlows(w http.ResponseWriter, r *http.Request) error {
	opt := flow.ListOptions{Status: flow.Status(r.URL.Query().Get("status"))}
	if opt.Status != "" && opt.Status != flow.StatusActive && opt.Status != flow.StatusArchived {
		return badField("status", `status must be "active" or "archived".`)
	}
	fs, err := a.Flows.List(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, opt)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]flowJSON, len(fs))
	for i, f := range fs {
		out[i] = toFlowJSON(f)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"flows": out})
}

// createFlow imports a flow document ("bots as code") as the draft of a
// new flow. The draft is stored even when it would not publish yet; the
// answer lists its problems.
func (a *API) createFlow(w http.ResponseWriter, r *http.Request) error {
	doc, err := readDocument(w, r)
	if err != nil {
		return err
	}
	f, ps, err := a.Flows.Create(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, access.Actor(r), doc)
	if err != nil {
		return flowError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, flowResult{toFlowJSON(f), ps})
}

// getFlow returns the flow, its draft with secret header values blanked
// ("secret": true, "value": "") and the draft's problems.
func (a *API) getFlow(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	f, draft, err := a.Flows.Get(r.Context(), ws, r.PathValue("flow_id"))
	if err != nil {
		return flowError(err)
	}
	// Problems are computed on the real draft: the redacted one would
	// report every secret as missing.
	ps, err := a.Flows.Problems(r.Context(), ws, f.ID, draft)
	if err != nil {
		return httpx.Internal(err)
	}
	raw, err := draft.Redact().MarshalJSON()
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, struct {
		Flow     flowJSON        `json:"flow"`
		Draft    json.RawMessage `json:"draft"`
		Problems []flow.Problem  `json:"problems"`
	}{toFlowJSON(f), raw, ps})
}

// saveDraft replaces the flow's draft. Secret header values left empty
// keep their stored value while the node calls the same host.
func (a *API) saveDraft(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	id := r.PathValue("flow_id")
	// Look the flow up before reading the body, so another workspace's
	// flow is a 404 whatever the body says.
	if _, _, err := a.Flows.Get(r.Context(), ws, id); err != nil {
		return flowError(err)
	}
	doc, err := readDocument(w, r)
	if err != nil {
		return err
	}
	f, ps, err := a.Flows.SaveDraft(r.Context(), ws, id, access.Actor(r), doc)
	if err != nil {
		return flowError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, flowResult{toFlowJSON(f), ps})
}

// publishFlow makes the draft the next version. A draft with problems is
// a 422 listing them, and nothing changes.
func (a *API) publishFlow(w http.ResponseWriter, r *http.Request) error {
	f, v, ps, err := a.Flows.Publish(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("flow_id"), access.Actor(r))
	if errors.Is(err, flow.ErrInvalid) {
		n := 0
		for _, p := range ps {
			if p.Severity == flow.SeverityError {
				n++
			}
		}
		msg := fmt.Sprintf("The draft has %d problems to fix before it can be published.", n)
		if n == 1 {
			msg = "The draft has a problem to fix before it can be published."
		}
		return problemsErr(http.StatusUnprocessableEntity, "invalid_flow", msg, "", ps)
	}
	if err != nil {
		return flowError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, struct {
		Flow     flowJSON       `json:"flow"`
		Version  int            `json:"version"`
		Problems []flow.Problem `json:"problems"`
	}{toFlowJSON(f), v, ps})
}

// exportFlow downloads the draft, or ?version=N, as the indented
// document without secret header values.
func (a *API) exportFlow(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	f, doc, err := a.Flows.Get(r.Context(), ws, r.PathValue("flow_id"))
	if err != nil {
		return flowError(err)
	}
	suffix := ""
	if q := r.URL.Query().Get("version"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 {
			return badField("version", "version must be a published version number: 1, 2, …")
		}
		if doc, err = a.Flows.Version(r.Context(), nil, ws, f.ID, v); err != nil {
			return flowError(err)
		}
		suffix = "-v" + strconv.Itoa(v)
	}
	body, err := doc.Export()
	if err != nil {
		return httpx.Internal(err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName(f.Name) + suffix + ".json"}))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}

func (a *API) listVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := a.Flows.Versions(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("flow_id"))
	if err != nil {
		return flowError(err)
	}
	out := make([]versionJSON, len(vs))
	for i, v := range vs {
		out[i] = versionJSON{Version: v.Version, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy}
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"versions": out})
}

// archiveFlow stops the flow from starting; restoreFlow lets it start
// again. Both are idempotent.
func (a *API) archiveFlow(w http.ResponseWriter, r *http.Request) error {
	f, err := a.Flows.Archive(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("flow_id"), access.Actor(r))
	if err != nil {
		return flowError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"flow": toFlowJSON(f)})
}

func (a *API) restoreFlow(w http.ResponseWriter, r *http.Request) error {
	f, err := a.Flows.Restore(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("flow_id"), access.Actor(r))
	if err != nil {
		return flowError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"flow": toFlowJSON(f)})
}

// readDocument reads a request body that is a flow document. It refuses
// like httpx.DecodeJSON (415 for another content type, 413 over
// flow.MaxDocumentBytes) and answers a document Parse refuses with a 400
// naming the node or trigger and the field, also as a problem the editor
// can point at (a problemsError: register the handler withProblems).
func readDocument(w http.ResponseWriter, r *http.Request) (flow.Document, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return flow.Document{}, &httpx.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "Send the flow document as application/json."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, flow.MaxDocumentBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return flow.Document{}, &httpx.Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
			Message: fmt.Sprintf("The document is larger than %d MiB.", flow.MaxDocumentBytes>>20)}
	case err != nil:
		return flow.Document{}, httpx.BadRequest("malformed_json", "The body could not be read.")
	case len(bytes.TrimSpace(body)) == 0:
		return flow.Document{}, httpx.BadRequest("empty_body", "The body is empty; send a flow document.")
	}
	doc, err := flow.Parse(body)
	if err == nil {
		return doc, nil
	}
	var pe *flow.ParseError
	if !errors.As(err, &pe) {
		return flow.Document{}, httpx.Internal(err)
	}
	code := "invalid_document"
	if errors.Is(err, flow.ErrFormat) {
		code = "unsupported_format"
	}
	msg := strings.TrimPrefix(pe.Error(), "flow: ")
	if c, n := utf8.DecodeRuneInString(msg); n > 0 {
		msg = string(unicode.ToUpper(c)) + msg[n:]
	}
	p := flow.Problem{Severity: flow.SeverityError, NodeID: pe.NodeID, TriggerID: pe.TriggerID, Field: pe.Field, Message: pe.Message}
	return flow.Document{}, problemsErr(http.StatusBadRequest, code, msg, pe.Field, []flow.Problem{p})
}

// problemsError is an API error that also lists a document's problems.
// withProblems writes it as {"error":{…},"problems":[…]}; anywhere else it
// is still a plain *httpx.Error.
type problemsError struct {
	err      *httpx.Error
	problems []flow.Problem
}

func (e *problemsError) Error() string { return e.err.Error() }
func (e *problemsError) Unwrap() error { return e.err }

// withProblems lets h answer with a problemsError.
func withProblems(h httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		var pe *problemsError
		if !errors.As(err, &pe) {
			return err
		}
		type detail struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			Field     string `json:"field,omitempty"`
			RequestID string `json:"request_id,omitempty"`
		}
		return httpx.WriteJSON(w, pe.err.Status, struct {
			Error    detail         `json:"error"`
			Problems []flow.Problem `json:"problems"`
		}{detail{pe.err.Code, pe.err.Message, pe.err.Field, httpx.RequestID(r.Context())}, pe.problems})
	}
}

// problemsErr builds a problemsError.
func problemsErr(status int, code, msg, field string, ps []flow.Problem) error {
	return &problemsError{err: &httpx.Error{Status: status, Code: code, Message: msg, Field: field}, problems: ps}
}

// fileName makes a download name from a flow name: letters and digits of
// any script, runs of anything else as one "-".
func fileName(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range name {
		if unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.Is(unicode.Mn, c) || unicode.Is(unicode.Mc, c) {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" {
		return "flow"
	}
	return s
}

// flowError maps what the flow store refuses.
func flowError(err error) error {
	switch {
	case errors.Is(err, flow.ErrNoSuchVersion):
		return httpx.NotFound("flow version")
	case errors.Is(err, flow.ErrNoSuchFlow):
		return httpx.NotFound("flow")
	case errors.Is(err, flow.ErrArchived):
		return httpx.Conflict("flow_archived", "This flow is archived. Restore it to edit or publish it.")
	case errors.Is(err, flow.ErrTooManyFlows):
		return httpx.Conflict("too_many_flows", fmt.Sprintf("A workspace can keep at most %d flows. Delete or reuse an archived one first.", flow.MaxFlows))
	}
	if v, ok := validate.As(err); ok {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + v.Field, Field: v.Field, Message: v.Message}
	}
	return access.DomainError(err)
}

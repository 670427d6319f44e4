package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/flow/run"
	"github.com/parleyhq/parley/internal/httpx"
)

// simulateRequest is POST …/flows/{flow_id}/simulate: run.SimRequest, with
// an optional document to run instead of the stored draft (the editor's
// unsaved edits).
type simulateRequest struct {
	Document json.RawMessage `json:"document"`
	Contact  run.SimContact  `json:"contact"`
	Inputs   []run.SimInput  `json:"inputs"`
}

// maxSimulateBody bounds a simulation request: a whole document plus the
// contact and the inputs.
const maxSimulateBody = flow.MaxDocumentBytes + 256<<10

// simulateFlow runs the flow's draft (or the document sent) against a
// virtual contact and returns the transcript. Nothing is stored and
// nothing reaches any contact; http nodes do call out, through the same
// guarded client as live runs.
func (a *API) simulateFlow(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	// Look the flow up before reading the body, so another workspace's
	// flow is a 404 whatever the body says.
	f, draft, err := a.Flows.Get(r.Context(), ws, r.PathValue("flow_id"))
	if err != nil {
		return flowError(err)
	}
	var in simulateRequest
	if err := httpx.DecodeJSON(w, r, &in, maxSimulateBody); err != nil {
		return err
	}
	doc := draft
	if len(in.Document) > 0 && string(in.Document) != "null" {
		d, err := flow.Parse(in.Document)
		if err != nil {
			var pe *flow.ParseError
			if !errors.As(err, &pe) {
				return httpx.Internal(err)
			}
			return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_document", Field: "document",
				Message: strings.TrimPrefix(pe.Error(), "flow: ")}
		}
		// A document that went through the API has its secret header
		// values blanked; the stored ones fill them where the node still
		// calls the same place, as when a draft is saved.
		doc = flow.KeepSecrets(d, draft)
	}
	res, err := a.FlowRuns.Simulate(r.Context(), ws, f.ID, doc, run.SimRequest{Contact: in.Contact, Inputs: in.Inputs})
	if errors.Is(err, run.ErrSimInput) {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_inputs", Field: "inputs",
			Message: "A simulation takes at most " + strconv.Itoa(run.MaxSimInputs) + " inputs."}
	}
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, res)
}

// flowStatsJSON is GET …/flows/{flow_id}/stats.
type flowStatsJSON struct {
	// Version is the version counted; null for a flow never published.
	Version *int                     `json:"version"`
	Nodes   map[string]run.NodeStats `json:"nodes"`
	Errors  []run.FlowError          `json:"errors"`
}

// flowStats returns the per-node statistics of a published version (the
// live one unless ?version=N) and the latest errors its runs met.
func (a *API) flowStats(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	f, _, err := a.Flows.Get(r.Context(), ws, r.PathValue("flow_id"))
	if err != nil {
		return flowError(err)
	}
	v := f.PublishedVersion
	if s := r.URL.Query().Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_version", Field: "version",
				Message: "version must be a published version number (1, 2, …)."}
		}
		if n > f.PublishedVersion {
			return httpx.NotFound("flow version")
		}
		v = n
	}
	out := flowStatsJSON{Nodes: map[string]run.NodeStats{}, Errors: []run.FlowError{}}
	if v == 0 {
		return httpx.WriteJSON(w, http.StatusOK, out)
	}
	out.Version = &v
	if out.Nodes, err = run.Stats(r.Context(), a.DB.R, ws, f.ID, v); err != nil {
		return httpx.Internal(err)
	}
	if out.Errors, err = run.Errors(r.Context(), a.DB.R, ws, f.ID, v); err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

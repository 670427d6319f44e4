package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/validate"
)

// segmentPage is the default page of a segment's contacts; the most is
// segment.MaxPage's tenth, so that one request opens at most that many
// contacts' names.
const (
	segmentPage    = 50
	segmentPageMax = 100
)

// segmentJSON is a saved filter. definition is segment.Definition as
// stored: {"match":"all"|"any","conditions":[{"field","op","value"}]}.
type segmentJSON struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Definition segment.Definition `json:"definition"`
	CreatedBy  string             `json:"created_by"`
	UpdatedBy  string             `json:"updated_by"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
}

func toSegmentJSON(s segment.Segment) segmentJSON {
	return segmentJSON{ID: s.ID, Name: s.Name, Definition: s.Definition, CreatedBy: s.CreatedBy, UpdatedBy: s.UpdatedBy,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// countJSON is a segment's size; exact is false when conditions on
// sealed values were checked for only the first segment.MaxCountScan
// candidates (n is then a lower bound).
type countJSON struct {
	N     int  `json:"n"`
	Exact bool `json:"exact"`
}

// segmentRequest creates a segment; definition stays raw so that
// segment.ParseDefinition (unknown keys refused) reads it.
type segmentRequest struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

// segmentPatch changes a segment's name, definition or both.
type segmentPatch struct {
	Name       *string         `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

// previewRequest evaluates an unsaved definition.
type previewRequest struct {
	Definition json.RawMessage `json:"definition"`
	Limit      int             `json:"limit"`
}

// parseDefinition reads a definition from a request; a missing one is a
// 422 naming "definition".
func parseDefinition(raw json.RawMessage) (segment.Definition, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return segment.Definition{}, httpx.Invalid("definition", "Send a definition: {\"match\":\"all\",\"conditions\":[…]}.")
	}
	def, err := segment.ParseDefinition(raw)
	if err != nil {
		return segment.Definition{}, segmentError(err)
	}
	return def, nil
}

// listSegments lists the workspace's segments by name.
func (a *API) listSegments(w http.ResponseWriter, r *http.Request) error {
	ss, err := a.Segments.List(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]segmentJSON, len(ss))
	for i, s := range ss {
		out[i] = toSegmentJSON(s)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"segments": out})
}

// createSegment saves a filter after compiling it against the workspace:
// an unknown field, operator, tag or value is a 422 naming the condition.
func (a *API) createSegment(w http.ResponseWriter, r *http.Request) error {
	var in segmentRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	def, err := parseDefinition(in.Definition)
	if err != nil {
		return err
	}
	s, err := a.Segments.Create(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, in.Name, def)
	if err != nil {
		return segmentError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"segment": toSegmentJSON(s)})
}

// getSegment returns a segment with its current size.
func (a *API) getSegment(w http.ResponseWriter, r *http.Request) error {
	ws, id := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("segment_id")
	s, err := a.Segments.Get(r.Context(), ws, id)
	if err != nil {
		return segmentError(err)
	}
	n, err := a.Segments.Count(r.Context(), ws, segment.Target{SegmentID: id})
	if err != nil {
		return segmentError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"segment": toSegmentJSON(s), "count": countJSON{n.N, n.Exact}})
}

// updateSegment renames a segment and/or replaces its definition; what is
// not sent stays. Both are checked before anything changes.
func (a *API) updateSegment(w http.ResponseWriter, r *http.Request) error {
	ws, id := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("segment_id")
	cur, err := a.Segments.Get(r.Context(), ws, id)
	if err != nil {
		return segmentError(err)
	}
	var in segmentPatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Name == nil && len(in.Definition) == 0 {
		return httpx.BadRequest("nothing_to_change", "Send name, definition or both.")
	}
	name, def := cur.Name, cur.Definition
	if in.Name != nil {
		name = *in.Name
	}
	if len(in.Definition) > 0 {
		if def, err = parseDefinition(in.Definition); err != nil {
			return err
		}
	}
	s, err := a.Segments.Update(r.Context(), access.Actor(r), ws, id, name, def)
	if err != nil {
		return segmentError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"segment": toSegmentJSON(s)})
}

// deleteSegment deletes a segment; its contacts stay.
func (a *API) deleteSegment(w http.ResponseWriter, r *http.Request) error {
	if err := a.Segments.Delete(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("segment_id")); err != nil {
		return segmentError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// limitParam reads ?limit= (default def, at most max); anything else is a
// 422 naming "limit".
func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, httpx.Invalid("limit", "limit must be a whole number from 1 to "+strconv.Itoa(max)+".")
	}
	return n, nil
}

// segmentContacts pages through a segment's members in contact ID order.
// A page may be short (even empty) and still have a next_cursor when
// conditions on sealed values used up the request's scan budget: keep
// following next_cursor until it is null.
func (a *API) segmentContacts(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	n, err := limitParam(r, segmentPage, segmentPageMax)
	if err != nil {
		return err
	}
	return a.writeMembers(w, r, ws, segment.Target{SegmentID: r.PathValue("segment_id")}, r.URL.Query().Get("cursor"), n, nil)
}

// previewSegment evaluates a definition without saving it: its size and
// the first page of its contacts, for a filter being built.
func (a *API) previewSegment(w http.ResponseWriter, r *http.Request) error {
	var in previewRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	def, err := parseDefinition(in.Definition)
	if err != nil {
		return err
	}
	if in.Limit == 0 {
		in.Limit = segmentPage
	}
	if in.Limit < 1 || in.Limit > segmentPageMax {
		return httpx.Invalid("limit", "limit must be a whole number from 1 to "+strconv.Itoa(segmentPageMax)+".")
	}
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	t := segment.Target{Definition: &def}
	n, err := a.Segments.Count(r.Context(), ws, t)
	if err != nil {
		return segmentError(err)
	}
	return a.writeMembers(w, r, ws, t, "", in.Limit, &countJSON{n.N, n.Exact})
}

// writeMembers answers a page of the target's members as contacts, with
// the count when given.
func (a *API) writeMembers(w http.ResponseWriter, r *http.Request, ws string, t segment.Target, cursor string, n int, count *countJSON) error {
	p, err := a.Segments.Members(r.Context(), ws, t, cursor, n)
	if err != nil {
		return segmentError(err)
	}
	byID, err := a.Contacts.GetMany(r.Context(), ws, p.IDs)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]contactJSON, 0, len(p.IDs))
	for _, id := range p.IDs {
		if c, ok := byID[id]; ok { // merged away since: skip
			out = append(out, toContactJSON(c))
		}
	}
	body := map[string]any{"contacts": out, "next_cursor": nil}
	if p.NextCursor != "" {
		body["next_cursor"] = p.NextCursor
	}
	if count != nil {
		body["count"] = count
	}
	return httpx.WriteJSON(w, http.StatusOK, body)
}

// segmentError maps what segments refuse: a bad name (422 "name"), a
// definition outside the closed language (422 "definition", the message
// naming the condition), a name taken (409), a segment not in the
// workspace (404).
func segmentError(err error) error {
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	switch {
	case errors.Is(err, segment.ErrExists):
		return &httpx.Error{Status: http.StatusConflict, Code: "segment_exists", Field: "name",
			Message: "A segment with this name already exists (letter case does not count)."}
	case errors.Is(err, segment.ErrInvalid):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_definition", Field: "definition",
			Message: definitionProblem(err)}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("segment")
	}
	return httpx.Internal(err)
}

// definitionProblem is what is wrong with a refused definition, in the
// words segment wrote after its "invalid segment: " prefix ("condition 2:
// the operator is not allowed for this field"), with a capital and a
// full stop.
func definitionProblem(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, segment.ErrInvalid.Error()+": "); i >= 0 {
		msg = msg[i+len(segment.ErrInvalid.Error())+2:]
	}
	if msg == "" {
		return "The definition is not valid."
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

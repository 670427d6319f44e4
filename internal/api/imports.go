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

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/csvio"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/segment"
)

// uploadSlack is what a multipart body may hold beyond the file itself:
// boundaries, part headers and the options part.
const uploadSlack = 256 << 10

// importJSON is an import with its progress. total counts the file's
// data rows; done those handled so far, of which created made a contact,
// updated matched one and failed were refused (GET …/errors lists them).
type importJSON struct {
	ID         string        `json:"id"`
	State      csvio.State   `json:"state"`
	Total      int           `json:"total"`
	Done       int           `json:"done"`
	Created    int           `json:"created"`
	Updated    int           `json:"updated"`
	Failed     int           `json:"failed"`
	Error      string        `json:"error"`
	Options    csvio.Options `json:"options"`
	CreatedBy  string        `json:"created_by"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
	FinishedAt *time.Time    `json:"finished_at"`
}

func toImportJSON(i csvio.Import) importJSON {
	o := i.Options
	if o.Mapping == nil {
		o.Mapping = csvio.Mapping{}
	}
	return importJSON{ID: i.ID, State: i.State, Total: i.Total, Done: i.Done, Created: i.Created, Updated: i.Updated,
		Failed: i.Failed, Error: i.Error, Options: o, CreatedBy: i.CreatedBy, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
		FinishedAt: timePtr(i.FinishedAt)}
}

// readUpload reads the CSV file of a request: the "file" part of a
// multipart/form-data body (with the "options" part's text when there is
// one), or a whole text/csv body. A body over the cap is a 413, another
// content type a 415.
func readUpload(w http.ResponseWriter, r *http.Request) (data []byte, options string, err error) {
	mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil {
		mt = ""
	}
	tooBig := &httpx.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
		Message: fmt.Sprintf("The file is larger than %d MB.", csvio.MaxBytes>>20)}
	switch mt {
	case "text/csv":
		data, err = io.ReadAll(http.MaxBytesReader(w, r.Body, csvio.MaxBytes))
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", tooBig
		} else if err != nil {
			return nil, "", httpx.BadRequest("unreadable_body", "The body could not be read.")
		}
		return data, r.URL.Query().Get("options"), nil
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, csvio.MaxBytes+uploadSlack)
		if err := r.ParseMultipartForm(csvio.MaxBytes + uploadSlack); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, "", tooBig
			}
			return nil, "", httpx.BadRequest("malformed_multipart", "The multipart body could not be read.")
		}
		defer r.MultipartForm.RemoveAll()
		f, _, err := r.FormFile("file")
		if err != nil {
			return nil, "", httpx.Invalid("file", "Send the CSV file in a part named \"file\".")
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, csvio.MaxBytes+1))
		if err != nil {
			return nil, "", httpx.BadRequest("unreadable_body", "The file could not be read.")
		}
		if len(data) > csvio.MaxBytes {
			return nil, "", tooBig
		}
		return data, r.FormValue("options"), nil
	}
	return nil, "", &httpx.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
		Message: "Send the CSV file as multipart/form-data (a part named \"file\") or as a text/csv body."}
}

// previewImport reads an upload without keeping it: its columns, the
// first rows and how many there are, for choosing the mapping. Nothing is
// stored.
func (a *API) previewImport(w http.ResponseWriter, r *http.Request) error {
	data, _, err := readUpload(w, r)
	if err != nil {
		return err
	}
	p, err := csvio.Parse(data)
	if err != nil {
		return importError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"headers": p.Headers, "sample": p.Sample, "rows": p.Rows, "delimiter": p.Delimiter})
}

// startImport checks an upload and its mapping and starts importing it in
// the background: 202 with the import, whose progress GET
// …/contact-imports/{import_id} follows. The options travel beside the
// file (the "options" part, or ?options= with a text/csv body), so one
// call does it; POST …/contact-imports/preview first shows the columns.
func (a *API) startImport(w http.ResponseWriter, r *http.Request) error {
	data, raw, err := readUpload(w, r)
	if err != nil {
		return err
	}
	if strings.TrimSpace(raw) == "" {
		return httpx.Invalid("options", "Send the options with the mapping: {\"mapping\":{\"column\":\"first_name\",…}}.")
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	var o csvio.Options
	if err := dec.Decode(&o); err != nil {
		return httpx.Invalid("options", "The options are not valid JSON of the documented shape.")
	}
	o.Headers = nil // Start fills them in from the file
	imp, err := a.Imports.Start(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, data, o)
	if err != nil {
		return importError(err)
	}
	w.Header().Set("Location", r.URL.Path+"/"+imp.ID)
	return httpx.WriteJSON(w, http.StatusAccepted, map[string]any{"import": toImportJSON(imp)})
}

// listImports lists the workspace's latest imports, newest first.
func (a *API) listImports(w http.ResponseWriter, r *http.Request) error {
	is, err := a.Imports.List(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]importJSON, len(is))
	for i, imp := range is {
		out[i] = toImportJSON(imp)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"imports": out})
}

// getImport returns an import's progress.
func (a *API) getImport(w http.ResponseWriter, r *http.Request) error {
	imp, err := a.Imports.Status(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("import_id"))
	if err != nil {
		return importError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"import": toImportJSON(imp)})
}

// importErrors pages through an import's refused rows in line order:
// ?after= the last row seen.
func (a *API) importErrors(w http.ResponseWriter, r *http.Request) error {
	ws, id := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("import_id")
	if _, err := a.Imports.Status(r.Context(), ws, id); err != nil {
		return importError(err)
	}
	n, err := limitParam(r, 100, csvio.MaxRowErrors)
	if err != nil {
		return err
	}
	after := 0
	if v := r.URL.Query().Get("after"); v != "" {
		if after, err = strconv.Atoi(v); err != nil || after < 0 {
			return httpx.Invalid("after", "after must be a row number.")
		}
	}
	rows, err := a.Imports.RowErrors(r.Context(), ws, id, after, n)
	if err != nil {
		return httpx.Internal(err)
	}
	type rowError struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Message string `json:"message"`
	}
	out := make([]rowError, len(rows))
	for i, e := range rows {
		out[i] = rowError{e.Row, e.Column, e.Message}
	}
	body := map[string]any{"errors": out, "next_after": nil}
	if len(rows) == n {
		body["next_after"] = rows[len(rows)-1].Row
	}
	return httpx.WriteJSON(w, http.StatusOK, body)
}

// importReport downloads the refused rows as CSV with their original
// cells, to fix and import again.
func (a *API) importReport(w http.ResponseWriter, r *http.Request) error {
	ws, id := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("import_id")
	var buf bytes.Buffer
	if err := a.Imports.Report(r.Context(), ws, id, &buf); err != nil {
		return importError(err)
	}
	attachment(w, "import-problems-"+a.Now().UTC().Format("2006-01-02")+".csv")
	_, err := buf.WriteTo(w)
	return err
}

// deleteImport deletes an import and its report (a running one stops);
// the contacts it made stay.
func (a *API) deleteImport(w http.ResponseWriter, r *http.Request) error {
	if err := a.Imports.Delete(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("import_id")); err != nil {
		return importError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// exportContacts streams the workspace's contacts (or a segment's
// members) as CSV: ?segment_id= and ?columns= (comma-separated, from the
// closed list; empty for all). Everything is checked before the first
// byte; a failure after it cuts the download short.
func (a *API) exportContacts(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	q := r.URL.Query()
	o := csvio.ExportOptions{SegmentID: q.Get("segment_id")}
	if c := strings.TrimSpace(q.Get("columns")); c != "" {
		for _, col := range strings.Split(c, ",") {
			o.Columns = append(o.Columns, strings.TrimSpace(col))
		}
	}
	name := "contacts-" + a.Now().UTC().Format("2006-01-02") + ".csv"
	lw := &lazyWriter{w: w, start: func() { attachment(w, name) }}
	_, err := a.Exports.Export(r.Context(), access.Actor(r), ws, o, lw)
	if err == nil {
		lw.begin()
		return nil
	}
	if lw.started {
		// Headers and rows are out: all that is left is to stop.
		a.Log.ErrorContext(r.Context(), "contact export cut short", "err", err, "workspace_id", ws)
		return nil
	}
	return exportError(err)
}

// exportError maps what an export refuses: an unknown column (422
// "columns"), a segment not in the workspace (404 segment) or one whose
// definition no longer compiles (422 "segment_id").
func exportError(err error) error {
	switch {
	case errors.Is(err, csvio.ErrInvalid):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_columns", Field: "columns", Message: importProblem(err)}
	case errors.Is(err, segment.ErrInvalid):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_segment", Field: "segment_id",
			Message: "The segment's filter no longer works (" + definitionProblem(err) + ") Edit the segment first."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("segment")
	}
	return httpx.Internal(err)
}

// attachment sets the headers of a CSV download. name must be safe as it
// is (ASCII letters, digits, - and .): callers build it from a date.
func attachment(w http.ResponseWriter, name string) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	// Personal data: never kept by a browser or a proxy.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// lazyWriter sets the response's headers at its first byte, so that an
// export refused before writing anything can still answer a JSON error.
type lazyWriter struct {
	w       http.ResponseWriter
	start   func()
	started bool
}

func (l *lazyWriter) begin() {
	if !l.started {
		l.started = true
		l.start()
	}
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.begin()
	return l.w.Write(p)
}

// importError maps what imports refuse: a file or mapping that cannot be
// imported (422 naming the problem), an import not in the workspace (404).
func importError(err error) error {
	switch {
	case errors.Is(err, csvio.ErrInvalid):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_import", Message: importProblem(err)}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("import")
	}
	return httpx.Internal(err)
}

// importProblem is csvio's message after its "invalid import: " prefix,
// with a capital and a full stop.
func importProblem(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, csvio.ErrInvalid.Error()+": "); i >= 0 {
		msg = msg[i+len(csvio.ErrInvalid.Error())+2:]
	}
	if msg == "" {
		return "The file cannot be imported."
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

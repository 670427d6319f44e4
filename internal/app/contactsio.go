package app

import (
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/csvio"
	"github.com/parleyhq/parley/internal/segment"
)

// contactsIO builds the saved segments and the CSV import and export of
// contacts (after the contacts and their activity log, which imports
// record into) and registers the import job's handler, which must happen
// before the job workers start.
func (a *App) contactsIO() {
	a.Segments = segment.NewStore(a.DB, a.Contacts, a.Now)
	a.Imports = csvio.NewImporter(a.DB, a.Keyring, a.Contacts, a.Jobs, a.Activity, a.Now)
	a.Imports.Stages = a.Pipelines // built before (crm)
	a.Imports.Register()
	a.Exports = csvio.NewExporter(a.DB, a.Contacts, a.Segments, a.Now)
}

// maxUpload bounds the body of a contact CSV upload: the largest file
// csvio takes, base64-encoded (the dashboard's import wizard carries the
// file from the mapping step that way), plus room for the form around it.
const maxUpload = csvio.MaxBytes/3*4 + 1<<20

// bodyLimit caps every request body at maxBody, except the contact CSV
// uploads of the API and the dashboard's import wizard, which get
// maxUpload (their handlers cap the file itself at csvio.MaxBytes).
func bodyLimit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(maxBody)
		if r.Method == http.MethodPost && isUpload(r.URL.Path) {
			limit = maxUpload
		}
		if l := attachmentLimit(r); l > 0 { // media.go
			limit = l
		}
		r2 := *r
		r2.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, &r2)
	})
}

// isUpload reports whether path is one that takes a contact CSV file.
func isUpload(path string) bool {
	for _, suffix := range []string{"/contact-imports", "/contact-imports/preview", "/contact-imports/new"} {
		if strings.HasSuffix(path, suffix) {
			return true
		}
	}
	return false
}

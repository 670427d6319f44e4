package web

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/csvio"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
)

// The CSV import wizard (promise P-25): upload a file, say what each
// column holds, then watch the import run and see the rows it refused.
//
// The mapping step carries the uploaded file in the form itself (base64
// in a hidden input), so the server keeps nothing between the two steps
// and an upload that is never started leaves no trace; app's body limit
// allows for it.

// importErrorRows is how many refused rows the result shows; the report
// download has them all.
const importErrorRows = 200

func importPath(wsID, id string) string { return "/w/" + wsID + "/contact-imports/" + id }

// importView is the wizard's upload and mapping steps.
type importView struct {
	// Step is "upload" or "map".
	Step string
	// Recent are the workspace's latest imports.
	Recent []csvio.Import
	// The mapping step: the file's columns with sample values, the
	// choices for each, the file itself (base64) and its size in rows.
	Columns  []importColumn
	Targets  []importTarget
	Data     string
	FileName string
	Rows     int
	// Dedupe is the column to match existing contacts on ("" for none);
	// CreateTags creates tags the workspace lacks.
	Dedupe     string
	CreateTags bool
	Region     string
}

// importColumn is one column of the file on the mapping screen.
type importColumn struct {
	Index   int
	Header  string
	Samples []string
	Target  string
}

// importTarget is what a column can be mapped to.
type importTarget struct {
	Value, Label string
}

// importUpload is the wizard's first step.
func (d *Dashboard) importUpload(w http.ResponseWriter, r *http.Request) error {
	p, err := d.importPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "contact_import", p)
}

func (d *Dashboard) importPage(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Import contacts")
	if err != nil {
		return nil, err
	}
	p.Nav = "contacts"
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	v := &importView{Step: "upload", CreateTags: true}
	if v.Recent, err = d.Imports.List(r.Context(), p.WS.ID); err != nil {
		return nil, err
	}
	if len(v.Recent) > 5 {
		v.Recent = v.Recent[:5]
	}
	p.Data = v
	return p, nil
}

// importMapping reads the uploaded file and shows its columns to map.
func (d *Dashboard) importMapping(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r)
	data, name, problem := uploadedFile(r)
	if problem == "" {
		if _, err := csvio.Parse(data); err != nil {
			problem = importWords(err)
		}
	}
	if problem != "" {
		f.Errors["file"] = problem
		p, perr := d.importPage(r, f)
		if perr != nil {
			return perr
		}
		return d.render(w, http.StatusUnprocessableEntity, "contact_import", p)
	}
	p, err := d.mappingPage(r, f, data, name, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "contact_import", p)
}

// uploadedFile reads the "file" part of the form, at most
// csvio.MaxBytes; problem says in words what is wrong ("" when nothing).
func uploadedFile(r *http.Request) (data []byte, name, problem string) {
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", tooBig
		}
		return nil, "", "Choose a CSV file to import."
	}
	defer file.Close()
	data, err = io.ReadAll(io.LimitReader(file, csvio.MaxBytes+1))
	if err != nil {
		return nil, "", "The file could not be read: choose it again."
	}
	if len(data) > csvio.MaxBytes {
		return nil, "", tooBig
	}
	return data, hdr.Filename, ""
}

// tooBig is said of a file over csvio.MaxBytes.
var tooBig = "The file is larger than " + strconv.Itoa(csvio.MaxBytes>>20) + " MB. Split it in parts and import them one after the other."

// importWords says in plain words why a file or a mapping was refused.
func importWords(err error) string {
	if errors.Is(err, csvio.ErrInvalid) {
		msg := err.Error()
		if i := strings.Index(msg, csvio.ErrInvalid.Error()+": "); i >= 0 {
			msg = msg[i+len(csvio.ErrInvalid.Error())+2:]
		}
		return sentence(msg)
	}
	return err.Error()
}

// mappingPage is the mapping step for data. chosen carries choices back
// after a refusal (nil: suggest from the headers).
func (d *Dashboard) mappingPage(r *http.Request, f *form, data []byte, name string, chosen *csvio.Options) (*page, error) {
	p, err := d.importPage(r, f)
	if err != nil {
		return nil, err
	}
	pv, err := csvio.Parse(data)
	if err != nil {
		return nil, err
	}
	v := p.Data.(*importView)
	v.Step, v.Data, v.FileName, v.Rows = "map", base64.StdEncoding.EncodeToString(data), name, pv.Rows
	fields, err := d.Contacts.Fields(r.Context(), p.WS.ID, false)
	if err != nil {
		return nil, err
	}
	v.Targets = []importTarget{{csvio.TargetSkip, "Skip this column"}, {csvio.TargetFirstName, "First name"},
		{csvio.TargetLastName, "Last name"}, {csvio.TargetTag, "Tags"}, {csvio.TargetStage, "Lead stage"}}
	for _, fd := range fields {
		v.Targets = append(v.Targets, importTarget{csvio.FieldPrefix + fd.Key, fd.Label + " (custom field)"})
	}
	for i, h := range pv.Headers {
		c := importColumn{Index: i, Header: h}
		for _, row := range pv.Sample {
			if i < len(row) && strings.TrimSpace(row[i]) != "" && len(c.Samples) < 3 {
				c.Samples = append(c.Samples, row[i])
			}
		}
		if chosen != nil {
			c.Target = chosen.Mapping[h]
		} else {
			c.Target = suggest(h, fields)
		}
		if c.Target == "" {
			c.Target = csvio.TargetSkip
		}
		v.Columns = append(v.Columns, c)
	}
	if chosen != nil {
		v.Dedupe, v.CreateTags, v.Region = chosen.DedupeColumn, chosen.CreateTags, chosen.Region
	}
	return p, nil
}

// fold keeps a header's letters and digits, lower-cased, to compare it
// with what columns are usually called.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// suggest guesses what a column holds from its header: the names the
// exports write (first_name, field:city …), the usual words for names,
// tags and stages, and the workspace's own fields by key or label.
func suggest(header string, fields []contact.Field) string {
	if key, ok := strings.CutPrefix(header, csvio.FieldPrefix); ok {
		for _, f := range fields {
			if f.Key == key {
				return header
			}
		}
	}
	h := fold(header)
	switch h {
	case "firstname", "first", "givenname", "name", "fullname", "customer", "customername":
		return csvio.TargetFirstName
	case "lastname", "last", "surname", "familyname":
		return csvio.TargetLastName
	case "tags", "tag", "labels", "label", "groups":
		return csvio.TargetTag
	case "stage", "leadstage", "status":
		return csvio.TargetStage
	}
	for _, f := range fields {
		if h == fold(f.Key) || h == fold(f.Label) {
			return csvio.FieldPrefix + f.Key
		}
	}
	for _, f := range fields {
		switch {
		case f.Type == contact.FieldEmail && (h == "email" || h == "mail" || h == "emailaddress"),
			f.Type == contact.FieldPhone && (h == "phone" || h == "mobile" || h == "tel" || h == "telephone" || h == "phonenumber"):
			return csvio.FieldPrefix + f.Key
		}
	}
	return csvio.TargetSkip
}

// startImport starts the import of the file carried by the mapping form
// with the columns mapped as chosen, and shows its progress. A mapping
// that cannot be imported comes back with the reason.
func (d *Dashboard) startImport(w http.ResponseWriter, r *http.Request) error {
	// The file travels as a form value, not a file part: multipart
	// allows values up to maxMemory plus 10 MB, so maxMemory must leave
	// room for the largest file base64-encoded.
	if err := r.ParseMultipartForm(csvio.MaxBytes); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return httpx.BadRequest("bad_form", "The form could not be read.")
	}
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	data, err := base64.StdEncoding.DecodeString(r.PostFormValue("data"))
	f := newForm(r)
	if err != nil || len(data) == 0 {
		f.Errors["file"] = "The file is missing: choose it again."
		p, perr := d.importPage(r, f)
		if perr != nil {
			return perr
		}
		return d.render(w, http.StatusUnprocessableEntity, "contact_import", p)
	}
	pv, err := csvio.Parse(data)
	if err != nil {
		f.Errors["file"] = importWords(err)
		p, perr := d.importPage(r, f)
		if perr != nil {
			return perr
		}
		return d.render(w, http.StatusUnprocessableEntity, "contact_import", p)
	}
	o := csvio.Options{Mapping: csvio.Mapping{}, DedupeColumn: r.PostFormValue("dedupe"),
		CreateTags: r.PostFormValue("create_tags") != "", Region: strings.ToUpper(strings.TrimSpace(r.PostFormValue("region")))}
	for i, h := range pv.Headers {
		if t := r.PostFormValue("map_" + strconv.Itoa(i)); t != "" && t != csvio.TargetSkip {
			o.Mapping[h] = t
		}
	}
	imp, err := d.Imports.Start(r.Context(), access.Actor(r), ws, data, o)
	if err == nil {
		return redirect(w, r, importPath(ws, imp.ID))
	}
	if !errors.Is(err, csvio.ErrInvalid) {
		return err
	}
	f.Error = importWords(err)
	p, err := d.mappingPage(r, f, data, r.PostFormValue("filename"), &o)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusUnprocessableEntity, "contact_import", p)
}

// progressView is an import's progress page.
type progressView struct {
	Import csvio.Import
	// Running says the page should keep refreshing.
	Running bool
	// Percent is how far it is, 0–100.
	Percent int
	Errors  []csvio.RowError
	// MoreErrors says the report holds more refused rows than shown.
	MoreErrors bool
	Self       string
	Report     string
}

// importProgress shows an import's progress, refreshing itself every
// second while it runs, then what it did and the rows it refused.
func (d *Dashboard) importProgress(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Import progress")
	if err != nil {
		return err
	}
	p.Nav = "contacts"
	imp, err := d.Imports.Status(r.Context(), p.WS.ID, r.PathValue("import_id"))
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("import")
	} else if err != nil {
		return err
	}
	v := &progressView{Import: imp, Self: importPath(p.WS.ID, imp.ID),
		Report:  "/api/v1/workspaces/" + p.WS.ID + "/contact-imports/" + imp.ID + "/report.csv",
		Running: imp.State == csvio.StatePending || imp.State == csvio.StateRunning}
	if imp.Total > 0 {
		v.Percent = imp.Done * 100 / imp.Total
	}
	if imp.Failed > 0 {
		if v.Errors, err = d.Imports.RowErrors(r.Context(), p.WS.ID, imp.ID, 0, importErrorRows); err != nil {
			return err
		}
		v.MoreErrors = imp.Failed > len(v.Errors)
	}
	p.Data = v
	return d.render(w, http.StatusOK, "contact_import_progress", p)
}

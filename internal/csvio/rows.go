package csvio

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/validate"
)

// errRaced: another run of the same import committed the batch first (a
// lease that ran out while the first run was alive). The job is retried
// and resumes from what was committed.
var errRaced = errors.New("csvio: import: another run progressed first")

// run is one run of an import's job: the file, its mapping and what the
// rows need looked up once.
type run struct {
	ws, id string
	t      *table
	cols   []column
	dedupe int // index in cols, -1 for none
	opt    Options
	by     contact.By
	tags   map[string]bool   // tag name → known (only without CreateTags)
	emails map[string]string // e-mail → contact ID, with an e-mail dedupe column
}

// RowError is a refused row: its line in the file, the column (header; ""
// for the whole row) and what is wrong, in words a person can act on.
type RowError struct {
	Row     int
	Column  string
	Message string
}

// Process runs (or resumes) the workspace's import id: the handler of the
// import job, safe to call again after any failure. Rows already committed
// are skipped; an import finished or deleted is left alone. An import that
// can no longer run (its file cannot be opened, a mapped field was
// archived) ends as failed, with the reason in Import.Error.
func (im *Importer) Process(ctx context.Context, workspaceID, id string) error {
	r, err := load(ctx, im.d.R, workspaceID, id, true)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("csvio: import: %w", err)
	}
	if r.State == string(StateDone) || r.State == string(StateFailed) {
		return nil
	}
	imp, err := r.imp()
	if err != nil {
		return fmt.Errorf("csvio: import: %w", err)
	}
	fail := func(msg string) error {
		if err := im.end(ctx, workspaceID, id, StateFailed, msg); err != nil {
			return fmt.Errorf("csvio: import: %w", err)
		}
		return nil
	}
	data, err := im.kr.OpenWorkspace(ctx, fileAAD(workspaceID, id), r.File)
	if err != nil {
		return fail("The uploaded file can no longer be read.")
	}
	t, err := read(data)
	if err != nil {
		return fail("The uploaded file can no longer be read.")
	}
	cols, dedupe, err := imp.Options.check(ctx, im.contacts, workspaceID, t.headers)
	if errors.Is(err, ErrInvalid) {
		return fail(strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	} else if err != nil {
		return fmt.Errorf("csvio: import: %w", err)
	}
	ru := &run{ws: workspaceID, id: id, t: t, cols: cols, dedupe: dedupe, opt: imp.Options, by: parseBy(imp.CreatedBy),
		tags: map[string]bool{}}
	if dedupe >= 0 && cols[dedupe].field.Type == contact.FieldEmail {
		if ru.emails, err = im.emailIndex(ctx, ru); err != nil {
			return fmt.Errorf("csvio: import: %w", err)
		}
	}
	if _, err := im.d.W.NewRaw(`UPDATE contact_imports SET state = 'running', updated_at = ? WHERE workspace_id = ? AND id = ? AND state = 'pending'`,
		im.now().UTC().Truncate(time.Microsecond), workspaceID, id).Exec(ctx); err != nil {
		return fmt.Errorf("csvio: import: %w", err)
	}
	batch := im.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	for start := imp.Done; start < len(t.rows); start += batch {
		end := min(start+batch, len(t.rows))
		if err := im.batch(ctx, ru, start, end); err != nil {
			return fmt.Errorf("csvio: import: %w", err)
		}
		if im.afterBatch != nil {
			im.afterBatch(end)
		}
	}
	if err := im.end(ctx, workspaceID, id, StateDone, ""); err != nil {
		return fmt.Errorf("csvio: import: %w", err)
	}
	return nil
}

// batch handles rows [start, end) in one transaction, with the progress.
func (im *Importer) batch(ctx context.Context, ru *run, start, end int) error {
	return im.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := `SELECT done_rows FROM contact_imports WHERE workspace_id = ? AND id = ?`
		if im.d.Dialect == db.Postgres {
			q += ` FOR UPDATE`
		}
		var done int
		if err := tx.NewRaw(q, ru.ws, ru.id).Scan(ctx, &done); err != nil {
			return db.NoRows(err)
		}
		if done != start {
			return errRaced
		}
		var created, updated, failed int
		for i := start; i < end; i++ {
			isNew, rowErr, err := im.row(ctx, tx, ru, i)
			if err != nil {
				return err
			}
			switch {
			case rowErr != nil:
				failed++
				if err := im.recordError(ctx, tx, ru, i, *rowErr); err != nil {
					return err
				}
			case isNew:
				created++
			default:
				updated++
			}
		}
		_, err := tx.NewRaw(`UPDATE contact_imports SET done_rows = ?, created_rows = created_rows + ?, updated_rows = updated_rows + ?,
			failed_rows = failed_rows + ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			end, created, updated, failed, im.now().UTC().Truncate(time.Microsecond), ru.ws, ru.id).Exec(ctx)
		return err
	})
}

// parsed is a row checked and normalized, ready to apply.
type parsed struct {
	first, last string
	fields      []applied
	tags        []applied
	stage       *string
	stageCol    string
	match       string // the dedupe column's value, normalized
}

// applied is a value to apply and the column it came from.
type applied struct {
	key, value, header string
}

// splitTags splits a tag cell on , ; and |.
func splitTags(cell string) []string {
	var out []string
	for _, n := range strings.FieldsFunc(cell, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// check validates row i, returning it parsed or the reason it is refused.
func (im *Importer) check(ctx context.Context, ru *run, i int) (parsed, *RowError, error) {
	rec := ru.t.rows[i]
	refuse := func(col, msg string) (parsed, *RowError, error) {
		return parsed{}, &RowError{Row: ru.t.lines[i], Column: col, Message: msg}, nil
	}
	if len(rec) != len(ru.t.headers) {
		return refuse("", fmt.Sprintf("The row has %d cells; the header has %d.", len(rec), len(ru.t.headers)))
	}
	for j, cell := range rec {
		if !utf8.ValidString(cell) {
			return refuse(ru.t.headers[j], "The cell is not valid UTF-8 text.")
		}
	}
	var p parsed
	some := false
	for k, c := range ru.cols {
		cell := unneutralize(strings.TrimSpace(rec[c.index]))
		if cell == "" {
			continue
		}
		some = true
		switch {
		case c.target == TargetFirstName:
			p.first = cell
		case c.target == TargetLastName:
			p.last = cell
		case c.target == TargetStage:
			s, err := contact.CheckStage(cell)
			if err != nil {
				return refuse(c.header, message(err))
			}
			p.stage, p.stageCol = &s, c.header
		case c.target == TargetTag:
			for _, name := range splitTags(cell) {
				if !ru.opt.CreateTags {
					known, err := im.tagKnown(ctx, ru, name)
					if err != nil {
						return parsed{}, nil, err
					}
					if !known {
						return refuse(c.header, "The workspace has no such tag; create it in Settings → Tags, or let the import create tags.")
					}
				}
				p.tags = append(p.tags, applied{value: name, header: c.header})
			}
		default:
			text, err := c.field.Parse(cell, ru.opt.Region)
			if err != nil {
				return refuse(c.header, message(err))
			}
			p.fields = append(p.fields, applied{key: c.field.Key, value: text, header: c.header})
			if k == ru.dedupe {
				p.match = text
			}
		}
	}
	if !some {
		return refuse("", "The row has nothing to import.")
	}
	return p, nil, nil
}

// message is what a person reads of a refused value.
func message(err error) string {
	if v, ok := validate.As(err); ok {
		return v.Message
	}
	return "The value is not valid."
}

func (im *Importer) tagKnown(ctx context.Context, ru *run, name string) (bool, error) {
	key := strings.ToLower(name)
	if known, ok := ru.tags[key]; ok {
		return known, nil
	}
	_, err := im.contacts.TagByName(ctx, ru.ws, name)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return false, err
	}
	ru.tags[key] = err == nil
	return err == nil, nil
}

// rowLevel reports whether err refuses the row rather than the batch: bad
// input, not a database failure.
func rowLevel(err error) bool {
	_, ok := validate.As(err)
	return ok || errors.Is(err, contact.ErrInvalid) || errors.Is(err, contact.ErrFieldArchived) || errors.Is(err, contact.ErrNoSuchField)
}

// row applies row i inside tx, in a savepoint of its own: it creates the
// contact (or updates the one it matches) with its fields, tags and stage.
func (im *Importer) row(ctx context.Context, tx bun.Tx, ru *run, i int) (bool, *RowError, error) {
	p, rowErr, err := im.check(ctx, ru, i)
	if err != nil || rowErr != nil {
		return false, rowErr, err
	}
	var id string
	created := false
	col := "" // the column of the step being applied, for a refusal
	err = tx.RunInTx(ctx, nil, func(ctx context.Context, sp bun.Tx) error {
		var err error
		if id, err = im.match(ctx, sp, ru, p.match); err != nil {
			return err
		}
		if id == "" {
			col = ""
			c, err := im.contacts.Create(ctx, sp, ru.ws, contact.NewContact{FirstName: p.first, LastName: p.last, By: ru.by})
			if err != nil {
				return err
			}
			id, created = c.ID, true
		}
		for _, f := range p.fields {
			col = f.header
			if _, err := im.contacts.SetField(ctx, sp, ru.ws, id, f.key, f.value, contact.SetOptions{By: ru.by, Region: ru.opt.Region}); err != nil {
				return err
			}
		}
		for _, tg := range p.tags {
			col = tg.header
			if _, _, err := im.contacts.TagContact(ctx, sp, ru.ws, id, tg.value, ru.opt.CreateTags, ru.by); err != nil {
				return err
			}
		}
		col = p.stageCol
		if p.stage != nil {
			if _, err := im.contacts.SetStage(ctx, sp, ru.ws, id, *p.stage, ru.by); err != nil {
				return err
			}
			if im.Stages != nil {
				if err := im.Stages.SyncStage(ctx, sp, ru.ws, id, *p.stage, ru.by); err != nil {
					return err
				}
			}
		}
		if im.activity == nil {
			return nil
		}
		what := "updated"
		if created {
			what = "created"
		}
		return im.activity.Record(ctx, sp, activity.Entry{WorkspaceID: ru.ws, ContactID: id, Kind: activity.KindImport,
			Actor: ru.by.String(), Data: map[string]string{"import_id": ru.id, "action": what}})
	})
	if err != nil {
		if rowLevel(err) {
			if v, ok := validate.As(err); ok && col == "" {
				col = ru.header(v.Field) // a name refused by Create
			}
			return false, &RowError{Row: ru.t.lines[i], Column: col, Message: message(err)}, nil
		}
		return false, nil, err
	}
	if created && ru.emails != nil && p.match != "" {
		ru.emails[emailKey(p.match)] = id
	}
	return created, nil, nil
}

// header is the column mapped to target (first_name, last_name).
func (ru *run) header(target string) string {
	for _, c := range ru.cols {
		if c.target == target {
			return c.header
		}
	}
	return ""
}

// match returns the contact a row's dedupe value designates ("" for none).
func (im *Importer) match(ctx context.Context, idb bun.IDB, ru *run, value string) (string, error) {
	if value == "" || ru.dedupe < 0 {
		return "", nil
	}
	if ru.emails != nil {
		return ru.emails[emailKey(value)], nil
	}
	ids, err := im.contacts.ByPhone(ctx, idb, ru.ws, value)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// valueAAD is how package contact binds a sealed field value
// (contact.valueAAD); the dedupe tests fail if the two ever differ.
func valueAAD(workspaceID, contactID, fieldID string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "contact_field_values", Column: "value", Row: contactID + "/" + fieldID}
}

// emailKey is what two e-mail addresses are matched on: people do not
// write the local part's letter case consistently, and mail systems ignore
// it in practice.
func emailKey(addr string) string { return strings.ToLower(addr) }

// emailIndex opens the workspace's values of the dedupe e-mail field once,
// in contact ID order (oldest first), and keeps those the file names.
func (im *Importer) emailIndex(ctx context.Context, ru *run) (map[string]string, error) {
	c := ru.cols[ru.dedupe]
	wanted := map[string]bool{}
	for _, rec := range ru.t.rows {
		if c.index < len(rec) {
			if v, err := c.field.Parse(unneutralize(strings.TrimSpace(rec[c.index])), ""); err == nil {
				wanted[emailKey(v)] = true
			}
		}
	}
	out := map[string]string{}
	after := ""
	for {
		var rows []struct {
			ContactID string `bun:"contact_id"`
			Value     []byte `bun:"value"`
		}
		if err := im.d.R.NewRaw(`SELECT contact_id, value FROM contact_field_values WHERE field_id = ? AND workspace_id = ? AND contact_id > ?
			ORDER BY contact_id LIMIT 500`, c.field.ID, ru.ws, after).Scan(ctx, &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			after = r.ContactID
			pt, err := im.kr.OpenContact(ctx, valueAAD(ru.ws, r.ContactID, c.field.ID), r.ContactID, r.Value)
			if errors.Is(err, keyring.ErrKeyDestroyed) {
				continue
			} else if err != nil {
				return nil, err
			}
			if v := emailKey(string(pt)); wanted[v] && out[v] == "" {
				out[v] = r.ContactID
			}
		}
		if len(rows) < 500 {
			return out, nil
		}
	}
}

// rowAAD binds a refused row's sealed cells to its import and line.
func rowAAD(workspaceID, importID string, row int) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "contact_import_errors", Column: "row", Row: fmt.Sprintf("%s/%d", importID, row)}
}

// recordError stores a refused row with its cells sealed.
func (im *Importer) recordError(ctx context.Context, tx bun.Tx, ru *run, i int, e RowError) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	rec := make([]string, len(ru.t.rows[i]))
	for j, cell := range ru.t.rows[i] {
		rec[j] = strings.ToValidUTF8(cell, "\uFFFD")
	}
	if err := w.Write(rec); err != nil {
		return err
	}
	w.Flush()
	sealed, err := im.kr.SealWorkspaceTx(ctx, tx, rowAAD(ru.ws, ru.id, e.Row), b.Bytes())
	if err != nil {
		return err
	}
	_, err = tx.NewRaw(`INSERT INTO contact_import_errors (import_id, workspace_id, row_no, col, message, row_data)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (import_id, row_no) DO NOTHING`, ru.id, ru.ws, e.Row, e.Column, e.Message, sealed).Exec(ctx)
	return err
}

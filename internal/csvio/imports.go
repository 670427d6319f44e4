package csvio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
)

// Kind is the job kind of an import.
const Kind = "csvio.import"

// Audit actions of imports (target type "contact_import"). Details hold
// counts only, never the file's content.
const (
	ActionImportStart  = "contact_import.start"
	ActionImportFinish = "contact_import.finish"
	ActionImportFail   = "contact_import.fail"
	ActionImportDelete = "contact_import.delete"
	targetImport       = "contact_import"
)

// DefaultBatch is how many rows commit together.
const DefaultBatch = 100

// maxAttempts is how many runs an import's job gets; when the last one
// fails the import ends as failed rather than running forever.
const maxAttempts = 10

// State is where an import is in its life.
type State string

// Import states (column contact_imports.state).
const (
	StatePending State = "pending"
	StateRunning State = "running"
	StateDone    State = "done"
	StateFailed  State = "failed"
)

// Import is the progress of one import.
type Import struct {
	ID          string
	WorkspaceID string
	State       State
	Options     Options
	// Total counts the file's data rows; Done those handled so far, of
	// which Created made a contact, Updated matched one and Failed were
	// refused (see RowErrors and Report).
	Total, Done, Created, Updated, Failed int
	// Error says why a failed import stopped ("" otherwise).
	Error string
	// CreatedBy is who started it, as contact.By writes it.
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time // zero until done or failed
}

// Importer runs CSV imports of contacts.
type Importer struct {
	d        *db.DB
	kr       *keyring.Keyring
	contacts *contact.Store
	jobs     *job.Queue
	activity *activity.Store
	now      func() time.Time
	// Batch is how many rows commit together (DefaultBatch when 0).
	Batch int
	// Stages keeps the pipelines' boards in step with lead stages set by
	// an import (package pipeline's Store; nil: no pipelines to follow).
	Stages StageSync
	// afterBatch, when set (tests), runs after each committed batch.
	afterBatch func(done int)
}

// NewImporter returns an Importer. jobs runs the import job (call
// Register before the queue starts); act records an "import" entry on
// every contact created or updated (nil records none); now is the clock.
func NewImporter(d *db.DB, kr *keyring.Keyring, contacts *contact.Store, jobs *job.Queue, act *activity.Store, now func() time.Time) *Importer {
	return &Importer{d: d, kr: kr, contacts: contacts, jobs: jobs, activity: act, now: now}
}

// StageSync is what an import needs of pipelines: a lead stage it sets
// places or moves the contact's card on the default pipeline, in the same
// transaction (package pipeline's Store.SyncStage).
type StageSync interface {
	SyncStage(ctx context.Context, tx bun.IDB, workspaceID, contactID, stage string, by contact.By) error
}

// payload is the job's payload: IDs only, never personal data.
type payload struct {
	WS string `json:"ws"`
	ID string `json:"id"`
}

// fileAAD binds the sealed upload to its import.
func fileAAD(workspaceID, id string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "contact_imports", Column: "file", Row: id}
}

// Register installs the import job's handler on the queue.
func (im *Importer) Register() {
	im.jobs.Register(Kind, func(ctx context.Context, j *job.Job) error {
		var p payload
		if err := j.Decode(&p); err != nil {
			return err
		}
		err := im.Process(ctx, p.WS, p.ID)
		if err != nil && j.Attempts >= maxAttempts && ctx.Err() == nil {
			if endErr := im.end(ctx, p.WS, p.ID, StateFailed, "The import stopped after repeated errors; the rows imported so far are kept."); endErr != nil {
				return errors.Join(err, endErr)
			}
			return job.Permanent(err)
		}
		return err
	}, job.MaxAttempts(maxAttempts), job.Timeout(15*time.Minute))
}

// Start checks the upload and its mapping, stores the file sealed under
// the workspace key and enqueues the import, recording
// contact_import.start. A file or mapping that cannot be imported gets
// ErrInvalid with a message for the person mapping it.
func (im *Importer) Start(ctx context.Context, a audit.Actor, workspaceID string, data []byte, o Options) (Import, error) {
	t, err := read(data)
	if err != nil {
		return Import{}, fmt.Errorf("csvio: start import: %w", err)
	}
	if len(t.rows) == 0 {
		return Import{}, fmt.Errorf("csvio: start import: %w: the file has no rows", ErrInvalid)
	}
	cols, _, err := o.check(ctx, im.contacts, workspaceID, t.headers)
	if err != nil {
		return Import{}, fmt.Errorf("csvio: start import: %w", err)
	}
	if o.Mapping == nil {
		o.Mapping = Mapping{}
	}
	o.Headers = t.headers
	opts, err := json.Marshal(o)
	if err != nil {
		return Import{}, fmt.Errorf("csvio: start import: %w", err)
	}
	now := im.now().UTC().Truncate(time.Microsecond)
	imp := Import{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, State: StatePending, Options: o,
		Total: len(t.rows), CreatedBy: contact.ByActor(a).String(), CreatedAt: now, UpdatedAt: now}
	err = im.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		sealed, err := im.kr.SealWorkspaceTx(ctx, tx, fileAAD(workspaceID, imp.ID), data)
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO contact_imports (id, workspace_id, state, file, options, total_rows, created_by, created_at, updated_at)
			VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?)`, imp.ID, workspaceID, sealed, string(opts), imp.Total, imp.CreatedBy, now, now).Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionImportStart, targetImport, imp.ID,
			map[string]string{"rows": strconv.Itoa(imp.Total), "columns": strconv.Itoa(len(cols))}); err != nil {
			return err
		}
		_, err = im.jobs.Enqueue(ctx, tx, Kind, payload{WS: workspaceID, ID: imp.ID}, job.Unique(Kind+":"+imp.ID))
		return err
	})
	if err != nil {
		return Import{}, fmt.Errorf("csvio: start import: %w", err)
	}
	im.jobs.Notify()
	return imp, nil
}

const importCols = `id, workspace_id, state, options, total_rows, done_rows, created_rows, updated_rows, failed_rows,
	error, created_by, created_at, updated_at, finished_at`

type importRow struct {
	ID          string     `bun:"id"`
	WorkspaceID string     `bun:"workspace_id"`
	State       string     `bun:"state"`
	Options     string     `bun:"options"`
	Total       int        `bun:"total_rows"`
	Done        int        `bun:"done_rows"`
	Created     int        `bun:"created_rows"`
	Updated     int        `bun:"updated_rows"`
	Failed      int        `bun:"failed_rows"`
	Error       string     `bun:"error"`
	CreatedBy   string     `bun:"created_by"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	FinishedAt  *time.Time `bun:"finished_at"`
	File        []byte     `bun:"file"`
}

func (r *importRow) imp() (Import, error) {
	i := Import{ID: r.ID, WorkspaceID: r.WorkspaceID, State: State(r.State), Total: r.Total, Done: r.Done,
		Created: r.Created, Updated: r.Updated, Failed: r.Failed, Error: r.Error, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.FinishedAt != nil {
		i.FinishedAt = r.FinishedAt.UTC()
	}
	if err := json.Unmarshal([]byte(r.Options), &i.Options); err != nil {
		return Import{}, fmt.Errorf("import %s: options: %w", r.ID, err)
	}
	return i, nil
}

// load reads an import through idb, with its sealed file when withFile.
func load(ctx context.Context, idb bun.IDB, workspaceID, id string, withFile bool) (importRow, error) {
	cols := importCols
	if withFile {
		cols += `, file`
	}
	var r importRow
	err := idb.NewRaw(`SELECT `+cols+` FROM contact_imports WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r)
	return r, db.NoRows(err)
}

// Status returns the workspace's import with its progress (db.ErrNotFound
// for another workspace's).
func (im *Importer) Status(ctx context.Context, workspaceID, id string) (Import, error) {
	r, err := load(ctx, im.d.R, workspaceID, id, false)
	if err != nil {
		return Import{}, fmt.Errorf("csvio: import status: %w", err)
	}
	i, err := r.imp()
	if err != nil {
		return Import{}, fmt.Errorf("csvio: import status: %w", err)
	}
	return i, nil
}

// List returns the workspace's most recent imports, newest first (at most
// 50).
func (im *Importer) List(ctx context.Context, workspaceID string) ([]Import, error) {
	var rows []importRow
	if err := im.d.R.NewRaw(`SELECT `+importCols+` FROM contact_imports WHERE workspace_id = ?
		ORDER BY created_at DESC, id DESC LIMIT 50`, workspaceID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("csvio: list imports: %w", err)
	}
	out := make([]Import, 0, len(rows))
	for i := range rows {
		imp, err := rows[i].imp()
		if err != nil {
			return nil, fmt.Errorf("csvio: list imports: %w", err)
		}
		out = append(out, imp)
	}
	return out, nil
}

// Delete deletes the workspace's import with its refused rows (and its
// file, if it still runs: the job then finds nothing and stops), and
// records contact_import.delete. Contacts it created stay.
func (im *Importer) Delete(ctx context.Context, a audit.Actor, workspaceID, id string) error {
	err := im.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := db.OneRow(tx.NewRaw(`DELETE FROM contact_imports WHERE workspace_id = ? AND id = ?`, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, im.now().UTC().Truncate(time.Microsecond), workspaceID, a, ActionImportDelete, targetImport, id, nil)
	})
	if err != nil {
		return fmt.Errorf("csvio: delete import: %w", err)
	}
	return nil
}

// parseBy reads a contact.By as String wrote it.
func parseBy(s string) contact.By {
	kind, id, _ := strings.Cut(s, ":")
	return contact.By{Kind: contact.ByKind(kind), ID: id}
}

// end marks the import finished (done, or failed with msg), drops its file
// and records the outcome. It does nothing to an import already finished.
func (im *Importer) end(ctx context.Context, workspaceID, id string, state State, msg string) error {
	return im.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := im.now().UTC().Truncate(time.Microsecond)
		res, err := tx.NewRaw(`UPDATE contact_imports SET state = ?, error = ?, file = NULL, finished_at = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ? AND state IN ('pending', 'running')`, string(state), msg, now, now, workspaceID, id).Exec(ctx)
		if err := db.OneRow(res, err); errors.Is(err, db.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		r, err := load(ctx, tx, workspaceID, id, false)
		if err != nil {
			return err
		}
		action := ActionImportFinish
		if state == StateFailed {
			action = ActionImportFail
		}
		return audit.Record(ctx, tx, now, workspaceID, audit.Actor{}, action, targetImport, id, map[string]string{
			"rows": strconv.Itoa(r.Total), "created": strconv.Itoa(r.Created),
			"updated": strconv.Itoa(r.Updated), "failed": strconv.Itoa(r.Failed)})
	})
}

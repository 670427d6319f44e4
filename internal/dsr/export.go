package dsr

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
)

// Job kinds: KindExportJob builds one archive; KindExpireJob (periodic,
// every ExpireEvery) drops archives whose link has expired.
const (
	KindExportJob = "dsr.export"
	KindExpireJob = "dsr.expire_exports"
	ExpireEvery   = time.Hour
)

// Audit actions of exports (target type "dsr_export").
const (
	ActionExportStart    = "dsr_export.start"
	ActionExportDownload = "dsr_export.download"
	targetExport         = "dsr_export"
)

// ExportState is where an export is.
type ExportState string

// Export states (column dsr_exports.state).
const (
	ExportPending ExportState = "pending"
	ExportRunning ExportState = "running"
	ExportDone    ExportState = "done"
	ExportFailed  ExportState = "failed"
	ExportExpired ExportState = "expired"
)

// exportAttempts is how many runs an export job gets before it fails.
const exportAttempts = 5

// Export is one export archive of a contact and its progress.
type Export struct {
	ID, WorkspaceID, ContactID string
	// RequestID is the export or access request it answers ("" for none).
	RequestID string
	State     ExportState
	// StepsDone of StepsTotal (conversations read so far).
	StepsDone, StepsTotal int
	// SizeBytes is the archive's size once done.
	SizeBytes int64
	// Error says why it failed, safe to show ("" otherwise).
	Error      string
	Downloads  int
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time // zero until done or failed
	// ExpiresAt is when the download link stops working (zero until done).
	ExpiresAt time.Time
}

// Downloadable reports whether the archive can be downloaded at now.
func (e Export) Downloadable(now time.Time) bool {
	return e.State == ExportDone && now.Before(e.ExpiresAt)
}

// archiveAAD binds a sealed archive to its export row.
func archiveAAD(workspaceID, id string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "dsr_exports", Column: "archive", Row: id}
}

type exportPayload struct {
	WS string `json:"ws"`
	ID string `json:"id"`
}

// Register installs the export and expiry jobs on the queue (before it
// starts).
func (s *Service) Register() {
	s.opt.Jobs.Register(KindExportJob, func(ctx context.Context, j *job.Job) error {
		var p exportPayload
		if err := j.Decode(&p); err != nil {
			return job.Permanent(err)
		}
		err := s.build(ctx, p.WS, p.ID)
		if errors.Is(err, db.ErrNotFound) {
			// The export or its contact is gone (erased): nothing to do.
			return nil
		}
		if errors.Is(err, errTooLarge) {
			// Building it again would make the same archive: fail now,
			// saying why.
			s.fail(ctx, p.WS, p.ID, tooLargeMessage(s.opt.MaxArchiveBytes))
			return job.Permanent(err)
		}
		if err != nil && j.Attempts >= exportAttempts && ctx.Err() == nil {
			s.fail(ctx, p.WS, p.ID, "The export stopped after repeated errors. Start it again.")
			return job.Permanent(err)
		}
		return err
	}, job.MaxAttempts(exportAttempts), job.Timeout(30*time.Minute))
	s.opt.Jobs.Register(KindExpireJob, func(ctx context.Context, _ *job.Job) error {
		_, err := s.ExpireArchives(ctx, 500)
		return err
	})
	s.opt.Jobs.Periodic("drop expired data-subject export archives", ExpireEvery, KindExpireJob)
}

// StartExport enqueues an export of the workspace's contact, audit-logged
// (dsr_export.start); ErrExportRunning while another is being built. requestID, when set, names the open export or access
// request the archive answers; it is completed when the archive is ready.
func (s *Service) StartExport(ctx context.Context, a audit.Actor, workspaceID, contactID, requestID string) (Export, error) {
	now := s.now()
	e := Export{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, ContactID: contactID, RequestID: requestID,
		State: ExportPending, CreatedBy: contact.ByActor(a).String(), CreatedAt: now, UpdatedAt: now}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := contact.Check(ctx, tx, workspaceID, contactID); err != nil {
			return err
		}
		var running int
		if err := tx.NewRaw(`SELECT count(*) FROM dsr_exports WHERE workspace_id = ? AND contact_id = ? AND state IN ('pending', 'running')`,
			workspaceID, contactID).Scan(ctx, &running); err != nil {
			return err
		}
		if running > 0 {
			return ErrExportRunning
		}
		if requestID != "" {
			r, err := getRequest(ctx, tx, workspaceID, requestID)
			if errors.Is(err, db.ErrNotFound) || (err == nil && (r.ContactID != contactID || (r.Kind != KindExport && r.Kind != KindAccess) || !r.Open())) {
				return invalid("request_id", "Name an open export or access request about this contact.")
			}
			if err != nil {
				return err
			}
		}
		if _, err := tx.NewRaw(`INSERT INTO dsr_exports (id, workspace_id, contact_id, request_id, state, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`, e.ID, workspaceID, contactID, nullString(requestID), e.CreatedBy, now, now).Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionExportStart, targetExport, e.ID, map[string]string{"contact_id": contactID}); err != nil {
			return err
		}
		_, err := s.opt.Jobs.Enqueue(ctx, tx, KindExportJob, exportPayload{WS: workspaceID, ID: e.ID}, job.Unique(KindExportJob+":"+e.ID))
		return err
	})
	if err != nil {
		return Export{}, fmt.Errorf("dsr: start export: %w", err)
	}
	s.opt.Jobs.Notify()
	return e, nil
}

// build makes the archive of export id: the document and attachments,
// zipped, sealed under the contact's key and stored with the row. Run
// again after a crash, it starts over (nothing half-made is kept).
func (s *Service) build(ctx context.Context, workspaceID, id string) error {
	e, err := getExport(ctx, s.d.R, workspaceID, id)
	if err != nil {
		return err
	}
	if e.State != ExportPending && e.State != ExportRunning {
		return nil
	}
	if err := s.progress(ctx, e, ExportRunning, 0, 0); err != nil {
		return err
	}
	doc, err := s.document(ctx, workspaceID, e.ContactID, func(done, total int) error {
		return s.progress(ctx, e, ExportRunning, done, total)
	})
	if err != nil {
		return fmt.Errorf("dsr: export: %w", err)
	}
	data, err := s.zip(ctx, workspaceID, &doc)
	if err != nil {
		return fmt.Errorf("dsr: export: %w", err)
	}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The contact may have been erased while the archive was built:
		// sealing would create a new key for it.
		if err := contact.Check(ctx, tx, workspaceID, e.ContactID); err != nil {
			return err
		}
		sealed, err := s.kr.SealContactTx(ctx, tx, archiveAAD(workspaceID, id), e.ContactID, data)
		if err != nil {
			return err
		}
		now := s.now()
		res, err := tx.NewRaw(`UPDATE dsr_exports SET state = 'done', archive = ?, size_bytes = ?, updated_at = ?, finished_at = ?, expires_at = ?,
			steps_done = steps_total WHERE workspace_id = ? AND id = ? AND state IN ('pending', 'running')`,
			sealed, len(data), now, now, now.Add(s.opt.ExportTTL), workspaceID, id).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return db.ErrNotFound
		}
		if e.RequestID == "" {
			return nil
		}
		r, err := getRequest(ctx, tx, workspaceID, e.RequestID)
		if err != nil || !r.Open() {
			return nil // answered or refused meanwhile: the archive stands alone
		}
		_, err = s.move(ctx, tx, audit.Actor{}, workspaceID, e.RequestID, StateCompleted, "")
		return err
	})
	if err != nil {
		return fmt.Errorf("dsr: export: store: %w", err)
	}
	return nil
}

// errTooLarge stops an archive growing past Options.MaxArchiveBytes.
var errTooLarge = errors.New("archive too large")

// tooLargeMessage is the failed export's message, safe to show.
func tooLargeMessage(limit int64) string {
	return fmt.Sprintf("This person's data and attachments make an archive larger than %d MB, the most one export can hold. "+
		"Their attachments can be downloaded one by one from their conversations.", limit>>20)
}

// capped is a writer that refuses to grow past max bytes.
type capped struct {
	buf *bytes.Buffer
	max int64
}

func (c capped) Write(p []byte) (int, error) {
	if int64(c.buf.Len()+len(p)) > c.max {
		return 0, errTooLarge
	}
	return c.buf.Write(p)
}

// zip writes contact.json and the attachments into a zip archive of at
// most Options.MaxArchiveBytes (errTooLarge beyond).
func (s *Service) zip(ctx context.Context, workspaceID string, doc *Document) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(capped{buf: &buf, max: s.opt.MaxArchiveBytes})
	seen := map[string]int{}
	if s.opt.Media != nil {
		err := s.opt.Media.ContactObjects(ctx, workspaceID, doc.Contact.ID, func(name, contentType string, r io.Reader) error {
			name = safeName(name, seen)
			w, err := zw.Create("attachments/" + name)
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, r); err != nil {
				return err
			}
			doc.Attachments = append(doc.Attachments, "attachments/"+name)
			return nil
		}, func(name, reason string) {
			doc.NotIncluded = append(doc.NotIncluded, DocNotIncluded{Name: path.Base(strings.ReplaceAll(name, "\\", "/")), Reason: reason})
		})
		if err != nil {
			return nil, fmt.Errorf("attachments: %w", err)
		}
	}
	w, err := zw.Create("contact.json")
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// safeName keeps an attachment's name to a plain, unique base name inside
// the archive (no directories, no "..", no duplicates).
func safeName(name string, seen map[string]int) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == ".." || name == "" {
		name = "file"
	}
	seen[name]++
	if n := seen[name]; n > 1 {
		ext := path.Ext(name)
		name = strings.TrimSuffix(name, ext) + "-" + strconv.Itoa(n) + ext
	}
	return name
}

// progress records the export's state and steps.
func (s *Service) progress(ctx context.Context, e Export, st ExportState, done, total int) error {
	_, err := s.d.W.NewRaw(`UPDATE dsr_exports SET state = ?, steps_done = ?, steps_total = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ? AND state IN ('pending', 'running')`, string(st), done, total, s.now(), e.WorkspaceID, e.ID).Exec(ctx)
	return err
}

// fail marks an export failed for good with msg, safe to show (best
// effort: the job fails anyway).
func (s *Service) fail(ctx context.Context, workspaceID, id, msg string) {
	now := s.now()
	if _, err := s.d.W.NewRaw(`UPDATE dsr_exports SET state = 'failed', error = ?, updated_at = ?, finished_at = ?
		WHERE workspace_id = ? AND id = ? AND state IN ('pending', 'running')`,
		msg, now, now, workspaceID, id).Exec(ctx); err != nil {
		s.log.Error("dsr: mark export failed", "export", id, "error", err)
	}
}

const exportCols = `id, workspace_id, contact_id, coalesce(request_id, '') AS request_id, state, steps_done, steps_total, size_bytes,
	error, downloads, created_by, created_at, updated_at, finished_at, expires_at`

type exportRow struct {
	ID          string     `bun:"id"`
	WorkspaceID string     `bun:"workspace_id"`
	ContactID   string     `bun:"contact_id"`
	RequestID   string     `bun:"request_id"`
	State       string     `bun:"state"`
	StepsDone   int        `bun:"steps_done"`
	StepsTotal  int        `bun:"steps_total"`
	SizeBytes   int64      `bun:"size_bytes"`
	Error       string     `bun:"error"`
	Downloads   int        `bun:"downloads"`
	CreatedBy   string     `bun:"created_by"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	FinishedAt  *time.Time `bun:"finished_at"`
	ExpiresAt   *time.Time `bun:"expires_at"`
}

func (r exportRow) export() Export {
	return Export{ID: r.ID, WorkspaceID: r.WorkspaceID, ContactID: r.ContactID, RequestID: r.RequestID, State: ExportState(r.State),
		StepsDone: r.StepsDone, StepsTotal: r.StepsTotal, SizeBytes: r.SizeBytes, Error: r.Error, Downloads: r.Downloads,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), FinishedAt: utc(r.FinishedAt), ExpiresAt: utc(r.ExpiresAt)}
}

func getExport(ctx context.Context, idb bun.IDB, workspaceID, id string) (Export, error) {
	var rows []exportRow
	if err := idb.NewRaw(`SELECT `+exportCols+` FROM dsr_exports WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &rows); err != nil {
		return Export{}, err
	}
	if len(rows) == 0 {
		return Export{}, db.ErrNotFound
	}
	return rows[0].export(), nil
}

// GetExport returns the workspace's export id, or db.ErrNotFound.
func (s *Service) GetExport(ctx context.Context, workspaceID, id string) (Export, error) {
	e, err := getExport(ctx, s.d.R, workspaceID, id)
	if err != nil {
		return Export{}, fmt.Errorf("dsr: get export: %w", err)
	}
	return e, nil
}

// Exports returns the contact's exports, newest first.
func (s *Service) Exports(ctx context.Context, workspaceID, contactID string) ([]Export, error) {
	var rows []exportRow
	if err := s.d.R.NewRaw(`SELECT `+exportCols+` FROM dsr_exports WHERE workspace_id = ? AND contact_id = ? ORDER BY created_at DESC, id DESC LIMIT 50`,
		workspaceID, contactID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("dsr: exports: %w", err)
	}
	out := make([]Export, len(rows))
	for i, r := range rows {
		out[i] = r.export()
	}
	return out, nil
}

// Download opens the export's archive (a zip), counts the download and
// records dsr_export.download. ErrExpired once the link has expired (or
// the archive was dropped); ErrConflict while it is not ready;
// db.ErrNotFound for an unknown or foreign export.
func (s *Service) Download(ctx context.Context, a audit.Actor, workspaceID, id string) (Export, []byte, error) {
	var e Export
	var data []byte
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if e, err = getExport(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		now := s.now()
		switch {
		case e.State == ExportExpired || (e.State == ExportDone && !now.Before(e.ExpiresAt)):
			return ErrExpired
		case e.State != ExportDone:
			return fmt.Errorf("%w: the export is %s", ErrConflict, e.State)
		}
		var sealed []byte
		if err := tx.NewRaw(`SELECT archive FROM dsr_exports WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &sealed); err != nil {
			return err
		}
		if len(sealed) == 0 {
			return ErrExpired
		}
		if data, err = s.kr.OpenContactTx(ctx, tx, archiveAAD(workspaceID, id), e.ContactID, sealed); err != nil {
			if errors.Is(err, keyring.ErrKeyDestroyed) {
				return ErrExpired
			}
			return err
		}
		if _, err := tx.NewRaw(`UPDATE dsr_exports SET downloads = downloads + 1 WHERE workspace_id = ? AND id = ?`, workspaceID, id).Exec(ctx); err != nil {
			return err
		}
		e.Downloads++
		return audit.Record(ctx, tx, now, workspaceID, a, ActionExportDownload, targetExport, id, map[string]string{"contact_id": e.ContactID})
	})
	if err != nil {
		return Export{}, nil, fmt.Errorf("dsr: download export: %w", err)
	}
	return e, data, nil
}

// ExpireArchives drops up to limit archives whose link has expired (the
// rows stay, as expired, until retention deletes them) and returns how
// many it dropped. Short transactions: one UPDATE of a bounded batch.
func (s *Service) ExpireArchives(ctx context.Context, limit int) (int, error) {
	now := s.now()
	res, err := s.d.W.NewRaw(`UPDATE dsr_exports SET state = 'expired', archive = NULL, updated_at = ?
		WHERE id IN (SELECT id FROM dsr_exports WHERE state = 'done' AND expires_at <= ? ORDER BY expires_at LIMIT ?)`, now, now, limit).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("dsr: expire archives: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PurgeExports is the retention Purger of the exports class: it deletes
// up to limit of the workspace's exports created before before, archives
// and all, and returns how many.
func (s *Service) PurgeExports(ctx context.Context, workspaceID string, before time.Time, limit int) (int, error) {
	res, err := s.d.W.NewRaw(`DELETE FROM dsr_exports WHERE id IN (SELECT id FROM dsr_exports WHERE workspace_id = ? AND created_at < ?
		ORDER BY created_at LIMIT ?)`, workspaceID, before.UTC(), limit).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("dsr: purge exports: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

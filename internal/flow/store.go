package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/validate"
)

// Status says whether a flow can run.
type Status string

// Flow statuses.
const (
	// StatusActive flows run their published version, if they have one.
	StatusActive Status = "active"
	// StatusArchived flows never start and cannot be edited or published
	// until restored; conversations already inside one finish it.
	StatusArchived Status = "archived"
)

// Limits of the store.
const (
	// MaxFlows is the most flows (archived ones included) a workspace may
	// keep. Every published flow is loaded when a workspace's triggers are
	// compiled, so the number is bounded like the size of each document.
	MaxFlows = 1000
	// MaxNameLen is the longest flow name, in characters.
	MaxNameLen = 200
)

// Audit actions of the store.
const (
	ActionCreate    = "flow.create"
	ActionSaveDraft = "flow.save_draft"
	ActionPublish   = "flow.publish"
	ActionArchive   = "flow.archive"
	ActionRestore   = "flow.restore"
)

// Errors of the store. ErrNoSuchFlow and ErrNoSuchVersion wrap
// db.ErrNotFound, ErrArchived and ErrTooManyFlows wrap db.ErrConflict.
var (
	// ErrNoSuchFlow: no flow with that ID in the workspace. Another
	// workspace's flow gets it too: there is no existence oracle.
	ErrNoSuchFlow = fmt.Errorf("flow: no such flow: %w", db.ErrNotFound)
	// ErrNoSuchVersion: the flow has no published version of that number.
	ErrNoSuchVersion = fmt.Errorf("flow: no such version: %w", db.ErrNotFound)
	// ErrArchived: the flow is archived, so it cannot be edited or
	// published; restore it first.
	ErrArchived = fmt.Errorf("flow: the flow is archived: %w", db.ErrConflict)
	// ErrTooManyFlows: the workspace already keeps MaxFlows flows.
	ErrTooManyFlows = fmt.Errorf("flow: the workspace has %d flows, the most it may keep: %w", MaxFlows, db.ErrConflict)
	// ErrInvalid: the draft has error-level problems, so it was not
	// published. The error is an *InvalidError listing them.
	ErrInvalid = errors.New("flow: the draft has problems")
)

// InvalidError is the error Publish returns for a draft that does not
// validate. It wraps ErrInvalid.
type InvalidError struct {
	// Problems are all the draft's problems, warnings included.
	Problems []Problem
}

// Error implements error.
func (e *InvalidError) Error() string {
	n := 0
	for _, p := range e.Problems {
		if p.Severity == SeverityError {
			n++
		}
	}
	return fmt.Sprintf("flow: the draft has %d problem(s) to fix before it can be published", n)
}

// Unwrap returns ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Flow is one flow of a workspace: its editable draft's name and triggers
// and where its published versions stand. The documents themselves come
// from Get (the draft) and Version.
type Flow struct {
	ID          string
	WorkspaceID string
	// Name is the draft's name.
	Name   string
	Status Status
	// PublishedVersion is the version that runs; 0 when the flow was never
	// published.
	PublishedVersion int
	// PublishedAt is when PublishedVersion was published (zero: never).
	PublishedAt time.Time
	// Changed reports whether the draft was edited since the last publish
	// (always true for a flow never published).
	Changed bool
	// Triggers summarize the draft's triggers, in the document's order.
	Triggers []TriggerSummary
	// CreatedBy is "user:<id>" or "api_key:<id>".
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DraftUpdatedAt time.Time
	// ArchivedAt is when the flow was archived (zero unless archived).
	ArchivedAt time.Time
}

// Store keeps flows: each one's draft and its numbered, immutable
// published versions, both sealed under the workspace key, and the
// per-workspace revision that runners cache compiled triggers by.
//
// Every method takes the workspace ID explicitly and never returns another
// workspace's flow. Methods that change something run their own
// transaction and record an audit entry in it; Version, Published and
// Revision read through the idb they are given, so a runner can call them
// inside its transaction.
type Store struct {
	d        *db.DB
	kr       *keyring.Keyring
	contacts *contact.Store
	now      func() time.Time
	versions *versionCache
}

// NewStore returns a Store on d that seals documents with kr and checks
// documents against the custom fields and tags of contacts; now is the
// clock.
func NewStore(d *db.DB, kr *keyring.Keyring, contacts *contact.Store, now func() time.Time) *Store {
	return &Store{d: d, kr: kr, contacts: contacts, now: now, versions: newVersionCache(versionCacheSize)}
}

// clock returns now in UTC at the microsecond precision both engines
// store, so values returned equal values read back.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

const flowCols = `id, workspace_id, name, status, draft, draft_rev, draft_updated_at, published_version, published_rev,
	published_at, created_by, created_at, updated_at, archived_at`

// flowRow is a flows row as stored; the draft is still sealed.
type flowRow struct {
	ID               string     `bun:"id"`
	WorkspaceID      string     `bun:"workspace_id"`
	Name             string     `bun:"name"`
	Status           string     `bun:"status"`
	Draft            []byte     `bun:"draft"`
	DraftRev         int        `bun:"draft_rev"`
	DraftUpdatedAt   time.Time  `bun:"draft_updated_at"`
	PublishedVersion *int       `bun:"published_version"`
	PublishedRev     *int       `bun:"published_rev"`
	PublishedAt      *time.Time `bun:"published_at"`
	CreatedBy        string     `bun:"created_by"`
	CreatedAt        time.Time  `bun:"created_at"`
	UpdatedAt        time.Time  `bun:"updated_at"`
	ArchivedAt       *time.Time `bun:"archived_at"`
}

// flow returns the row as a Flow summarizing the triggers of draft.
func (r *flowRow) flow(draft Document) Flow {
	f := Flow{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Status: Status(r.Status),
		Changed:   r.PublishedRev == nil || *r.PublishedRev != r.DraftRev,
		Triggers:  Summaries(draft.Triggers),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), DraftUpdatedAt: r.DraftUpdatedAt.UTC(),
	}
	if r.PublishedVersion != nil {
		f.PublishedVersion = *r.PublishedVersion
	}
	if r.PublishedAt != nil {
		f.PublishedAt = r.PublishedAt.UTC()
	}
	if r.ArchivedAt != nil {
		f.ArchivedAt = r.ArchivedAt.UTC()
	}
	return f
}

// row reads one flow of the workspace through idb. With lock set, on
// PostgreSQL the row stays locked until idb's transaction ends, so two
// publishes of one flow take turns (SQLite's single writer does that
// already).
func (s *Store) row(ctx context.Context, idb bun.IDB, workspaceID, id string, lock bool) (*flowRow, error) {
	q := `SELECT ` + flowCols + ` FROM flows WHERE workspace_id = ? AND id = ?`
	if lock && s.d.Dialect == db.Postgres {
		q += ` FOR UPDATE`
	}
	var r flowRow
	if err := idb.NewRaw(q, workspaceID, id).Scan(ctx, &r); err != nil {
		if errors.Is(db.NoRows(err), db.ErrNotFound) {
			return nil, ErrNoSuchFlow
		}
		return nil, err
	}
	return &r, nil
}

// checkName checks and trims a document's name, which names the flow.
func checkName(doc *Document) error {
	if strings.TrimSpace(doc.Name) == "" {
		return validate.Field("name", "Give the flow a name: the document's \"name\" is empty.")
	}
	name, err := validate.Name("name", doc.Name, MaxNameLen, false)
	if err != nil {
		return err
	}
	doc.Name = name
	return nil
}

// Create stores doc as the draft of a new, never published flow of the
// workspace and records flow.create. It returns the flow and the draft's
// problems (which do not stop a draft from being stored). A missing or
// overlong name gets a *validate.Error naming "name"; a workspace at
// MaxFlows gets ErrTooManyFlows.
func (s *Store) Create(ctx context.Context, workspaceID string, by audit.Actor, doc Document) (Flow, []Problem, error) {
	if err := checkName(&doc); err != nil {
		return Flow{}, nil, fmt.Errorf("flow: create: %w", err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	known, err := s.known(ctx, workspaceID, doc, id)
	if err != nil {
		return Flow{}, nil, fmt.Errorf("flow: create: %w", err)
	}
	plain, err := doc.MarshalJSON()
	if err != nil {
		return Flow{}, nil, fmt.Errorf("flow: create: %w", err)
	}
	now := s.clock()
	r := &flowRow{
		ID: id, WorkspaceID: workspaceID, Name: doc.Name, Status: string(StatusActive), DraftRev: 1, DraftUpdatedAt: now,
		CreatedBy: contact.ByActor(by).String(), CreatedAt: now, UpdatedAt: now,
	}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if s.d.Dialect == db.Postgres {
			// Creations in one workspace take turns, so two at once cannot
			// both see room for one more flow (SQLite has one writer).
			if _, err := tx.NewRaw(`SELECT id FROM workspaces WHERE id = ? FOR UPDATE`, workspaceID).Exec(ctx); err != nil {
				return err
			}
		}
		var n int
		if err := tx.NewRaw(`SELECT count(*) FROM flows WHERE workspace_id = ?`, workspaceID).Scan(ctx, &n); err != nil {
			return err
		}
		if n >= MaxFlows {
			return ErrTooManyFlows
		}
		sealed, err := s.kr.SealWorkspaceTx(ctx, tx, draftAAD(workspaceID, id), plain)
		if err != nil {
			return err
		}
		r.Draft = sealed
		if _, err := tx.NewRaw(`INSERT INTO flows (id, workspace_id, name, status, draft, draft_rev, draft_updated_at, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.WorkspaceID, r.Name, r.Status, r.Draft, r.DraftRev, r.DraftUpdatedAt, r.CreatedBy, r.CreatedAt, r.UpdatedAt).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, by, ActionCreate, "flow", id, map[string]any{"name": doc.Name})
	})
	if err != nil {
		return Flow{}, nil, fmt.Errorf("flow: create: %w", err)
	}
	return r.flow(doc), nonNil(Validate(doc, known)), nil
}

// Get returns the workspace's flow and its draft, secret header values
// included: redact the draft (Document.Redact) before showing it to
// anyone. ErrNoSuchFlow when there is no such flow in the workspace.
func (s *Store) Get(ctx context.Context, workspaceID, id string) (Flow, Document, error) {
	r, err := s.row(ctx, s.d.R, workspaceID, id, false)
	if err != nil {
		return Flow{}, Document{}, fmt.Errorf("flow: get: %w", err)
	}
	doc, err := s.openDraft(ctx, nil, r)
	if err != nil {
		return Flow{}, Document{}, fmt.Errorf("flow: get: %w", err)
	}
	return r.flow(doc), doc, nil
}

// Problems returns what stops doc, a document of the workspace's flow id
// ("" for a new one), from being published, against the workspace's
// custom fields, tags and flows: what Publish would say.
func (s *Store) Problems(ctx context.Context, workspaceID, id string, doc Document) ([]Problem, error) {
	known, err := s.known(ctx, workspaceID, doc, id)
	if err != nil {
		return nil, fmt.Errorf("flow: problems: %w", err)
	}
	return nonNil(Validate(doc, known)), nil
}

// SaveDraft replaces the draft of the workspace's flow with doc and
// records flow.save_draft; the published version does not change. A
// secret header that doc leaves empty keeps the value it had in the draft
// when its node still calls the same host (see KeepSecrets), so a draft
// exported or shown redacted, edited and saved back keeps its secrets.
//
// It returns the flow and the saved draft's problems. Errors: a bad name
// (*validate.Error), ErrNoSuchFlow, ErrArchived.
func (s *Store) SaveDraft(ctx context.Context, workspaceID, id string, by audit.Actor, doc Document) (Flow, []Problem, error) {
	if err := checkName(&doc); err != nil {
		return Flow{}, nil, fmt.Errorf("flow: save draft: %w", err)
	}
	known, err := s.known(ctx, workspaceID, doc, id)
	if err != nil {
		return Flow{}, nil, fmt.Errorf("flow: save draft: %w", err)
	}
	var r *flowRow
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if r, err = s.row(ctx, tx, workspaceID, id, true); err != nil {
			return err
		}
		if r.Status == string(StatusArchived) {
			return ErrArchived
		}
		prev, err := s.openDraft(ctx, tx, r)
		if err != nil {
			return err
		}
		doc = KeepSecrets(doc, prev)
		plain, err := doc.MarshalJSON()
		if err != nil {
			return err
		}
		now := s.clock()
		if r.Draft, err = s.kr.SealWorkspaceTx(ctx, tx, draftAAD(workspaceID, id), plain); err != nil {
			return err
		}
		r.Name, r.DraftRev, r.DraftUpdatedAt, r.UpdatedAt = doc.Name, r.DraftRev+1, now, now
		if _, err := tx.NewRaw(`UPDATE flows SET name = ?, draft = ?, draft_rev = ?, draft_updated_at = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, r.Name, r.Draft, r.DraftRev, now, now, workspaceID, id).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, by, ActionSaveDraft, "flow", id, map[string]any{"name": doc.Name})
	})
	if err != nil {
		return Flow{}, nil, fmt.Errorf("flow: save draft: %w", err)
	}
	return r.flow(doc), nonNil(Validate(doc, known)), nil
}

// ListOptions filter List.
type ListOptions struct {
	// Status keeps only flows of this status; "" keeps all.
	Status Status
}

// List returns the workspace's flows, oldest first.
func (s *Store) List(ctx context.Context, workspaceID string, opt ListOptions) ([]Flow, error) {
	q := `SELECT ` + flowCols + ` FROM flows WHERE workspace_id = ?`
	args := []any{workspaceID}
	if opt.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(opt.Status))
	}
	var rows []flowRow
	if err := s.d.R.NewRaw(q+` ORDER BY created_at, id`, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("flow: list: %w", err)
	}
	out := make([]Flow, 0, len(rows))
	for i := range rows {
		doc, err := s.openDraft(ctx, nil, &rows[i])
		if err != nil {
			return nil, fmt.Errorf("flow: list: %w", err)
		}
		out = append(out, rows[i].flow(doc))
	}
	return out, nil
}

// Names returns the names of the workspace's flows among ids (archived
// ones too), keyed by ID, in one query that opens nothing: for pages that
// show which flow wrote a message. IDs of other workspaces, and unknown
// ones, are absent.
func (s *Store) Names(ctx context.Context, workspaceID string, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   string `bun:"id"`
		Name string `bun:"name"`
	}
	if err := s.d.R.NewRaw(`SELECT id, name FROM flows WHERE workspace_id = ? AND id IN (?)`, workspaceID, bun.In(ids)).
		Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("flow: names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// Archive stops the workspace's flow from starting (its conversations in
// progress finish it) and records flow.archive. Archiving an archived
// flow changes nothing. ErrNoSuchFlow when there is no such flow.
func (s *Store) Archive(ctx context.Context, workspaceID, id string, by audit.Actor) (Flow, error) {
	f, err := s.setStatus(ctx, workspaceID, id, by, StatusArchived)
	if err != nil {
		return Flow{}, fmt.Errorf("flow: archive: %w", err)
	}
	return f, nil
}

// Restore makes an archived flow active again (its published version, if
// any, runs again) and records flow.restore. Restoring an active flow
// changes nothing. ErrNoSuchFlow when there is no such flow.
func (s *Store) Restore(ctx context.Context, workspaceID, id string, by audit.Actor) (Flow, error) {
	f, err := s.setStatus(ctx, workspaceID, id, by, StatusActive)
	if err != nil {
		return Flow{}, fmt.Errorf("flow: restore: %w", err)
	}
	return f, nil
}

// setStatus archives or restores a flow, bumping the workspace's revision
// when the set of live flows changes.
func (s *Store) setStatus(ctx context.Context, workspaceID, id string, by audit.Actor, to Status) (Flow, error) {
	var r *flowRow
	var doc Document
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if r, err = s.row(ctx, tx, workspaceID, id, true); err != nil {
			return err
		}
		if doc, err = s.openDraft(ctx, tx, r); err != nil {
			return err
		}
		if Status(r.Status) == to {
			return nil
		}
		now := s.clock()
		action := ActionRestore
		r.ArchivedAt = nil
		if to == StatusArchived {
			action, r.ArchivedAt = ActionArchive, &now
		}
		r.Status, r.UpdatedAt = string(to), now
		if _, err := tx.NewRaw(`UPDATE flows SET status = ?, archived_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			r.Status, r.ArchivedAt, now, workspaceID, id).Exec(ctx); err != nil {
			return err
		}
		if _, err := bumpRevision(ctx, tx, workspaceID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, by, action, "flow", id, map[string]any{"name": r.Name})
	})
	if err != nil {
		return Flow{}, err
	}
	return r.flow(doc), nil
}

// nonNil returns ps, or an empty list for nil, so "no problems" is [] in
// JSON.
func nonNil(ps []Problem) []Problem {
	if ps == nil {
		return []Problem{}
	}
	return ps
}

package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// VersionInfo describes one published version of a flow.
type VersionInfo struct {
	Version     int
	PublishedAt time.Time
	// PublishedBy is "user:<id>" or "api_key:<id>".
	PublishedBy string
}

// Published is the live version of one active flow of a workspace.
type Published struct {
	FlowID string
	// Name is the version's name.
	Name    string
	Version int
	// Doc is shared with every caller of the Store: treat it as read-only.
	Doc Document
}

// Publish makes the draft of the workspace's flow its next version, in one
// transaction: the version is stored, becomes the flow's published
// version, the workspace's revision is bumped and flow.publish recorded.
// Versions are numbered 1, 2, … per flow with no gaps, also when two
// publishes race (they take turns on the flow's row).
//
// The draft is validated against the workspace's custom fields, tags and
// flows first. With any error-level problem nothing changes and the error
// is an *InvalidError (wrapping ErrInvalid) listing the problems, which are
// also returned. On success the problems are the draft's warnings.
// Other errors: ErrNoSuchFlow, ErrArchived.
func (s *Store) Publish(ctx context.Context, workspaceID, id string, by audit.Actor) (Flow, int, []Problem, error) {
	// What exists in the workspace is read before the transaction (the
	// contact store reads through its own pool); a field archived in
	// between is caught by the runner, which refuses to set it.
	base, err := s.knownBase(ctx, workspaceID, id)
	if err != nil {
		return Flow{}, 0, nil, fmt.Errorf("flow: publish: %w", err)
	}
	var (
		r        *flowRow
		doc      Document
		problems []Problem
		version  int
	)
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if r, err = s.row(ctx, tx, workspaceID, id, true); err != nil {
			return err
		}
		if r.Status == string(StatusArchived) {
			return ErrArchived
		}
		if doc, err = s.openDraft(ctx, tx, r); err != nil {
			return err
		}
		problems = nonNil(Validate(doc, base.with(doc)))
		if HasErrors(problems) {
			return &InvalidError{Problems: problems}
		}
		if err := tx.NewRaw(`SELECT coalesce(max(version), 0) + 1 FROM flow_versions WHERE workspace_id = ? AND flow_id = ?`,
			workspaceID, id).Scan(ctx, &version); err != nil {
			return err
		}
		plain, err := doc.MarshalJSON()
		if err != nil {
			return err
		}
		sealed, err := s.kr.SealWorkspaceTx(ctx, tx, versionAAD(workspaceID, id, version), plain)
		if err != nil {
			return err
		}
		now := s.clock()
		if _, err := tx.NewRaw(`INSERT INTO flow_versions (flow_id, version, workspace_id, document, published_at, published_by)
			VALUES (?, ?, ?, ?, ?, ?)`, id, version, workspaceID, sealed, now, contact.ByActor(by).String()).Exec(ctx); err != nil {
			return err
		}
		rev := r.DraftRev
		r.PublishedVersion, r.PublishedRev, r.PublishedAt, r.UpdatedAt = &version, &rev, &now, now
		if _, err := tx.NewRaw(`UPDATE flows SET published_version = ?, published_rev = ?, published_at = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, version, rev, now, now, workspaceID, id).Exec(ctx); err != nil {
			return err
		}
		if _, err := bumpRevision(ctx, tx, workspaceID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, by, ActionPublish, "flow", id, map[string]any{"name": doc.Name, "version": version})
	})
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			problems = nil
		}
		return Flow{}, 0, problems, fmt.Errorf("flow: publish: %w", err)
	}
	return r.flow(doc), version, problems, nil
}

// Versions lists the published versions of the workspace's flow, newest
// first (none for a flow never published). ErrNoSuchFlow when there is no
// such flow.
func (s *Store) Versions(ctx context.Context, workspaceID, id string) ([]VersionInfo, error) {
	if _, err := s.row(ctx, s.d.R, workspaceID, id, false); err != nil {
		return nil, fmt.Errorf("flow: versions: %w", err)
	}
	var rows []struct {
		Version     int       `bun:"version"`
		PublishedAt time.Time `bun:"published_at"`
		PublishedBy string    `bun:"published_by"`
	}
	if err := s.d.R.NewRaw(`SELECT version, published_at, published_by FROM flow_versions
		WHERE workspace_id = ? AND flow_id = ? ORDER BY version DESC`, workspaceID, id).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("flow: versions: %w", err)
	}
	out := make([]VersionInfo, len(rows))
	for i, r := range rows {
		out[i] = VersionInfo{Version: r.Version, PublishedAt: r.PublishedAt.UTC(), PublishedBy: r.PublishedBy}
	}
	return out, nil
}

// Version returns version v of the workspace's flow, secret header values
// included, reading through idb (the runner passes its transaction; nil
// reads through the reader pool). Versions never change, so they are
// cached in memory (bounded, keyed by workspace, flow and version): the
// Document returned is shared with other callers and must be treated as
// read-only. ErrNoSuchVersion when the flow has no such version in the
// workspace.
func (s *Store) Version(ctx context.Context, idb bun.IDB, workspaceID, id string, v int) (Document, error) {
	key := versionKey{workspace: workspaceID, flow: id, version: v}
	if doc, ok := s.versions.get(key); ok {
		return doc, nil
	}
	if idb == nil {
		idb = s.d.R
	}
	var sealed []byte
	err := idb.NewRaw(`SELECT document FROM flow_versions WHERE workspace_id = ? AND flow_id = ? AND version = ?`,
		workspaceID, id, v).Scan(ctx, &sealed)
	if errors.Is(db.NoRows(err), db.ErrNotFound) {
		return Document{}, fmt.Errorf("flow: version %d: %w", v, ErrNoSuchVersion)
	}
	if err != nil {
		return Document{}, fmt.Errorf("flow: version %d: %w", v, err)
	}
	doc, err := s.open(ctx, idb, versionAAD(workspaceID, id, v), sealed)
	if err != nil {
		return Document{}, fmt.Errorf("flow: version %d: %w", v, err)
	}
	s.versions.put(key, doc)
	return doc, nil
}

// Published returns the live version of every active, published flow of
// the workspace, oldest flow first, with the workspace's revision, reading
// through idb (nil: the reader pool). The revision is read first, so the
// versions are at least as new as it says: a runner that caches what it
// compiled from them under that revision sees the next change by
// comparing Revision with it.
func (s *Store) Published(ctx context.Context, idb bun.IDB, workspaceID string) ([]Published, int64, error) {
	if idb == nil {
		idb = s.d.R
	}
	rev, err := s.Revision(ctx, idb, workspaceID)
	if err != nil {
		return nil, 0, fmt.Errorf("flow: published: %w", err)
	}
	var rows []struct {
		ID      string `bun:"id"`
		Version int    `bun:"published_version"`
	}
	if err := idb.NewRaw(`SELECT id, published_version FROM flows
		WHERE workspace_id = ? AND status = ? AND published_version IS NOT NULL ORDER BY created_at, id`,
		workspaceID, string(StatusActive)).Scan(ctx, &rows); err != nil {
		return nil, 0, fmt.Errorf("flow: published: %w", err)
	}
	out := make([]Published, 0, len(rows))
	for _, r := range rows {
		doc, err := s.Version(ctx, idb, workspaceID, r.ID, r.Version)
		if err != nil {
			return nil, 0, fmt.Errorf("flow: published: %w", err)
		}
		out = append(out, Published{FlowID: r.ID, Name: doc.Name, Version: r.Version, Doc: doc})
	}
	return out, rev, nil
}

// Revision returns the workspace's flow revision through idb (nil: the
// reader pool): a number that grows in every transaction that changes
// which flow versions are live, and 0 before the first.
func (s *Store) Revision(ctx context.Context, idb bun.IDB, workspaceID string) (int64, error) {
	if idb == nil {
		idb = s.d.R
	}
	var rev int64
	err := idb.NewRaw(`SELECT revision FROM flow_revisions WHERE workspace_id = ?`, workspaceID).Scan(ctx, &rev)
	switch {
	case errors.Is(db.NoRows(err), db.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("flow: revision: %w", err)
	}
	return rev, nil
}

// bumpRevision increments the workspace's revision inside tx and returns
// the new value.
func bumpRevision(ctx context.Context, tx bun.IDB, workspaceID string) (int64, error) {
	var rev int64
	err := tx.NewRaw(`INSERT INTO flow_revisions (workspace_id, revision) VALUES (?, 1)
		ON CONFLICT (workspace_id) DO UPDATE SET revision = flow_revisions.revision + 1
		RETURNING revision`, workspaceID).Scan(ctx, &rev)
	if err != nil {
		return 0, fmt.Errorf("bump revision: %w", err)
	}
	return rev, nil
}

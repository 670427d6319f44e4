package media

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/uptrace/bun"
)

// EraseContact deletes the rows of every object of the contact, inside the
// erasing transaction tx (an erasure Hook: it runs before the contact's
// key is destroyed in the same transaction, which is what makes every copy
// of the files unreadable). The files themselves are removed after commit
// by UnlinkContact; until then they are sealed under a destroyed key.
func (s *Store) EraseContact(ctx context.Context, tx bun.Tx, workspaceID, contactID string) error {
	if _, err := tx.NewRaw(`DELETE FROM media_objects WHERE workspace_id = ? AND contact_id = ?`, workspaceID, contactID).Exec(ctx); err != nil {
		return fmt.Errorf("media: erase contact: %w", err)
	}
	return nil
}

// ForgetMessages deletes the rows of the objects sent with messageIDs,
// inside tx: the messages' content is expiring (a retention MessageHook),
// and an attachment is part of its message's content. Their files, which
// no row points at any more, go at the next sweep (Sweep).
func (s *Store) ForgetMessages(ctx context.Context, tx bun.Tx, workspaceID string, messageIDs []string) error {
	if len(messageIDs) == 0 {
		return nil
	}
	if _, err := tx.NewRaw(`DELETE FROM media_objects WHERE workspace_id = ? AND message_id IN (?)`,
		workspaceID, bun.In(messageIDs)).Exec(ctx); err != nil {
		return fmt.Errorf("media: forget messages: %w", err)
	}
	return nil
}

// UnlinkContact removes the contact's files from the Backend (an erasure
// AfterErase step, after the transaction that deleted their rows commits).
// Failures are logged; Purge's sweep removes what is left.
func (s *Store) UnlinkContact(ctx context.Context, workspaceID, contactID string) {
	if err := s.b.DeletePrefix(ctx, workspaceID+"/"+contactID); err != nil {
		s.opt.Log.Warn("media: erased contact's files not removed; the retention sweep will retry", "workspace", workspaceID, "err", err)
	}
}

// UnlinkWorkspace removes every file of the workspace from the Backend, for
// the purge of a deleted workspace (after its rows are gone and its keys
// destroyed).
func (s *Store) UnlinkWorkspace(ctx context.Context, workspaceID string) error {
	if err := s.b.DeletePrefix(ctx, workspaceID); err != nil {
		return fmt.Errorf("media: unlink workspace: %w", err)
	}
	return nil
}

// Purge deletes up to limit objects of the workspace created before
// `before` (a retention Purger for attachments): their files first, then
// their rows in one short statement, so the SQLite writer is never held
// while files are removed. When fewer than limit were due, it then sweeps
// up to limit files of the workspace that no row points at any more (left
// by a deleted conversation or contact, or a crash between file and row),
// if they are older than OrphanGrace. It returns how many objects and
// files it deleted; the retention job calls it again while that equals
// limit.
func (s *Store) Purge(ctx context.Context, workspaceID string, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var due []row
	// A contact under a legal hold keeps its attachments (retention's
	// retention_holds, read-only here: media does not import retention).
	if err := s.d.R.NewRaw(`SELECT `+cols+` FROM media_objects WHERE workspace_id = ? AND created_at < ?
		AND NOT EXISTS (SELECT 1 FROM retention_holds h WHERE h.workspace_id = media_objects.workspace_id AND h.contact_id = media_objects.contact_id)
		ORDER BY created_at LIMIT ?`,
		workspaceID, before.UTC(), limit).Scan(ctx, &due); err != nil {
		return 0, fmt.Errorf("media: purge: %w", err)
	}
	ids := make([]string, 0, len(due))
	for _, r := range due {
		if err := s.b.Delete(ctx, r.StorageKey); err != nil {
			return 0, fmt.Errorf("media: purge: %w", err)
		}
		ids = append(ids, r.ID)
	}
	n := 0
	if len(ids) > 0 {
		res, err := s.d.W.NewRaw(`DELETE FROM media_objects WHERE workspace_id = ? AND id IN (?)`, workspaceID, bun.In(ids)).Exec(ctx)
		if err != nil {
			return 0, fmt.Errorf("media: purge: %w", err)
		}
		k, _ := res.RowsAffected()
		n = int(k)
	}
	if n >= limit {
		return n, nil
	}
	swept, err := s.Sweep(ctx, workspaceID, limit-n)
	return n + swept, err
}

// Sweep deletes up to limit files of the workspace that no row points at
// any more and that are older than OrphanGrace: those of a deleted
// conversation (its rows go by cascade), of a merged contact (re-sealed
// under another key), or of a crash between writing a file and its row.
// It runs within Purge and on its own schedule (the app's media sweep), so
// that it also runs for workspaces that keep attachments for their
// lifetime. It returns how many files it deleted.
func (s *Store) Sweep(ctx context.Context, workspaceID string, limit int) (int, error) {
	entries, err := s.b.List(ctx, workspaceID)
	if err != nil {
		return 0, fmt.Errorf("media: sweep: %w", err)
	}
	cutoff := s.now().Add(-s.opt.OrphanGrace)
	var old []string
	for _, e := range entries {
		if e.Modified.Before(cutoff) {
			old = append(old, e.Key)
		}
	}
	n := 0
	const chunk = 500
	for i := 0; i < len(old) && n < limit; i += chunk {
		keys := old[i:min(i+chunk, len(old))]
		var known []string
		if err := s.d.R.NewRaw(`SELECT storage_key FROM media_objects WHERE workspace_id = ? AND storage_key IN (?)`,
			workspaceID, bun.In(keys)).Scan(ctx, &known); err != nil {
			return n, fmt.Errorf("media: sweep: %w", err)
		}
		has := make(map[string]bool, len(known))
		for _, k := range known {
			has[k] = true
		}
		for _, k := range keys {
			if has[k] || n >= limit {
				continue
			}
			if path.Dir(path.Dir(k)) != workspaceID {
				continue // not an object key of this workspace's layout
			}
			if err := s.b.Delete(ctx, k); err != nil {
				return n, fmt.Errorf("media: sweep: %w", err)
			}
			n++
		}
	}
	return n, nil
}

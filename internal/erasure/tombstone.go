package erasure

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Tombstone kinds.
const (
	KindContact      = "contact"
	KindConversation = "conversation"
	KindWorkspace    = "workspace"
)

// Tombstone records that a contact or a workspace was erased, with no
// content: no ID, name or platform ID, only a pseudonymous subject.
type Tombstone struct {
	// Kind is KindContact, KindConversation or KindWorkspace.
	Kind string `json:"kind"`
	// WorkspaceID is the erased contact's or deleted conversation's
	// workspace; "" for a workspace tombstone (its subject names it).
	WorkspaceID string `json:"workspace_id,omitempty"`
	// Subject is the hex HMAC-SHA256 of the contact's or the workspace's
	// ID under the tombstone key (PurposeTombstones).
	Subject string `json:"subject"`
	// At is when it was erased.
	At time.Time `json:"at"`
}

// Subject returns the pseudonymous subject of id: the hex HMAC-SHA256 of
// it under the tombstone key. The same ID always gives the same subject
// (so a restored backup can be matched) and nothing but the master key
// can tell which ID it was.
func (s *Service) Subject(id string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// insertTombstone writes a tombstone through idb; writing the same one
// twice keeps the first (Replay is idempotent).
func insertTombstone(ctx context.Context, idb bun.IDB, t Tombstone) error {
	_, err := idb.NewRaw(`INSERT INTO tombstones (id, kind, workspace_id, subject, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, workspace_id, subject) DO NOTHING`,
		uuid.Must(uuid.NewV7()).String(), t.Kind, t.WorkspaceID, t.Subject, t.At.UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("tombstone: %w", err)
	}
	return nil
}

// RecordWorkspace writes the tombstone of a deleted workspace through idb
// (the purge's transaction): its subject is the HMAC of the workspace ID.
func (s *Service) RecordWorkspace(ctx context.Context, idb bun.IDB, workspaceID string) error {
	if workspaceID == "" {
		return errors.New("erasure: record workspace: empty workspace ID")
	}
	if err := insertTombstone(ctx, idb, Tombstone{Kind: KindWorkspace, Subject: s.Subject(workspaceID), At: s.now().UTC()}); err != nil {
		return fmt.Errorf("erasure: record workspace: %w", err)
	}
	return nil
}

// RecordContact writes the tombstone of a contact that ceased to exist
// without EraseContact, through idb (the caller's transaction): the
// contact merged into another (contact.Store.Merge) is deleted and its key
// destroyed, and a backup from before the merge must not bring it back.
// It is the tombstone EraseContact writes; writing it twice keeps the
// first.
func (s *Service) RecordContact(ctx context.Context, idb bun.IDB, workspaceID, contactID string) error {
	if workspaceID == "" || contactID == "" {
		return errors.New("erasure: record contact: empty workspace or contact ID")
	}
	t := Tombstone{Kind: KindContact, WorkspaceID: workspaceID, Subject: s.Subject(contactID), At: s.now().UTC()}
	if err := insertTombstone(ctx, idb, t); err != nil {
		return fmt.Errorf("erasure: record contact: %w", err)
	}
	return nil
}

// Tombstones returns the tombstones written at or after since, oldest
// first: what `parley tombstones export` keeps outside the backups.
func (s *Service) Tombstones(ctx context.Context, since time.Time) ([]Tombstone, error) {
	var rows []struct {
		Kind        string    `bun:"kind"`
		WorkspaceID string    `bun:"workspace_id"`
		Subject     string    `bun:"subject"`
		CreatedAt   time.Time `bun:"created_at"`
	}
	if err := s.d.R.NewRaw(`SELECT kind, workspace_id, subject, created_at FROM tombstones WHERE created_at >= ? ORDER BY created_at, id`,
		since.UTC()).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("erasure: tombstones: %w", err)
	}
	out := make([]Tombstone, 0, len(rows))
	for _, r := range rows {
		out = append(out, Tombstone{Kind: r.Kind, WorkspaceID: r.WorkspaceID, Subject: r.Subject, At: r.CreatedAt.UTC()})
	}
	return out, nil
}

// Replay applies tombstones to a database restored from a backup, before
// it serves (M-6): every contact and workspace they name that the
// database still holds is erased again — a contact as EraseContact does
// (rows, key, hooks; no new audit entry: the restore is not an action on
// the person), a workspace by destroying its keys and deleting it — and
// every tombstone is written back into the tombstones table, so the log
// survives the next backup too. It is idempotent: a second run finds
// nothing left and erases nothing. It returns how many subjects it erased.
//
// Matching needs the IDs, which tombstones do not hold: Replay HMACs the
// ID of every contact of each named workspace (and of every workspace)
// and erases those whose subject is named.
func (s *Service) Replay(ctx context.Context, ts []Tombstone) (int, error) {
	contacts := map[string]map[string]bool{}      // workspace → subjects
	conversations := map[string]map[string]bool{} // workspace → subjects
	workspaces := map[string]bool{}
	for _, t := range ts {
		switch t.Kind {
		case KindContact:
			if contacts[t.WorkspaceID] == nil {
				contacts[t.WorkspaceID] = map[string]bool{}
			}
			contacts[t.WorkspaceID][t.Subject] = true
		case KindConversation:
			if conversations[t.WorkspaceID] == nil {
				conversations[t.WorkspaceID] = map[string]bool{}
			}
			conversations[t.WorkspaceID][t.Subject] = true
		case KindWorkspace:
			workspaces[t.Subject] = true
		default:
			return 0, fmt.Errorf("erasure: replay: unknown tombstone kind %q", t.Kind)
		}
	}
	hooks, after := s.registered()
	erased := 0
	if len(workspaces) > 0 {
		var ids []string
		if err := s.d.R.NewRaw(`SELECT id FROM workspaces ORDER BY id`).Scan(ctx, &ids); err != nil {
			return erased, fmt.Errorf("erasure: replay: %w", err)
		}
		for _, id := range ids {
			if !workspaces[s.Subject(id)] {
				continue
			}
			if err := s.replayWorkspace(ctx, id); err != nil {
				return erased, fmt.Errorf("erasure: replay: %w", err)
			}
			erased++
		}
	}
	for ws, subjects := range contacts {
		var ids []string
		if err := s.d.R.NewRaw(`SELECT id FROM contacts WHERE workspace_id = ? ORDER BY id`, ws).Scan(ctx, &ids); err != nil {
			return erased, fmt.Errorf("erasure: replay: %w", err)
		}
		for _, id := range ids {
			if !subjects[s.Subject(id)] {
				continue
			}
			err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				return s.eraseContactTx(ctx, tx, hooks, ws, id)
			})
			if notFound(err) {
				continue // erased by someone else meanwhile
			}
			if err != nil {
				return erased, fmt.Errorf("erasure: replay: %w", err)
			}
			s.runAfter(ctx, after, ws, id)
			erased++
		}
	}
	for ws, subjects := range conversations {
		var ids []string
		if err := s.d.R.NewRaw(`SELECT id FROM conversations WHERE workspace_id = ? ORDER BY id`, ws).Scan(ctx, &ids); err != nil {
			return erased, fmt.Errorf("erasure: replay: %w", err)
		}
		for _, id := range ids {
			if !subjects[s.Subject(id)] {
				continue
			}
			err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				return s.deleteConversationTx(ctx, tx, ws, id)
			})
			if notFound(err) {
				continue
			}
			if err != nil {
				return erased, fmt.Errorf("erasure: replay: %w", err)
			}
			erased++
		}
	}
	// The log itself, restored from before the erasures, gets them back.
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, t := range ts {
			if err := insertTombstone(ctx, tx, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return erased, fmt.Errorf("erasure: replay: %w", err)
	}
	return erased, nil
}

// replayWorkspace destroys a deleted workspace's keys (everything sealed
// under them, and every contact key they wrap, is unreadable at once) and
// deletes it, which deletes every row that references it.
func (s *Service) replayWorkspace(ctx context.Context, workspaceID string) error {
	return s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.kr.DestroyWorkspaceKeys(ctx, tx, workspaceID); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`DELETE FROM contact_keys WHERE workspace_id = ?`, workspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("contact keys: %w", err)
		}
		if err := deleteJobs(ctx, tx, s.d.Dialect, workspaceID, map[string]bool{workspaceID: true}); err != nil {
			return err
		}
		for _, q := range workspaceLeftovers() {
			if _, err := tx.NewRaw(q, workspaceID).Exec(ctx); err != nil {
				return fmt.Errorf("workspace rows: %w", err)
			}
		}
		if _, err := tx.NewRaw(`DELETE FROM workspaces WHERE id = ?`, workspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
		return nil
	})
}

// workspaceLeftovers delete a workspace's rows in tables without a
// foreign key to workspaces (which ON DELETE CASCADE would not reach).
// The audit log is kept: it holds IDs only, and is append-only.
func workspaceLeftovers() []string {
	return []string{
		`DELETE FROM search_grams WHERE doc IN (SELECT id FROM search_docs WHERE workspace_id = ?)`,
		`DELETE FROM search_docs WHERE workspace_id = ?`,
		`DELETE FROM search_pending WHERE workspace_id = ?`,
		`DELETE FROM pipeline_cards WHERE workspace_id = ?`,
		`DELETE FROM pipeline_stages WHERE workspace_id = ?`,
		`DELETE FROM conversation_mentions WHERE workspace_id = ?`,
		`DELETE FROM kill_switches WHERE workspace_id = ?`,
	}
}

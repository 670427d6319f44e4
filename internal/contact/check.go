package contact

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Check returns db.ErrNotFound unless the workspace has the contact,
// reading through idb (the caller's transaction, so that the answer holds
// for what it writes next). Stores that hang rows on a contact (fields,
// tags, activity, pipeline cards) run it before anything is sealed, so
// that no key is ever created for a contact that is not there (or is
// another workspace's).
func Check(ctx context.Context, idb bun.IDB, workspaceID, contactID string) error {
	var n int
	if err := idb.NewRaw(`SELECT count(*) FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, contactID).Scan(ctx, &n); err != nil {
		return err
	}
	if n == 0 {
		return db.ErrNotFound
	}
	return nil
}

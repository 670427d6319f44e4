package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// KeyTables are the tables that hold data keys (package keyring, migration
// 00003): a snapshot holds none of their rows, the keys file all of them.
// contact_keys references workspace_keys, so it is emptied first and
// filled last.
var KeyTables = []string{"contact_keys", "workspace_keys"}

// KeysFormat names the keys file format.
const KeysFormat = "parley-keys/1"

// workspaceKey is one workspace_keys row: a 32-byte key wrapped under the
// master key (keyring's envelope; the master key is not in any backup).
type workspaceKey struct {
	WorkspaceID string    `bun:"workspace_id" json:"workspace_id"`
	KeyID       int64     `bun:"key_id" json:"key_id"`
	Wrapped     []byte    `bun:"wrapped" json:"wrapped"`
	IsPrimary   bool      `bun:"is_primary" json:"is_primary"`
	CreatedAt   time.Time `bun:"created_at" json:"created_at"`
}

// contactKey is one contact_keys row: a 32-byte key wrapped under the
// workspace key wrapped_by.
type contactKey struct {
	WorkspaceID string    `bun:"workspace_id" json:"workspace_id"`
	ContactID   string    `bun:"contact_id" json:"contact_id"`
	KeyID       int64     `bun:"key_id" json:"key_id"`
	WrappedBy   int64     `bun:"wrapped_by" json:"wrapped_by"`
	Wrapped     []byte    `bun:"wrapped" json:"wrapped"`
	CreatedAt   time.Time `bun:"created_at" json:"created_at"`
}

// keysFile is the JSON document of keys.json.
type keysFile struct {
	Format        string         `json:"format"`
	CreatedAt     time.Time      `json:"created_at"`
	WorkspaceKeys []workspaceKey `json:"workspace_keys"`
	ContactKeys   []contactKey   `json:"contact_keys"`
}

// readKeys reads every key row through idb.
func readKeys(ctx context.Context, idb bun.IDB) (*keysFile, error) {
	f := &keysFile{Format: KeysFormat, WorkspaceKeys: []workspaceKey{}, ContactKeys: []contactKey{}}
	if err := idb.NewRaw(`SELECT workspace_id, key_id, wrapped, is_primary, created_at FROM workspace_keys ORDER BY workspace_id, key_id`).
		Scan(ctx, &f.WorkspaceKeys); err != nil {
		return nil, fmt.Errorf("read workspace keys: %w", err)
	}
	if err := idb.NewRaw(`SELECT workspace_id, contact_id, key_id, wrapped_by, wrapped, created_at FROM contact_keys ORDER BY workspace_id, contact_id`).
		Scan(ctx, &f.ContactKeys); err != nil {
		return nil, fmt.Errorf("read contact keys: %w", err)
	}
	return f, nil
}

// deleteKeys empties the key tables through idb.
func deleteKeys(ctx context.Context, idb bun.IDB) error {
	for _, t := range KeyTables {
		if _, err := idb.NewRaw(`DELETE FROM ` + t).Exec(ctx); err != nil {
			return fmt.Errorf("empty %s: %w", t, err)
		}
	}
	return nil
}

// insertKeys puts the key rows back through idb. A workspace the snapshot
// no longer holds keeps no key (its purge was in the snapshot already).
func insertKeys(ctx context.Context, idb bun.IDB, f *keysFile) error {
	for _, k := range f.WorkspaceKeys {
		if _, err := idb.NewRaw(`INSERT INTO workspace_keys (workspace_id, key_id, wrapped, is_primary, created_at)
			SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = ?)`,
			k.WorkspaceID, k.KeyID, k.Wrapped, k.IsPrimary, k.CreatedAt.UTC(), k.WorkspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("restore workspace key: %w", err)
		}
	}
	for _, k := range f.ContactKeys {
		if _, err := idb.NewRaw(`INSERT INTO contact_keys (workspace_id, contact_id, key_id, wrapped_by, wrapped, created_at)
			SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM workspace_keys WHERE workspace_id = ? AND key_id = ?)`,
			k.WorkspaceID, k.ContactID, k.KeyID, k.WrappedBy, k.Wrapped, k.CreatedAt.UTC(), k.WorkspaceID, k.WrappedBy).Exec(ctx); err != nil {
			return fmt.Errorf("restore contact key: %w", err)
		}
	}
	return nil
}

package keyring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// workspaceKeyAAD binds a wrapped workspace key to its workspace and ID:
// "ws-dek" ‖ workspace_id ‖ key_id (security.md §2.3).
func workspaceKeyAAD(workspaceID string, keyID uint32) AAD {
	return AAD{Workspace: workspaceID, Table: labelWorkspaceDEK, Row: keyIDString(keyID)}
}

// CreateWorkspaceKey gives a new workspace its first key, as the primary.
// Call it in the transaction that creates the workspace, passing that
// transaction as idb (nil uses the Keyring's own connection). A workspace
// that already has a key gets db.ErrConflict and nothing changes.
func (k *Keyring) CreateWorkspaceKey(ctx context.Context, idb bun.IDB, workspaceID string) error {
	if workspaceID == "" {
		return errors.New("keyring: create workspace key: empty workspace ID")
	}
	_, w, _ := k.handles(idb)
	// Check first rather than rely on the unique index: on PostgreSQL a
	// failed statement would abort the caller's whole transaction.
	var n int
	if err := w.NewRaw(`SELECT count(*) FROM workspace_keys WHERE workspace_id = ?`, workspaceID).Scan(ctx, &n); err != nil {
		return fmt.Errorf("keyring: create workspace key: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("keyring: create workspace key: workspace already has keys: %w", db.ErrConflict)
	}
	if _, err := k.insertWorkspaceKey(ctx, w, workspaceID); err != nil {
		return fmt.Errorf("keyring: create workspace key: %w", err)
	}
	return nil
}

// RotateWorkspaceKey makes a new random key the workspace's primary and
// returns its ID. New values are sealed under it; the old keys stay, so
// values and contact keys sealed under them still open. (Re-sealing old
// values and retiring old keys is a later, separate step.) A workspace whose
// keys were destroyed gets ErrKeyDestroyed: rotation never revives one.
//
// Other replicas keep sealing under the old primary until their cache
// expires (Options.CacheTTL), which is harmless since the old key still opens.
// It runs its own transaction: do not call it while holding one.
func (k *Keyring) RotateWorkspaceKey(ctx context.Context, workspaceID string) (uint32, error) {
	var id uint32
	var err error
	// Two rotations at once on PostgreSQL: the second one's new primary hits
	// the one-primary index after the first commits; trying again rotates
	// once more, which is what was asked.
	for range 3 {
		err = k.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var n int
			if err := tx.NewRaw(`SELECT count(*) FROM workspace_keys WHERE workspace_id = ? AND is_primary`, workspaceID).Scan(ctx, &n); err != nil {
				return err
			}
			if n == 0 {
				return ErrKeyDestroyed
			}
			if _, err := tx.NewRaw(`UPDATE workspace_keys SET is_primary = FALSE WHERE workspace_id = ? AND is_primary`, workspaceID).Exec(ctx); err != nil {
				return err
			}
			var err error
			id, err = k.insertWorkspaceKey(ctx, tx, workspaceID)
			return err
		})
		if !db.IsUniqueViolation(err) {
			break
		}
	}
	k.cache.drop(cacheKey{kind: kindWorkspacePrimary, workspace: workspaceID})
	if db.IsUniqueViolation(err) {
		err = fmt.Errorf("%w: %v", db.ErrConflict, err)
	}
	if err != nil {
		return 0, fmt.Errorf("keyring: rotate workspace key: %w", err)
	}
	return id, nil
}

// DestroyWorkspaceKeys deletes every key of the workspace, and with them its
// contact keys, so that everything sealed under them is unreadable from now
// on, in this database and in every copy of the sealed values (P-33). Call
// it in the transaction that deletes or marks the workspace for deletion
// (nil idb uses the Keyring's own connection). It is idempotent.
//
// Afterwards OpenWorkspace and OpenContact return ErrKeyDestroyed, and
// sealing returns ErrKeyDestroyed too: nothing new is sealed for a workspace
// on its way out. This process forgets the keys at once; other replicas
// within Options.CacheTTL. A read racing the destroying transaction may
// cache a key again here until the TTL, the same bound.
//
// The rows are deleted, not marked: no wrapped copy stays in the live
// database. Backups still hold the wrapped keys; security.md §2.5 caveat 1
// (tombstones replayed on restore, or epoch keys) deals with those.
func (k *Keyring) DestroyWorkspaceKeys(ctx context.Context, idb bun.IDB, workspaceID string) error {
	destroy := func(ctx context.Context, w bun.IDB) error {
		// contact_keys would go by cascade; deleting them first says so.
		if _, err := w.NewRaw(`DELETE FROM contact_keys WHERE workspace_id = ?`, workspaceID).Exec(ctx); err != nil {
			return err
		}
		_, err := w.NewRaw(`DELETE FROM workspace_keys WHERE workspace_id = ?`, workspaceID).Exec(ctx)
		return err
	}
	var err error
	if idb != nil {
		err = destroy(ctx, idb)
	} else {
		err = k.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return destroy(ctx, tx) })
	}
	k.cache.dropWorkspace(workspaceID)
	if err != nil {
		return fmt.Errorf("keyring: destroy workspace keys: %w", err)
	}
	return nil
}

// SealWorkspace seals plaintext under the primary key of aad.Workspace,
// bound to aad. Use it for the workspace's own secrets (page tokens, API
// secrets, webhook secrets). Inside a transaction use SealWorkspaceTx.
func (k *Keyring) SealWorkspace(ctx context.Context, aad AAD, plaintext []byte) ([]byte, error) {
	return k.sealWorkspace(ctx, nil, aad, plaintext)
}

// SealWorkspaceTx is SealWorkspace reading keys through idb, for a caller
// holding a transaction (for example the one that created the workspace).
func (k *Keyring) SealWorkspaceTx(ctx context.Context, idb bun.IDB, aad AAD, plaintext []byte) ([]byte, error) {
	return k.sealWorkspace(ctx, idb, aad, plaintext)
}

// OpenWorkspace opens what SealWorkspace sealed with the same aad. Errors:
// ErrMalformed (not an envelope), ErrDecrypt (tampered, moved to another
// place, or naming a key the workspace never had), ErrKeyDestroyed (the
// workspace has no keys left), ErrUnknownKey (the workspace key was wrapped
// by another master key: the configured master is wrong).
func (k *Keyring) OpenWorkspace(ctx context.Context, aad AAD, env []byte) ([]byte, error) {
	return k.openWorkspace(ctx, nil, aad, env)
}

// OpenWorkspaceTx is OpenWorkspace reading keys through idb.
func (k *Keyring) OpenWorkspaceTx(ctx context.Context, idb bun.IDB, aad AAD, env []byte) ([]byte, error) {
	return k.openWorkspace(ctx, idb, aad, env)
}

func (k *Keyring) sealWorkspace(ctx context.Context, idb bun.IDB, aad AAD, plaintext []byte) ([]byte, error) {
	if err := checkAAD(aad); err != nil {
		return nil, fmt.Errorf("keyring: seal workspace value: %w", err)
	}
	r, _, cache := k.handles(idb)
	id, key, err := k.workspacePrimary(ctx, r, cache, aad.Workspace)
	defer clear(key[:])
	if err != nil {
		return nil, fmt.Errorf("keyring: seal workspace value: %w", err)
	}
	env, err := Seal(key[:], id, plaintext, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: seal workspace value: %w", err)
	}
	return env, nil
}

func (k *Keyring) openWorkspace(ctx context.Context, idb bun.IDB, aad AAD, env []byte) ([]byte, error) {
	if err := checkAAD(aad); err != nil {
		return nil, fmt.Errorf("keyring: open workspace value: %w", err)
	}
	r, _, cache := k.handles(idb)
	var key [32]byte
	defer clear(key[:])
	pt, err := Open(func(id uint32) ([]byte, error) {
		var err error
		key, err = k.workspaceKey(ctx, r, cache, aad.Workspace, id)
		return key[:], err
	}, env, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: open workspace value: %w", err)
	}
	return pt, nil
}

// insertWorkspaceKey adds a random primary key to the workspace. The caller
// has made sure there is no other primary.
func (k *Keyring) insertWorkspaceKey(ctx context.Context, w bun.IDB, workspaceID string) (uint32, error) {
	key := newKey()
	defer clear(key)
	// A random uint32 collides with one of a workspace's few keys with
	// negligible odds; ON CONFLICT DO NOTHING (not a failing insert, which
	// would abort a PostgreSQL transaction) lets us simply draw again.
	for range 8 {
		id := newKeyID()
		wrapped, err := Seal(k.wrapKey, k.master.ID(), key, workspaceKeyAAD(workspaceID, id))
		if err != nil {
			return 0, err
		}
		res, err := w.NewRaw(`INSERT INTO workspace_keys (workspace_id, key_id, wrapped, is_primary, created_at)
			VALUES (?, ?, ?, TRUE, ?) ON CONFLICT (workspace_id, key_id) DO NOTHING`,
			workspaceID, int64(id), wrapped, k.now().UTC()).Exec(ctx)
		if err != nil {
			return 0, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return 0, err
		} else if n == 1 {
			return id, nil
		}
	}
	return 0, errors.New("no free key ID after 8 draws")
}

// workspacePrimary returns the ID and bytes of the workspace's primary key.
func (k *Keyring) workspacePrimary(ctx context.Context, r bun.IDB, cache bool, workspaceID string) (uint32, [32]byte, error) {
	ck := cacheKey{kind: kindWorkspacePrimary, workspace: workspaceID}
	if id, key, ok := k.cache.get(ck); ok {
		return id, key, nil
	}
	var id int64
	var wrapped []byte
	err := r.NewRaw(`SELECT key_id, wrapped FROM workspace_keys WHERE workspace_id = ? AND is_primary`, workspaceID).Scan(ctx, &id, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, [32]byte{}, fmt.Errorf("%w: workspace has no primary key", ErrKeyDestroyed)
	}
	if err != nil {
		return 0, [32]byte{}, err
	}
	key, err := k.unwrapWorkspaceKey(workspaceID, uint32(id), wrapped)
	if err != nil {
		return 0, key, err
	}
	if cache {
		k.cache.put(ck, uint32(id), key[:])
		k.cache.put(cacheKey{kind: kindWorkspaceKey, workspace: workspaceID, keyID: uint32(id)}, uint32(id), key[:])
	}
	return uint32(id), key, nil
}

// workspaceKey returns the bytes of one of the workspace's keys.
func (k *Keyring) workspaceKey(ctx context.Context, r bun.IDB, cache bool, workspaceID string, id uint32) ([32]byte, error) {
	ck := cacheKey{kind: kindWorkspaceKey, workspace: workspaceID, keyID: id}
	if _, key, ok := k.cache.get(ck); ok {
		return key, nil
	}
	var wrapped []byte
	err := r.NewRaw(`SELECT wrapped FROM workspace_keys WHERE workspace_id = ? AND key_id = ?`, workspaceID, int64(id)).Scan(ctx, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		// Keys are destroyed all at once, so a workspace that still has keys
		// never had this one: the envelope was not sealed here.
		var n int
		if err := r.NewRaw(`SELECT count(*) FROM workspace_keys WHERE workspace_id = ?`, workspaceID).Scan(ctx, &n); err != nil {
			return [32]byte{}, err
		}
		if n == 0 {
			return [32]byte{}, fmt.Errorf("%w: workspace has no keys", ErrKeyDestroyed)
		}
		return [32]byte{}, fmt.Errorf("%w: workspace has no key %d", ErrDecrypt, id)
	}
	if err != nil {
		return [32]byte{}, err
	}
	key, err := k.unwrapWorkspaceKey(workspaceID, id, wrapped)
	if err != nil {
		return key, err
	}
	if cache {
		k.cache.put(ck, id, key[:])
	}
	return key, nil
}

// unwrapWorkspaceKey opens a wrapped workspace key under the master.
func (k *Keyring) unwrapWorkspaceKey(workspaceID string, id uint32, wrapped []byte) ([32]byte, error) {
	var key [32]byte
	pt, err := Open(func(masterID uint32) ([]byte, error) {
		if masterID != k.master.ID() {
			return nil, fmt.Errorf("%w: wrapped by master key %08x, the configured one is %08x", ErrUnknownKey, masterID, k.master.ID())
		}
		return k.wrapKey, nil
	}, wrapped, workspaceKeyAAD(workspaceID, id))
	defer clear(pt)
	if err != nil {
		return key, fmt.Errorf("unwrap workspace key %d: %w", id, err)
	}
	if len(pt) != len(key) {
		return key, fmt.Errorf("unwrap workspace key %d: %w: %d bytes", id, ErrMalformed, len(pt))
	}
	copy(key[:], pt)
	return key, nil
}

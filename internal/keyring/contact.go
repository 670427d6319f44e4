package keyring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// errNoContactKey reports that a contact has no key (yet, or any more).
var errNoContactKey = errors.New("contact has no key")

// contactKeyAAD binds a wrapped contact key to its workspace, contact and
// ID: "contact-dek" ‖ workspace_id ‖ contact_id ‖ key_id (security.md §2.3).
func contactKeyAAD(workspaceID, contactID string, keyID uint32) AAD {
	return AAD{Workspace: workspaceID, Table: labelContactDEK, Column: contactID, Row: keyIDString(keyID)}
}

// SealContact seals plaintext under the key of one contact of aad.Workspace,
// bound to aad, creating that key on the contact's first seal. Use it for
// everything that must vanish with the person: message bodies, attachment
// keys, contact details, raw webhook payloads.
//
// SealContact writes through the Keyring's own connection when it creates a
// key; a caller holding a transaction must use SealContactTx instead (on
// SQLite the one writer connection is busy with that transaction).
func (k *Keyring) SealContact(ctx context.Context, aad AAD, contactID string, plaintext []byte) ([]byte, error) {
	return k.sealContact(ctx, nil, aad, contactID, plaintext)
}

// SealContactTx is SealContact reading and creating keys through idb.
func (k *Keyring) SealContactTx(ctx context.Context, idb bun.IDB, aad AAD, contactID string, plaintext []byte) ([]byte, error) {
	return k.sealContact(ctx, idb, aad, contactID, plaintext)
}

// OpenContact opens what SealContact sealed for the same contact and aad.
// Errors are those of OpenWorkspace; ErrKeyDestroyed means the contact's key
// (or the workspace's) was destroyed. A value sealed before a destroy stays
// unreadable even if a later seal created a fresh key for the same contact
// ID: it names the old key, and opening it gives ErrDecrypt.
func (k *Keyring) OpenContact(ctx context.Context, aad AAD, contactID string, env []byte) ([]byte, error) {
	return k.openContact(ctx, nil, aad, contactID, env)
}

// OpenContactTx is OpenContact reading keys through idb.
func (k *Keyring) OpenContactTx(ctx context.Context, idb bun.IDB, aad AAD, contactID string, env []byte) ([]byte, error) {
	return k.openContact(ctx, idb, aad, contactID, env)
}

// DestroyContactKey deletes the contact's key, so that everything sealed for
// the contact is unreadable from now on, in this database and in every copy
// of the sealed values (P-33). Call it in the transaction that deletes the
// contact (nil idb uses the Keyring's own connection). It is idempotent. The
// cache caveats of DestroyWorkspaceKeys apply.
//
// It does not stop a later SealContact for the same contact ID from creating
// a fresh key: the caller deletes the contact in the same transaction, and a
// person who writes again becomes a new contact.
func (k *Keyring) DestroyContactKey(ctx context.Context, idb bun.IDB, workspaceID, contactID string) error {
	_, w, _ := k.handles(idb)
	if _, err := w.NewRaw(`DELETE FROM contact_keys WHERE workspace_id = ? AND contact_id = ?`, workspaceID, contactID).Exec(ctx); err != nil {
		return fmt.Errorf("keyring: destroy contact key: %w", err)
	}
	ck := cacheKey{kind: kindContactKey, workspace: workspaceID, contact: contactID}
	k.cache.drop(ck)
	txKeysFrom(ctx).drop(ck)
	return nil
}

func (k *Keyring) sealContact(ctx context.Context, idb bun.IDB, aad AAD, contactID string, plaintext []byte) ([]byte, error) {
	if err := checkAAD(aad); err != nil {
		return nil, fmt.Errorf("keyring: seal contact value: %w", err)
	}
	if contactID == "" {
		return nil, errors.New("keyring: seal contact value: empty contact ID")
	}
	id, key, err := k.contactKey(ctx, idb, aad.Workspace, contactID, true, 0)
	defer clear(key[:])
	if err != nil {
		return nil, fmt.Errorf("keyring: seal contact value: %w", err)
	}
	env, err := Seal(key[:], id, plaintext, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: seal contact value: %w", err)
	}
	return env, nil
}

func (k *Keyring) openContact(ctx context.Context, idb bun.IDB, aad AAD, contactID string, env []byte) ([]byte, error) {
	if err := checkAAD(aad); err != nil {
		return nil, fmt.Errorf("keyring: open contact value: %w", err)
	}
	var key [32]byte
	defer clear(key[:])
	pt, err := Open(func(want uint32) ([]byte, error) {
		id, k2, err := k.contactKey(ctx, idb, aad.Workspace, contactID, false, want)
		key = k2
		if errors.Is(err, errNoContactKey) {
			return nil, fmt.Errorf("%w: %v", ErrKeyDestroyed, err)
		}
		if err != nil {
			return nil, err
		}
		if id != want {
			// Sealed for another contact, or under a key destroyed since.
			return nil, fmt.Errorf("%w: contact key is %d, envelope names %d", ErrDecrypt, id, want)
		}
		return key[:], nil
	}, env, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: open contact value: %w", err)
	}
	return pt, nil
}

// contactKey returns the contact's key, creating it first when create is
// set. want, when not zero, is the key ID an envelope names: a cached key
// with another ID is re-read, in case another replica replaced it.
func (k *Keyring) contactKey(ctx context.Context, idb bun.IDB, workspaceID, contactID string, create bool, want uint32) (uint32, [32]byte, error) {
	r, w, cache := k.handles(idb)
	ck := cacheKey{kind: kindContactKey, workspace: workspaceID, contact: contactID}
	if id, key, ok := k.cache.get(ck); ok {
		if want == 0 || id == want {
			return id, key, nil
		}
		clear(key[:])
	}
	var txk *txKeys
	if !cache {
		txk = txKeysFrom(ctx)
		if id, key, ok := txk.get(ck); ok && (want == 0 || id == want) {
			return id, key, nil
		}
	}
	id, key, err := k.readContactKey(ctx, r, cache, workspaceID, contactID)
	if errors.Is(err, errNoContactKey) && create {
		if err := k.insertContactKey(ctx, r, w, cache, workspaceID, contactID); err != nil {
			return 0, key, err
		}
		// Read back through the writer: whichever of several concurrent
		// first seals inserted, every one of them now uses that key.
		id, key, err = k.readContactKey(ctx, w, cache, workspaceID, contactID)
	}
	if err != nil {
		return 0, key, err
	}
	if cache {
		k.cache.put(ck, id, key[:])
	}
	txk.put(ck, id, key)
	return id, key, nil
}

const (
	sqlReadContactKey   = `SELECT key_id, wrapped_by, wrapped FROM contact_keys WHERE workspace_id = ? AND contact_id = ?`
	sqlInsertContactKey = `INSERT INTO contact_keys (workspace_id, contact_id, key_id, wrapped_by, wrapped, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, contact_id) DO NOTHING`
)

// readContactKey reads and unwraps the contact's key.
func (k *Keyring) readContactKey(ctx context.Context, q bun.IDB, cache bool, workspaceID, contactID string) (uint32, [32]byte, error) {
	var key [32]byte
	var id, wrappedBy int64
	var wrapped []byte
	err := k.st.Row(ctx, q, []any{&id, &wrappedBy, &wrapped}, sqlReadContactKey, workspaceID, contactID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, key, errNoContactKey
	}
	if err != nil {
		return 0, key, err
	}
	var wsKey [32]byte
	defer clear(wsKey[:])
	pt, err := Open(func(wsKeyID uint32) ([]byte, error) {
		if int64(wsKeyID) != wrappedBy {
			return nil, fmt.Errorf("%w: contact key row says wrapped by %d, envelope names %d", ErrDecrypt, wrappedBy, wsKeyID)
		}
		var err error
		wsKey, err = k.workspaceKey(ctx, q, cache, workspaceID, wsKeyID)
		return wsKey[:], err
	}, wrapped, contactKeyAAD(workspaceID, contactID, uint32(id)))
	defer clear(pt)
	if err != nil {
		return 0, key, fmt.Errorf("unwrap contact key: %w", err)
	}
	if len(pt) != len(key) {
		return 0, key, fmt.Errorf("unwrap contact key: %w: %d bytes", ErrMalformed, len(pt))
	}
	copy(key[:], pt)
	return uint32(id), key, nil
}

// insertContactKey creates a random key for the contact, wrapped under the
// workspace's primary key, unless another seal got there first: insert or
// ignore on (workspace_id, contact_id), which keeps one key per contact and,
// unlike a failing insert, does not abort a PostgreSQL transaction.
func (k *Keyring) insertContactKey(ctx context.Context, r, w bun.IDB, cache bool, workspaceID, contactID string) error {
	wsID, wsKey, err := k.workspacePrimary(ctx, r, cache, workspaceID)
	defer clear(wsKey[:])
	if err != nil {
		return err
	}
	key := newKey()
	defer clear(key)
	id := newKeyID()
	wrapped, err := Seal(wsKey[:], wsID, key, contactKeyAAD(workspaceID, contactID, id))
	if err != nil {
		return err
	}
	_, err = k.st.Exec(ctx, w, sqlInsertContactKey, workspaceID, contactID, int64(id), int64(wsID), wrapped, k.now().UTC())
	if err != nil {
		return fmt.Errorf("create contact key: %w", err)
	}
	return nil
}

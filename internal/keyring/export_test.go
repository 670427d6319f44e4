package keyring

import (
	"context"
	"encoding/binary"
)

// Test hooks: the P-30 dump test needs the raw key material to prove it never
// reaches the database, and the fuzz targets need reproducible envelopes.

// MasterKeyForTest returns a copy of the master key bytes.
func (m *Master) MasterKeyForTest() []byte { return append([]byte(nil), m.key[:]...) }

// MasterWithIDForTest builds a master key claiming another key's ID, to show
// that a matching ID with the wrong key still fails to open.
func MasterWithIDForTest(key []byte, id uint32) *Master {
	m := &Master{id: id}
	copy(m.key[:], key)
	return m
}

// WorkspaceKeysForTest unwraps every key of a workspace.
func (k *Keyring) WorkspaceKeysForTest(ctx context.Context, workspaceID string) (map[uint32][]byte, error) {
	var rows []struct {
		KeyID   int64  `bun:"key_id"`
		Wrapped []byte `bun:"wrapped"`
	}
	if err := k.d.R.NewRaw(`SELECT key_id, wrapped FROM workspace_keys WHERE workspace_id = ?`, workspaceID).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := map[uint32][]byte{}
	for _, r := range rows {
		key, err := k.unwrapWorkspaceKey(workspaceID, uint32(r.KeyID), r.Wrapped)
		if err != nil {
			return nil, err
		}
		out[uint32(r.KeyID)] = key[:]
	}
	return out, nil
}

// ContactKeyForTest unwraps a contact's key.
func (k *Keyring) ContactKeyForTest(ctx context.Context, workspaceID, contactID string) (uint32, []byte, error) {
	id, key, err := k.readContactKey(ctx, k.d.R, false, workspaceID, contactID)
	return id, key[:], err
}

// DerivedKeysForTest returns the derived keys the Keyring holds.
func (k *Keyring) DerivedKeysForTest() [][]byte { return [][]byte{k.wrapKey, k.blindKey} }

// CacheLenForTest reports how many keys the cache holds.
func (k *Keyring) CacheLenForTest() int { return k.cache.len() }

// SealWithNonceForTest seals with a fixed nonce, for reproducible envelopes.
func SealWithNonceForTest(key []byte, keyID uint32, nonce uint64, plaintext []byte, aad AAD) ([]byte, error) {
	var n [nonceLen]byte
	binary.BigEndian.PutUint64(n[4:], nonce)
	return sealWithNonce(key, keyID, n, plaintext, aad)
}

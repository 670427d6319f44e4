package search

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/parleyhq/parley/internal/keyring"
)

// Scopes of a gram, part of every digest: a contact's grams and a
// message's never share a digest, so searching contacts never walks the
// (far longer) postings of messages, and the other way round.
const (
	scopeContact = 'c'
	scopeMessage = 'm'
)

// keyPurpose is the value the keyring's blind index is taken of to make a
// workspace's search key. Changing it orphans every index.
const keyPurpose = "search-grams/v1"

// digester turns grams into 64-bit digests under per-workspace keys.
//
// A workspace's key is the keyring's BlindIndex of keyPurpose: an HMAC under
// the master's blind-index key over the workspace ID, so every workspace
// has its own key and nothing about it is stored. A digest is the AES-256
// CBC-MAC of (scope, kind, length, gram) — one or two block encryptions —
// truncated to 64 bits. That is over ten times cheaper than an HMAC per
// gram, which matters when two million contacts are indexed.
type digester struct {
	kr  *keyring.Keyring
	mu  sync.Mutex
	max int
	// blocks caches the cipher of recently used workspaces; it is cleared
	// when full, which is rare and cheap (one HMAC to re-make a key).
	blocks map[string]cipher.Block
}

func newDigester(kr *keyring.Keyring, max int) *digester {
	return &digester{kr: kr, max: max, blocks: map[string]cipher.Block{}}
}

// block returns the workspace's cipher.
func (d *digester) block(workspaceID string) (cipher.Block, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.blocks[workspaceID]; ok {
		return b, nil
	}
	key, err := base64.RawURLEncoding.DecodeString(d.kr.BlindIndex(workspaceID, keyPurpose))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("search: workspace key: %d bytes, %v", len(key), err)
	}
	defer clear(key)
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("search: workspace key: %w", err)
	}
	if len(d.blocks) >= d.max {
		clear(d.blocks)
	}
	d.blocks[workspaceID] = b
	return b, nil
}

// digests returns the distinct digests of grams in scope, in first-seen
// order.
func (d *digester) digests(workspaceID string, scope byte, grams []gram) ([]int64, error) {
	b, err := d.block(workspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(grams))
	seen := make(map[int64]struct{}, len(grams))
	for _, g := range grams {
		v := digest(b, scope, g)
		if _, ok := seen[v]; ok {
			continue
		}
		seen[v] = struct{}{}
		out = append(out, v)
	}
	return out, nil
}

// digest is one gram's digest under b: AES-CBC-MAC of (scope, kind,
// length, gram), zero-padded to whole blocks. The length in the first
// block makes the inputs prefix-free, for which CBC-MAC is a
// pseudo-random function; a trigram (at most 12 bytes) takes one block.
func digest(b cipher.Block, scope byte, g gram) int64 {
	var buf [3 + 4*longGram]byte // a five-gram is at most 20 bytes
	buf[0], buf[1], buf[2] = scope, g.kind, byte(len(g.text))
	n := 3 + copy(buf[3:], g.text)
	var x [aes.BlockSize]byte
	for off := 0; off < n; off += aes.BlockSize {
		end := min(off+aes.BlockSize, len(buf))
		for i, c := range buf[off:end] {
			x[i] ^= c
		}
		b.Encrypt(x[:], x[:])
	}
	return int64(binary.BigEndian.Uint64(x[:8]))
}

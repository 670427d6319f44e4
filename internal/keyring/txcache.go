package keyring

import (
	"context"
	"sync"
)

// A transaction cannot use the shared cache: a key it created may roll back
// with it, and a key it read may be one it is about to destroy. Yet a
// transaction that applies a batch of events seals several values for the
// same contact (an inbound message, then its reply) and would read and
// unwrap that contact's key each time. WithTxKeys gives such a transaction
// a memory of its own (security.md §2.5: "cache per request"), which ends
// with it.

type txKeysKey struct{}

// txKeys remembers contact keys read or created through one transaction.
type txKeys struct {
	mu sync.Mutex
	m  map[cacheKey]txKey
}

type txKey struct {
	id  uint32
	key [32]byte
}

// WithTxKeys returns a context under which contact keys that seals and
// opens through a transaction (the *Tx methods) read or create are
// remembered until the context is dropped. Use it for the context of one
// transaction only, and never past it.
func WithTxKeys(ctx context.Context) context.Context {
	return context.WithValue(ctx, txKeysKey{}, &txKeys{m: map[cacheKey]txKey{}})
}

func txKeysFrom(ctx context.Context) *txKeys {
	t, _ := ctx.Value(txKeysKey{}).(*txKeys)
	return t
}

func (t *txKeys) get(k cacheKey) (uint32, [32]byte, bool) {
	if t == nil {
		return 0, [32]byte{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[k]
	return e.id, e.key, ok
}

func (t *txKeys) put(k cacheKey, id uint32, key [32]byte) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[k] = txKey{id: id, key: key}
}

func (t *txKeys) drop(k cacheKey) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[k]; ok {
		clear(e.key[:])
		delete(t.m, k)
	}
}

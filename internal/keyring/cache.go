package keyring

import (
	"container/list"
	"sync"
	"time"
)

// cacheKind tells apart the three things the cache remembers.
type cacheKind uint8

const (
	kindWorkspaceKey     cacheKind = iota + 1 // (workspace, key ID) → key
	kindWorkspacePrimary                      // (workspace) → primary key ID and key
	kindContactKey                            // (workspace, contact) → key ID and key
)

type cacheKey struct {
	kind      cacheKind
	workspace string
	contact   string
	keyID     uint32
}

type cacheEntry struct {
	key     cacheKey
	keyID   uint32
	secret  [32]byte
	expires time.Time
}

// keyCache is a bounded LRU of unwrapped keys with a time to live.
//
// The TTL is what makes the cache sound with several replicas: a key
// destroyed by another process stays usable here for at most the TTL (a
// minute by default), far inside the 30 days promised for erasure (P-33), and
// a value sealed here in that window under a destroyed key is unreadable,
// which is what its deletion asked for. Destroying in this process removes
// the entries at once.
//
// Each entry owns its bytes. get copies them out, so evicting (and clearing)
// an entry never changes a key that a concurrent seal is using; callers
// clear their copy when done.
type keyCache struct {
	mu      sync.Mutex
	now     func() time.Time
	ttl     time.Duration
	max     int
	order   *list.List // front = most recently used; values are *cacheEntry
	entries map[cacheKey]*list.Element
}

// newKeyCache returns a cache; ttl <= 0 or max <= 0 disables it.
func newKeyCache(now func() time.Time, ttl time.Duration, max int) *keyCache {
	return &keyCache{now: now, ttl: ttl, max: max, order: list.New(), entries: map[cacheKey]*list.Element{}}
}

func (c *keyCache) enabled() bool { return c.ttl > 0 && c.max > 0 }

// get returns a copy of a live entry.
func (c *keyCache) get(k cacheKey) (keyID uint32, secret [32]byte, ok bool) {
	if !c.enabled() {
		return 0, secret, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return 0, secret, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.removeLocked(el)
		return 0, secret, false
	}
	c.order.MoveToFront(el)
	return e.keyID, e.secret, true
}

// put stores a copy of secret, evicting the least recently used entries
// beyond the size cap.
func (c *keyCache) put(k cacheKey, keyID uint32, secret []byte) {
	if !c.enabled() || len(secret) != 32 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.removeLocked(el)
	}
	e := &cacheEntry{key: k, keyID: keyID, expires: c.now().Add(c.ttl)}
	copy(e.secret[:], secret)
	c.entries[k] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		c.removeLocked(c.order.Back())
	}
}

// drop removes one entry.
func (c *keyCache) drop(k cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.removeLocked(el)
	}
}

// dropWorkspace removes every entry of a workspace. It scans the whole
// cache, which is bounded and small; destroying keys is rare.
func (c *keyCache) dropWorkspace(workspaceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.entries {
		if k.workspace == workspaceID {
			c.removeLocked(el)
		}
	}
}

// len reports the number of entries, live or expired (for tests).
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// removeLocked unlinks an entry and clears its key bytes (best effort: the
// AES key schedules built from it are beyond our reach).
func (c *keyCache) removeLocked(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.entries, e.key)
	clear(e.secret[:])
}

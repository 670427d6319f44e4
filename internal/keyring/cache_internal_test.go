package keyring

import (
	"bytes"
	"testing"
	"time"
)

func TestKeyCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newKeyCache(func() time.Time { return now }, time.Minute, 2)
	k := func(ws string) cacheKey { return cacheKey{kind: kindWorkspacePrimary, workspace: ws} }
	secret := bytes.Repeat([]byte{7}, 32)

	c.put(k("a"), 1, secret)
	elA := c.entries[k("a")]
	entryA := elA.Value.(*cacheEntry)
	secret[0] = 0 // the cache holds its own copy
	id, got, ok := c.get(k("a"))
	if !ok || id != 1 || got[0] != 7 {
		t.Fatalf("get = %d, %v, %v", id, got[0], ok)
	}
	got[1] = 0 // and hands out copies
	if entryA.secret[1] != 7 {
		t.Fatal("get returned the cache's own bytes")
	}

	// LRU: touching a keeps it; adding c evicts b, the least recently used.
	c.put(k("b"), 2, bytes.Repeat([]byte{8}, 32))
	entryB := c.entries[k("b")].Value.(*cacheEntry)
	c.get(k("a"))
	c.put(k("c"), 3, bytes.Repeat([]byte{9}, 32))
	if _, _, ok := c.get(k("b")); ok {
		t.Error("b survived eviction")
	}
	if entryB.secret != [32]byte{} {
		t.Error("evicted key was not cleared")
	}
	if _, _, ok := c.get(k("a")); !ok {
		t.Error("a was evicted although recently used")
	}

	// Expiry clears too.
	now = now.Add(time.Minute)
	if _, _, ok := c.get(k("a")); ok {
		t.Error("expired entry returned")
	}
	if entryA.secret != [32]byte{} {
		t.Error("expired key was not cleared")
	}

	// dropWorkspace removes every kind of entry of one workspace only.
	c.put(cacheKey{kind: kindWorkspaceKey, workspace: "w", keyID: 5}, 5, secret)
	c.put(cacheKey{kind: kindContactKey, workspace: "x", contact: "p"}, 6, secret)
	c.dropWorkspace("w")
	if _, _, ok := c.get(cacheKey{kind: kindWorkspaceKey, workspace: "w", keyID: 5}); ok {
		t.Error("dropWorkspace left a key")
	}
	if _, _, ok := c.get(cacheKey{kind: kindContactKey, workspace: "x", contact: "p"}); !ok {
		t.Error("dropWorkspace removed another workspace's key")
	}

	off := newKeyCache(time.Now, -1, 10)
	off.put(k("a"), 1, secret)
	if _, _, ok := off.get(k("a")); ok || off.len() != 0 {
		t.Error("disabled cache stored a key")
	}
}

package flow

import (
	"container/list"
	"sync"
)

// versionCacheSize bounds the published versions kept in memory. A
// document is at most MaxDocumentBytes, but real flows are a few KiB; the
// bound is on entries so that a busy instance keeps the live versions of
// many workspaces without re-opening and re-parsing them per message.
const versionCacheSize = 512

// versionKey names one published version. It includes the workspace (A-14
// in security.md §3.A): a lookup for another workspace's flow ID never
// hits, even though flow IDs are unique anyway.
type versionKey struct {
	workspace, flow string
	version         int
}

// versionCache is a least-recently-used cache of published versions, safe
// for concurrent use. Versions never change once stored, so entries never
// go stale; they only leave when the cache is full.
type versionCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *versionEntry, most recently used first
	items map[versionKey]*list.Element
}

type versionEntry struct {
	key versionKey
	doc Document
}

func newVersionCache(max int) *versionCache {
	return &versionCache{max: max, order: list.New(), items: map[versionKey]*list.Element{}}
}

// get returns the cached version and marks it used.
func (c *versionCache) get(k versionKey) (Document, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return Document{}, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*versionEntry).doc, true
}

// put caches a version, evicting the least recently used one when full.
func (c *versionCache) put(k versionKey, doc Document) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.items[k] = c.order.PushFront(&versionEntry{key: k, doc: doc})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*versionEntry).key)
	}
}

// len returns the number of cached versions.
func (c *versionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

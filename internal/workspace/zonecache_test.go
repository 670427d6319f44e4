package workspace

import (
	"fmt"
	"testing"
	"time"
)

// The cache stays within its bound, drops expired entries before fresh
// ones, and never stores a reading that a change overtook.
func TestZoneCache(t *testing.T) {
	var c zoneCache
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	e := func(expires time.Time) zoneEntry { return zoneEntry{loc: time.UTC, expires: expires} }

	// Half the entries expire early, half late.
	for i := range maxCachedZones {
		exp := t0.Add(time.Minute)
		if i%2 == 0 {
			exp = t0.Add(10 * time.Second)
		}
		_, _, gen := c.get("w", t0)
		c.put(fmt.Sprint("ws-", i), e(exp), gen, t0)
	}
	if len(c.entries) != maxCachedZones {
		t.Fatalf("%d entries, want %d", len(c.entries), maxCachedZones)
	}
	// Full, at a time when the early half has expired: only they go.
	later := t0.Add(20 * time.Second)
	_, _, gen := c.get("new", later)
	c.put("new", e(later.Add(time.Minute)), gen, later)
	if len(c.entries) != maxCachedZones/2+1 {
		t.Errorf("%d entries after dropping the expired, want %d", len(c.entries), maxCachedZones/2+1)
	}
	for i := 1; i < maxCachedZones; i += 2 {
		if _, fresh, _ := c.get(fmt.Sprint("ws-", i), later); !fresh {
			t.Fatalf("fresh entry ws-%d was dropped", i)
		}
	}
	// Full of fresh entries: a quarter goes, never more than the bound stays.
	for i := 0; len(c.entries) < maxCachedZones; i++ {
		c.put(fmt.Sprint("more-", i), e(later.Add(time.Minute)), gen, later)
	}
	c.put("one more", e(later.Add(time.Minute)), gen, later)
	if n := len(c.entries); n > maxCachedZones*3/4+1 || n < maxCachedZones/2 {
		t.Errorf("%d entries after overflowing with fresh ones", n)
	}
	if _, fresh, _ := c.get("one more", later); !fresh {
		t.Error("the newest entry was not kept")
	}
	// Expiry is exclusive: fresh before, stale at it.
	if _, fresh, _ := c.get("one more", later.Add(time.Minute)); fresh {
		t.Error("an entry is fresh at its expiry")
	}

	// A reading started before a forget is not stored after it.
	_, _, gen = c.get("raced", later)
	c.forget("raced")
	c.put("raced", e(later.Add(time.Minute)), gen, later)
	if _, ok := c.entries["raced"]; ok {
		t.Error("a reading older than the change was stored")
	}
	_, _, gen = c.get("raced", later)
	c.put("raced", e(later.Add(time.Minute)), gen, later)
	if _, fresh, _ := c.get("raced", later); !fresh {
		t.Error("a reading after the change was not stored")
	}
}

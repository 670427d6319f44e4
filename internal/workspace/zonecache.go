package workspace

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// maxCachedZones bounds the time zones TimeZone remembers. An entry is a
// few dozen bytes; past the bound the oldest readings are not kept longer
// than the busiest workspaces need.
const maxCachedZones = 10_000

// TimeZone returns the workspace's time zone, for flows' business hours
// (the runner asks on every turn). It reads the database at most once per
// Options.TimeZoneTTL per workspace: a change made through this service
// is seen at once, one made on another replica within the TTL. An unknown
// workspace is an error wrapping db.ErrNotFound.
func (s *Service) TimeZone(ctx context.Context, workspaceID string) (*time.Location, error) {
	return s.TimeZoneTx(ctx, s.d.R, workspaceID)
}

// TimeZoneTx is TimeZone reading through idb when the cache misses: inside
// a transaction, pass it, so the read does not take a second connection
// from the pool (on PostgreSQL, transactions that each wait for one more
// connection can use the pool up and wait on each other).
func (s *Service) TimeZoneTx(ctx context.Context, idb bun.IDB, workspaceID string) (*time.Location, error) {
	now := s.opt.Now()
	e, fresh, gen := s.zones.get(workspaceID, now)
	if fresh {
		return e.loc, nil
	}
	var name string
	if err := idb.NewRaw(`SELECT time_zone FROM workspaces WHERE id = ?`, workspaceID).Scan(ctx, &name); err != nil {
		return nil, fmt.Errorf("workspace: time zone: %w", db.NoRows(err))
	}
	loc := e.loc
	if loc == nil || loc.String() != name {
		var err error
		if loc, err = ParseTimeZone(name); err != nil {
			return nil, fmt.Errorf("workspace: time zone %q: %w", name, err)
		}
	}
	s.zones.put(workspaceID, zoneEntry{loc: loc, expires: now.Add(s.opt.TimeZoneTTL)}, gen, now)
	return loc, nil
}

// zoneCache is TimeZone's memory: each workspace's location and until
// when to trust it.
type zoneCache struct {
	mu      sync.Mutex
	entries map[string]zoneEntry
	// gen counts forgets. A reading started before a forget is not
	// stored after it, so a change is never hidden by a value read just
	// before the change committed.
	gen uint64
}

type zoneEntry struct {
	loc     *time.Location
	expires time.Time
}

// get returns the workspace's entry (zero when there is none), whether it
// is still fresh at now, and the generation to pass to put.
func (c *zoneCache) get(workspaceID string, now time.Time) (zoneEntry, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[workspaceID]
	return e, ok && now.Before(e.expires), c.gen
}

// put stores an entry read at generation gen, unless a forget came since.
// When full, it drops the entries expired at now and, if that is not
// enough, a quarter of the rest, so a full cache costs one sweep per many
// puts rather than one per put.
func (c *zoneCache) put(workspaceID string, e zoneEntry, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil {
		c.entries = map[string]zoneEntry{}
	}
	if _, ok := c.entries[workspaceID]; !ok && len(c.entries) >= maxCachedZones {
		for id, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, id)
			}
		}
		for id := range c.entries {
			if len(c.entries) < maxCachedZones*3/4 {
				break
			}
			delete(c.entries, id)
		}
	}
	c.entries[workspaceID] = e
}

// forget drops the workspace's entry after its time zone changed.
func (c *zoneCache) forget(workspaceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, workspaceID)
}

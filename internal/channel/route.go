package channel

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Routing a webhook event to its channel is a lookup by account for every
// delivery, and the answer almost never changes: Route remembers it.
//
// Every change this process makes to a channel (connect, disconnect,
// settings, token state) forgets everything remembered, so it is seen by
// the next event at once. A change made by another replica is seen within
// routeTTL, as the kill switch is within its poll: events for a Page
// disconnected there may still be applied here for that long, and their
// replies then fail for want of a token.
const (
	routeTTL = time.Second
	// routeMax bounds the remembered accounts (unknown ones included, so
	// a flood of events for made-up Pages cannot grow it).
	routeMax = 4096
)

type routeKey struct {
	t       Type
	account string
}

type routeEntry struct {
	ch  Channel
	err error // db.ErrNotFound for an account nobody connected
	gen uint64
	at  time.Time
}

// routes is the Store's memory of ByAccount answers.
type routes struct {
	gen atomic.Uint64 // moved by every change to a channel
	mu  sync.Mutex
	m   map[routeKey]routeEntry
}

// changed forgets every remembered route. Stores call it after each change
// to a channel has committed (and may call it before as well).
func (r *routes) changed() { r.gen.Add(1) }

func (r *routes) get(k routeKey, now time.Time) (routeEntry, bool) {
	r.mu.Lock()
	e, ok := r.m[k]
	r.mu.Unlock()
	if !ok || e.gen != r.gen.Load() || now.Sub(e.at) >= routeTTL || now.Before(e.at) {
		return routeEntry{}, false
	}
	return e, true
}

func (r *routes) put(k routeKey, e routeEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= routeMax {
		r.m = make(map[routeKey]routeEntry)
	}
	r.m[k] = e
}

// Route is ByAccount for webhook processing: the active channel holding
// the account (db.ErrNotFound when none does), remembered for up to
// routeTTL. idb is the processing transaction; what it reads is
// remembered only if no change to a channel began meanwhile.
func (s *Store) Route(ctx context.Context, idb bun.IDB, t Type, account string) (Channel, error) {
	k := routeKey{t, account}
	now := time.Now() // real time: the TTL bounds staleness between processes
	if e, ok := s.routes.get(k, now); ok {
		return e.ch, e.err
	}
	gen := s.routes.gen.Load()
	ch, err := s.ByAccount(ctx, idb, t, account)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return Channel{}, err
	}
	s.routes.put(k, routeEntry{ch: ch, err: err, gen: gen, at: now})
	return ch, err
}

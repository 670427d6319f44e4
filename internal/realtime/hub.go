package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/internal/db"
)

// DefaultChannel is the PostgreSQL NOTIFY channel replicas share.
const DefaultChannel = "parley_realtime"

// Options tune New. The zero value is fine for production.
type Options struct {
	// Buffer is each subscriber's queue length (default 64). A subscriber
	// whose queue is full when an event arrives is dropped with ErrLagging.
	Buffer int
	// Channel is the NOTIFY channel (default DefaultChannel). Installations
	// sharing one PostgreSQL database in different schemas need different
	// channels, because channels are per database, not per schema.
	Channel string
	// ReplicaID identifies this process in NOTIFY payloads so that it skips
	// its own events (default: a fresh UUIDv7).
	ReplicaID string
	// Logger receives listener connection problems (default: discarded).
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the listener's reconnect delay
	// (defaults 100ms and 10s).
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how long the listener waits for a notification before
	// pinging its connection, so that a silently dead connection is noticed
	// (default 30s).
	PingInterval time.Duration
}

var channelName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (o *Options) defaults() error {
	if o.Buffer <= 0 {
		o.Buffer = 64
	}
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if !channelName.MatchString(o.Channel) {
		return fmt.Errorf("realtime: invalid channel name %q", o.Channel)
	}
	if o.ReplicaID == "" {
		o.ReplicaID = uuid.Must(uuid.NewV7()).String()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(10*time.Second, o.MinBackoff)
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	return nil
}

// Hub fans events out to the subscribers of each workspace. It is safe for
// concurrent use. Publishers never block on subscribers: delivery is a
// non-blocking send into each subscriber's bounded queue.
type Hub struct {
	opt  Options
	pool *pgxpool.Pool // nil: local delivery only (SQLite)

	mu     sync.RWMutex
	topics map[string]map[*Subscription]struct{}
	closed bool

	stopListener context.CancelFunc
	listenerDone chan struct{}
	listenerPID  atomic.Uint32 // backend PID of the current listener connection (for tests)
	closeOnce    sync.Once
}

// New returns a Hub. With d on PostgreSQL it connects a dedicated listener
// connection and LISTENs before returning, so a failure to listen fails
// start-up and an event published by another replica after New returns is
// delivered. With d nil or on SQLite the Hub delivers locally only.
// Close the Hub to stop the listener and end every subscription.
func New(ctx context.Context, d *db.DB, opt Options) (*Hub, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	h := &Hub{opt: opt, topics: map[string]map[*Subscription]struct{}{}}
	if d == nil || d.Dialect != db.Postgres {
		return h, nil
	}
	if d.Pool == nil {
		return nil, errors.New("realtime: postgres handle without a pgx pool")
	}
	h.pool = d.Pool
	conn, err := h.connect(ctx)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	h.stopListener = cancel
	h.listenerDone = make(chan struct{})
	go h.listen(lctx, conn)
	return h, nil
}

// ReplicaID is the ID this Hub tags its NOTIFY payloads with.
func (h *Hub) ReplicaID() string { return h.opt.ReplicaID }

// Publish delivers ev to the local subscribers of its workspace whose filter
// accepts it and, on PostgreSQL, to the other replicas' subscribers. Call it
// after the change has committed, so that a dashboard re-fetching on the
// hint sees the change. Local delivery has happened even when the returned
// error reports a failed NOTIFY.
func (h *Hub) Publish(ctx context.Context, ev Event) error {
	if err := ev.validate(); err != nil {
		return err
	}
	h.mu.RLock()
	closed := h.closed
	h.mu.RUnlock()
	if closed {
		return ErrHubClosed
	}
	h.deliver(ev)
	if h.pool == nil {
		return nil
	}
	return h.notify(ctx, ev)
}

// Subscribe registers a subscriber to workspaceID's events. filter, when not
// nil, decides per event whether this subscriber may see it (for example an
// agent who sees only conversations assigned to them); it runs on the
// publisher's goroutine, so it must be fast and must not block or call back
// into the Hub. Resync events bypass the filter: they carry no IDs.
//
// The subscription ends when ctx ends, when Close is called, when the
// subscriber lags (ErrLagging) or when the Hub closes; its channel is then
// closed and Err says why.
func (h *Hub) Subscribe(ctx context.Context, workspaceID string, filter func(Event) bool) (*Subscription, error) {
	if workspaceID == "" {
		return nil, errors.New("realtime: subscribe without workspace")
	}
	s := &Subscription{hub: h, workspace: workspaceID, filter: filter, ch: make(chan Event, h.opt.Buffer)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrHubClosed
	}
	t := h.topics[workspaceID]
	if t == nil {
		t = map[*Subscription]struct{}{}
		h.topics[workspaceID] = t
	}
	t[s] = struct{}{}
	h.mu.Unlock()
	// AfterFunc costs no goroutine until ctx ends.
	stop := context.AfterFunc(ctx, func() { h.remove(s, ErrUnsubscribed) })
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
	if s.Err() != nil {
		// Dropped (lagging) before stop was recorded: deregister here.
		stop()
	}
	return s, nil
}

// Subscribers reports how many subscriptions are open (for metrics and tests).
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, t := range h.topics {
		n += len(t)
	}
	return n
}

// Close stops the listener and ends every subscription with ErrHubClosed, so
// that SSE streams return (call it when the server shuts down: streams never
// go idle, so http.Server.Shutdown would otherwise wait for them). Publish
// and Subscribe fail afterwards. Close is idempotent and always returns nil.
func (h *Hub) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		if h.stopListener != nil {
			h.stopListener()
			<-h.listenerDone
		}
		h.mu.RLock()
		var all []*Subscription
		for _, t := range h.topics {
			for s := range t {
				all = append(all, s)
			}
		}
		h.mu.RUnlock()
		for _, s := range all {
			h.remove(s, ErrHubClosed)
		}
	})
	return nil
}

// deliver hands ev to the local subscribers of its workspace whose filter
// accepts it, dropping those whose queue is full.
func (h *Hub) deliver(ev Event) {
	var lagging []*Subscription
	h.mu.RLock()
	for s := range h.topics[ev.WorkspaceID] {
		if ev.Kind != KindResync && s.filter != nil && !s.filter(ev) {
			continue
		}
		// Sends happen under the read lock and channels are closed under
		// the write lock, so a send never meets a closed channel.
		select {
		case s.ch <- ev:
		default:
			lagging = append(lagging, s)
		}
	}
	h.mu.RUnlock()
	for _, s := range lagging {
		h.remove(s, ErrLagging)
	}
}

// resyncAll tells every local subscriber that it may have missed events.
func (h *Hub) resyncAll() {
	h.mu.RLock()
	workspaces := make([]string, 0, len(h.topics))
	for ws := range h.topics {
		workspaces = append(workspaces, ws)
	}
	h.mu.RUnlock()
	for _, ws := range workspaces {
		h.deliver(Event{WorkspaceID: ws, Kind: KindResync})
	}
}

// remove ends s with err unless it has already ended.
func (h *Hub) remove(s *Subscription, err error) {
	h.mu.Lock()
	if s.err == nil {
		s.err = err
		if t := h.topics[s.workspace]; t != nil {
			delete(t, s)
			if len(t) == 0 {
				delete(h.topics, s.workspace)
			}
		}
		close(s.ch)
	}
	h.mu.Unlock()
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Subscription is one subscriber's view of a workspace topic.
type Subscription struct {
	hub       *Hub
	workspace string
	filter    func(Event) bool
	ch        chan Event
	err       error // guarded by hub.mu; set once when the subscription ends

	mu   sync.Mutex
	stop func() bool // deregisters the context.AfterFunc
}

// Events returns the channel events arrive on. It is closed when the
// subscription ends; Err then says why.
func (s *Subscription) Events() <-chan Event { return s.ch }

// WorkspaceID is the workspace subscribed to.
func (s *Subscription) WorkspaceID() string { return s.workspace }

// Err is nil while the subscription is open, then ErrUnsubscribed,
// ErrLagging or ErrHubClosed.
func (s *Subscription) Err() error {
	s.hub.mu.RLock()
	defer s.hub.mu.RUnlock()
	return s.err
}

// Close ends the subscription. It is idempotent.
func (s *Subscription) Close() { s.hub.remove(s, ErrUnsubscribed) }

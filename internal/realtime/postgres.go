package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxPayload is PostgreSQL's NOTIFY payload limit (8000 bytes, exclusive).
const maxPayload = 7999

// envelope is a NOTIFY payload: the event and the replica that sent it.
type envelope struct {
	Replica string `json:"r"`
	Event   Event  `json:"e"`
}

// notify sends ev to the other replicas.
func (h *Hub) notify(ctx context.Context, ev Event) error {
	payload, err := json.Marshal(envelope{Replica: h.opt.ReplicaID, Event: ev})
	if err != nil {
		return fmt.Errorf("realtime: encode notification: %w", err)
	}
	if len(payload) > maxPayload {
		return fmt.Errorf("realtime: notification of %d bytes exceeds %d", len(payload), maxPayload)
	}
	if _, err := h.pool.Exec(ctx, "SELECT pg_notify($1, $2)", h.opt.Channel, string(payload)); err != nil {
		return fmt.Errorf("realtime: notify: %w", err)
	}
	return nil
}

// connect opens a dedicated connection (not taken from the pool, which
// would lose one connection for good) with the pool's settings, and LISTENs.
func (h *Hub) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, h.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("realtime: connect listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{h.opt.Channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("realtime: listen: %w", err)
	}
	h.listenerPID.Store(conn.PgConn().PID())
	return conn, nil
}

// listen receives notifications until ctx ends, reconnecting with backoff
// whenever the connection breaks. After a reconnect every local subscriber
// gets a resync event, since notifications sent meanwhile are lost.
func (h *Hub) listen(ctx context.Context, conn *pgx.Conn) {
	defer close(h.listenerDone)
	for {
		err := h.receive(ctx, conn)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		h.opt.Logger.Warn("realtime: listener connection lost; reconnecting", "err", err)
		conn = h.reconnect(ctx)
		if conn == nil {
			return
		}
		h.opt.Logger.Info("realtime: listener reconnected")
		h.resyncAll()
	}
}

// receive delivers notifications from conn until it fails or ctx ends.
func (h *Hub) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, h.opt.PingInterval)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) && !conn.IsClosed() {
				// Quiet for a while: make sure the connection is alive.
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err = conn.Ping(pctx)
				cancel()
				if err != nil {
					return fmt.Errorf("realtime: ping listener: %w", err)
				}
				continue
			}
			return fmt.Errorf("realtime: wait for notification: %w", err)
		}
		h.handle(n.Payload)
	}
}

// handle delivers one notification from another replica.
func (h *Hub) handle(payload string) {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		h.opt.Logger.Warn("realtime: undecodable notification", "err", err)
		return
	}
	if env.Replica == h.opt.ReplicaID {
		return // delivered locally when published
	}
	if err := env.Event.validate(); err != nil {
		h.opt.Logger.Warn("realtime: invalid notification", "err", err)
		return
	}
	h.deliver(env.Event)
}

// reconnect retries connect with jittered exponential backoff until it
// succeeds or ctx ends (then it returns nil).
func (h *Hub) reconnect(ctx context.Context) *pgx.Conn {
	delay := h.opt.MinBackoff
	for {
		// Jitter within [delay/2, delay] so replicas do not reconnect in step.
		wait := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := h.connect(ctx)
		if err == nil {
			return conn
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return nil
		}
		h.opt.Logger.Warn("realtime: listener reconnect failed", "err", err, "retry_in", delay)
		delay = min(delay*2, h.opt.MaxBackoff)
	}
}

// closeConn closes conn without waiting long for a dead server.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn.Close(ctx)
}

package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// replicas opens n handles on one PostgreSQL database, as n replicas would,
// and a Hub on each sharing a channel of the test's own (NOTIFY channels are
// per database, so parallel tests in other schemas must not hear these).
func replicas(t *testing.T, n int, opt Options) []*Hub {
	t.Helper()
	ctx := context.Background()
	first, dsn := dbtest.PostgresDSN(t)
	var b [6]byte
	rand.Read(b[:])
	opt.Channel = "parley_rt_" + hex.EncodeToString(b[:])
	hubs := make([]*Hub, n)
	for i := range hubs {
		d := first
		if i > 0 {
			var err error
			if d, err = db.Open(ctx, dsn, "", db.Options{MaxConns: 4}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
		}
		h, err := New(ctx, d, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		hubs[i] = h
	}
	return hubs
}

// collectUntil reads sub's events until one for conversation stop arrives,
// counting every event by conversation ID.
func collectUntil(t *testing.T, sub *Subscription, stop string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for {
		ev := recv(t, sub)
		seen[ev.ConversationID]++
		if ev.ConversationID == stop {
			return seen
		}
	}
}

func TestTwoReplicasDeliverEachOthersEventsOnce(t *testing.T) {
	t.Run("default", func(t *testing.T) { testTwoReplicas(t, Options{}) })
	// A tiny ping interval makes the listener time out and ping between
	// notifications all the time: delivery must be unaffected.
	t.Run("frequent pings", func(t *testing.T) { testTwoReplicas(t, Options{PingInterval: time.Millisecond}) })
}

func testTwoReplicas(t *testing.T, opt Options) {
	hubs := replicas(t, 2, opt)
	h1, h2 := hubs[0], hubs[1]
	ctx := context.Background()
	s1, err := h1.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := h2.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := h2.Subscribe(ctx, "ws2", nil)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(h *Hub, conv string) {
		t.Helper()
		if err := h.Publish(ctx, Event{WorkspaceID: "ws1", Kind: KindMessage, ConversationID: conv}); err != nil {
			t.Fatal(err)
		}
	}
	publish(h1, "a")
	publish(h2, "b")
	// Sentinels: notifications arrive in commit order, so a duplicate of a
	// or b (a replica hearing its own NOTIFY) would arrive before the other
	// replica's sentinel.
	publish(h2, "stop2")
	publish(h1, "stop1")

	for _, tc := range []struct {
		name string
		sub  *Subscription
		stop string
	}{{"replica 1", s1, "stop2"}, {"replica 2", s2, "stop1"}} {
		seen := collectUntil(t, tc.sub, tc.stop)
		for _, conv := range []string{"a", "b", tc.stop} {
			if seen[conv] != 1 {
				t.Errorf("%s saw %q %d times, want once (all: %v)", tc.name, conv, seen[conv], seen)
			}
		}
		if seen[""] != 0 { // resyncs mean the listener reconnected
			t.Errorf("%s saw %d resyncs, want none", tc.name, seen[""])
		}
	}
	assertEmpty(t, other)
}

func TestListenerReconnectsAndResyncs(t *testing.T) {
	hubs := replicas(t, 2, Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	h1, h2 := hubs[0], hubs[1]
	ctx := context.Background()
	sub, err := h1.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}

	// Kill h1's listener connection from the server side.
	admin, err := pgx.Connect(ctx, dbtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	pid := h1.listenerPID.Load()
	var killed bool
	if err := admin.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int64(pid)).Scan(&killed); err != nil {
		t.Fatalf("terminate listener: %v", err)
	}
	if !killed {
		t.Fatal("listener backend not terminated")
	}

	ev := recv(t, sub)
	if ev.Kind != KindResync || ev.WorkspaceID != "ws1" {
		t.Fatalf("first event after the kill %+v, want a resync for ws1", ev)
	}
	// After the resync the listener is back: new events from the other
	// replica arrive.
	if err := h2.Publish(ctx, Event{WorkspaceID: "ws1", Kind: KindConversation, ConversationID: "after"}); err != nil {
		t.Fatal(err)
	}
	if ev := recv(t, sub); ev.ConversationID != "after" {
		t.Fatalf("got %+v, want the event published after reconnecting", ev)
	}
	if h1.listenerPID.Load() == pid {
		t.Fatal("listener PID unchanged after reconnect")
	}
}

func TestPostgresHubClosesCleanly(t *testing.T) {
	h := replicas(t, 1, Options{})[0]
	sub, err := h.Subscribe(context.Background(), "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Close() // waits for the listener goroutine to exit
	if !errors.Is(sub.Err(), ErrHubClosed) {
		t.Fatalf("Err() = %v, want ErrHubClosed", sub.Err())
	}
	if err := h.Publish(context.Background(), Event{WorkspaceID: "ws1", Kind: KindMessage}); !errors.Is(err, ErrHubClosed) {
		t.Fatalf("Publish after Close = %v, want ErrHubClosed", err)
	}
}

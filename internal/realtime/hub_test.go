package realtime

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// localHub is a Hub without a database, as on SQLite.
func localHub(t testing.TB, opt Options) *Hub {
	t.Helper()
	h, err := New(context.Background(), nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// recv waits for the next event on sub, failing the test after a generous
// deadline (a hang guard, not a latency assertion).
func recv(t testing.TB, sub *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-sub.Events():
		if !ok {
			t.Fatalf("subscription ended: %v", sub.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return Event{}
}

// assertEmpty checks that nothing is queued for sub. Delivery to local
// subscribers happens inside Publish, so after Publish returns an event that
// was not queued never will be.
func assertEmpty(t *testing.T, sub *Subscription) {
	t.Helper()
	select {
	case ev := <-sub.Events():
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFanOutToEverySubscriberOfTheWorkspace(t *testing.T) {
	h := localHub(t, Options{})
	ctx := context.Background()
	const n = 200
	subs := make([]*Subscription, n)
	for i := range subs {
		s, err := h.Subscribe(ctx, "ws1", nil)
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = s
	}
	other, err := h.Subscribe(ctx, "ws2", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Event{WorkspaceID: "ws1", Kind: KindMessage, ConversationID: "c1", ContactID: "p1"}
	if err := h.Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	for i, s := range subs {
		if diff := cmp.Diff(want, recv(t, s)); diff != "" {
			t.Fatalf("subscriber %d (-want +got):\n%s", i, diff)
		}
	}
	// Another workspace never receives ws1's events.
	assertEmpty(t, other)
	if got := h.Subscribers(); got != n+1 {
		t.Fatalf("Subscribers() = %d, want %d", got, n+1)
	}
}

func TestFilterDecidesVisibility(t *testing.T) {
	h := localHub(t, Options{})
	ctx := context.Background()
	// An agent who may see only conversations assigned to them.
	mine, err := h.Subscribe(ctx, "ws1", func(ev Event) bool { return ev.AssigneeID == "u1" })
	if err != nil {
		t.Fatal(err)
	}
	all, err := h.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	events := []Event{
		{WorkspaceID: "ws1", Kind: KindConversation, ConversationID: "c1", AssigneeID: "u2"},
		{WorkspaceID: "ws1", Kind: KindConversation, ConversationID: "c2", AssigneeID: "u1"},
		{WorkspaceID: "ws1", Kind: KindConversation, ConversationID: "c3"},
	}
	for _, ev := range events {
		if err := h.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := recv(t, mine); got.ConversationID != "c2" {
		t.Fatalf("filtered subscriber got %+v, want c2", got)
	}
	assertEmpty(t, mine)
	for _, want := range events {
		if diff := cmp.Diff(want, recv(t, all)); diff != "" {
			t.Fatalf("unfiltered subscriber (-want +got):\n%s", diff)
		}
	}
	// Resync carries no IDs, so it bypasses filters.
	h.resyncAll()
	if got := recv(t, mine); got.Kind != KindResync || got.WorkspaceID != "ws1" {
		t.Fatalf("got %+v, want a resync for ws1", got)
	}
}

func TestSlowSubscriberIsDroppedWithoutBlocking(t *testing.T) {
	h := localHub(t, Options{Buffer: 4})
	ctx := context.Background()
	slow, err := h.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := h.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Publish far more than the buffer while only fast reads. If a full
	// queue blocked publishers, this loop would hang (and the test time out).
	for i := range 100 {
		if err := h.Publish(ctx, Event{WorkspaceID: "ws1", Kind: KindMessage}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		recv(t, fast)
	}
	// slow keeps what fitted, then its channel is closed with ErrLagging.
	n := 0
	for range slow.Events() {
		n++
	}
	if n != 4 {
		t.Fatalf("slow subscriber drained %d events, want its buffer of 4", n)
	}
	if !errors.Is(slow.Err(), ErrLagging) {
		t.Fatalf("slow.Err() = %v, want ErrLagging", slow.Err())
	}
	if fast.Err() != nil {
		t.Fatalf("fast.Err() = %v, want nil", fast.Err())
	}
	if got := h.Subscribers(); got != 1 {
		t.Fatalf("Subscribers() = %d, want 1", got)
	}
}

func TestSubscriptionEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func(h *Hub, s *Subscription, cancel context.CancelFunc)
		want error
	}{
		{"close", func(h *Hub, s *Subscription, _ context.CancelFunc) { s.Close(); s.Close() }, ErrUnsubscribed},
		{"context canceled", func(h *Hub, s *Subscription, cancel context.CancelFunc) { cancel() }, ErrUnsubscribed},
		{"hub closed", func(h *Hub, s *Subscription, _ context.CancelFunc) { h.Close() }, ErrHubClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := localHub(t, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := h.Subscribe(ctx, "ws1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Err() != nil {
				t.Fatalf("open subscription has Err %v", s.Err())
			}
			tt.end(h, s, cancel)
			select {
			case _, ok := <-s.Events():
				if ok {
					t.Fatal("got an event, want a closed channel")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("channel not closed")
			}
			if !errors.Is(s.Err(), tt.want) {
				t.Fatalf("Err() = %v, want %v", s.Err(), tt.want)
			}
			if got := h.Subscribers(); got != 0 {
				t.Fatalf("Subscribers() = %d after the end, want 0", got)
			}
			// Publishing to a workspace whose subscribers left is harmless.
			err = h.Publish(ctx, Event{WorkspaceID: "ws1", Kind: KindMessage})
			if tt.want == ErrHubClosed {
				if !errors.Is(err, ErrHubClosed) {
					t.Fatalf("Publish after Close = %v, want ErrHubClosed", err)
				}
				if _, err := h.Subscribe(ctx, "ws1", nil); !errors.Is(err, ErrHubClosed) {
					t.Fatalf("Subscribe after Close = %v, want ErrHubClosed", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSubscribeWithEndedContext(t *testing.T) {
	h := localHub(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := h.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscription to end", func() bool { return s.Err() != nil })
	if got := h.Subscribers(); got != 0 {
		t.Fatalf("Subscribers() = %d, want 0", got)
	}
}

func TestInvalidInput(t *testing.T) {
	h := localHub(t, Options{})
	ctx := context.Background()
	long := strings.Repeat("x", maxIDLen+1)
	bad := []struct {
		name string
		ev   Event
	}{
		{"no workspace", Event{Kind: KindMessage}},
		{"no kind", Event{WorkspaceID: "ws1"}},
		{"kind with newline", Event{WorkspaceID: "ws1", Kind: "message\ndata: x"}},
		{"kind upper case", Event{WorkspaceID: "ws1", Kind: "Message"}},
		{"long ID", Event{WorkspaceID: "ws1", Kind: KindMessage, ConversationID: long}},
		{"ID with space", Event{WorkspaceID: "ws1", Kind: KindMessage, ContactID: "Jane Doe"}},
		{"non-ASCII ID", Event{WorkspaceID: "ws1", Kind: KindMessage, TeamID: "ทีม"}},
	}
	s, err := h.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.Publish(ctx, tt.ev); err == nil {
				t.Fatal("Publish accepted an invalid event")
			}
			assertEmpty(t, s)
		})
	}
	if _, err := h.Subscribe(ctx, "", nil); err == nil {
		t.Fatal("Subscribe accepted an empty workspace")
	}
	if _, err := New(ctx, nil, Options{Channel: "bad channel"}); err == nil {
		t.Fatal("New accepted an invalid channel name")
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	h, err := New(context.Background(), nil, Options{Buffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	for i := range 100 {
		s, err := h.Subscribe(ctx, "ws1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			s.Close()
		}
	}
	for range 3 { // overflows the remaining subscribers' one-slot queues
		if err := h.Publish(context.Background(), Event{WorkspaceID: "ws1", Kind: KindMessage}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	h.Close()
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

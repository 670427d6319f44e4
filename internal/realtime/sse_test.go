package realtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sseFrame is one parsed Server-Sent Events frame.
type sseFrame struct {
	Event, Data, Retry, Comment string
}

// readFrame reads one frame (up to a blank line) from r.
func readFrame(r *bufio.Reader) (sseFrame, error) {
	var f sseFrame
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return f, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return f, nil
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			f.Comment = value
		case "event":
			f.Event = value
		case "data":
			f.Data = value
		case "retry":
			f.Retry = value
		default:
			return f, errors.New("unknown field " + field)
		}
	}
}

// nextEvent skips heartbeats and returns the next named frame's event.
func nextEvent(t *testing.T, r *bufio.Reader) (string, Event) {
	t.Helper()
	for {
		f, err := readFrame(r)
		if err != nil {
			t.Fatalf("read frame: %v", err)
		}
		if f.Comment != "" {
			continue
		}
		var ev Event
		if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
			t.Fatalf("frame data %q: %v", f.Data, err)
		}
		return f.Event, ev
	}
}

// sseServer serves ws1's events with a subscription bound to the request.
// active counts handlers that have not returned yet.
func sseServer(t *testing.T, h *Hub, opt SSEOptions) (srv *httptest.Server, active *atomic.Int32) {
	t.Helper()
	active = new(atomic.Int32)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Add(-1)
		sub, err := h.Subscribe(r.Context(), "ws1", nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		defer sub.Close()
		ServeSSE(w, r, sub, opt)
	}))
	t.Cleanup(srv.Close)
	return srv, active
}

// connect opens a stream and checks its headers and retry hint.
func connect(t *testing.T, ctx context.Context, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(k); got != want {
			t.Fatalf("%s = %q, want %q", k, got, want)
		}
	}
	r := bufio.NewReader(resp.Body)
	f, err := readFrame(r)
	if err != nil {
		t.Fatal(err)
	}
	if f.Retry != "2500" {
		t.Fatalf("first frame %+v, want retry: 2500", f)
	}
	return resp, r
}

func TestSSEStreamsEventsAndHeartbeats(t *testing.T) {
	h := localHub(t, Options{})
	srv, active := sseServer(t, h, SSEOptions{Heartbeat: 20 * time.Millisecond, Retry: 2500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, r := connect(t, ctx, srv.URL)

	want := Event{WorkspaceID: "ws1", Kind: KindConversation, ConversationID: "c1", AssigneeID: "u1"}
	if err := h.Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := h.Publish(ctx, Event{WorkspaceID: "ws2", Kind: KindMessage}); err != nil {
		t.Fatal(err)
	}
	name, got := nextEvent(t, r)
	if name != "conversation" {
		t.Fatalf("event name %q, want conversation", name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("event (-want +got):\n%s", diff)
	}

	// With nothing to send, heartbeats keep coming.
	for beats := 0; beats < 2; {
		f, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if f.Event != "" {
			t.Fatalf("unexpected event %+v (ws2's event must not reach ws1)", f)
		}
		if f.Comment == "ping" {
			beats++
		}
	}

	// The client goes away: the handler returns and unsubscribes.
	cancel()
	waitFor(t, "the handler to return after disconnect", func() bool { return active.Load() == 0 })
	if n := h.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers after disconnect, want 0", n)
	}
}

func TestSSEEndsOnHubClose(t *testing.T) {
	h := localHub(t, Options{})
	srv, active := sseServer(t, h, SSEOptions{Retry: 2500 * time.Millisecond})
	_, r := connect(t, context.Background(), srv.URL)
	h.Close()
	for {
		f, err := readFrame(r)
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Event != "" {
			t.Fatalf("unexpected event %+v", f)
		}
	}
	waitFor(t, "the handler to return after Close", func() bool { return active.Load() == 0 })
	// A new stream is refused instead of hanging.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status after Close %d, want 503", resp.StatusCode)
	}
}

func TestSSELaggingSubscriberIsToldToResync(t *testing.T) {
	h := localHub(t, Options{Buffer: 1})
	ctx := context.Background()
	sub, err := h.Subscribe(ctx, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The second event overflows the one-slot queue: sub is dropped.
	for _, c := range []string{"c1", "c2"} {
		if err := h.Publish(ctx, Event{WorkspaceID: "ws1", Kind: KindMessage, ConversationID: c}); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/events", nil)
	if err := ServeSSE(rec, req, sub, SSEOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "retry: 3000\n\n" +
		`event: message` + "\n" + `data: {"workspace_id":"ws1","kind":"message","conversation_id":"c1"}` + "\n\n" +
		`event: resync` + "\n" + `data: {"workspace_id":"ws1","kind":"resync"}` + "\n\n"
	if diff := cmp.Diff(want, rec.Body.String()); diff != "" {
		t.Fatalf("stream (-want +got):\n%s", diff)
	}
}

// noFlush is a ResponseWriter that cannot flush, like some wrapping
// middleware: ServeSSE must report it instead of buffering forever.
type noFlush struct{ http.ResponseWriter }

func TestSSEWithoutFlusherFails(t *testing.T) {
	h := localHub(t, Options{})
	sub, err := h.Subscribe(context.Background(), "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	err = ServeSSE(noFlush{httptest.NewRecorder()}, httptest.NewRequest(http.MethodGet, "/", nil), sub, SSEOptions{})
	if !errors.Is(err, http.ErrNotSupported) {
		t.Fatalf("ServeSSE = %v, want ErrNotSupported", err)
	}
}

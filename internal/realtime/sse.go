package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// SSEOptions tune ServeSSE. The zero value is fine.
type SSEOptions struct {
	// Heartbeat is how often a comment line is sent when nothing else is,
	// so proxies keep the stream open and a vanished client is noticed
	// (default 15s).
	Heartbeat time.Duration
	// Retry is the reconnect delay suggested to the browser (default 3s).
	Retry time.Duration
	// WriteTimeout bounds each write, overriding the server's WriteTimeout,
	// which would otherwise cut every stream (default 10s).
	WriteTimeout time.Duration
}

func (o *SSEOptions) defaults() {
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 3 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
}

// ServeSSE streams sub to the client as Server-Sent Events: one frame per
// event, named after its Kind, with the event as JSON data. It returns when
// the client disconnects (nil), when the subscription ends (nil; after a
// final resync frame if the subscriber lagged, so the page reloads) or when
// a write fails. The caller checks access before calling, owns sub and
// closes it afterwards; subscribing with r.Context() does that too.
//
// There are no event IDs and Last-Event-ID is ignored: events are hints,
// and a reconnecting page reloads its lists anyway.
func ServeSSE(w http.ResponseWriter, r *http.Request, sub *Subscription, opt SSEOptions) error {
	opt.defaults()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	// Stops nginx and similar proxies from buffering the stream.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	write := func(frame string) error {
		if err := rc.SetWriteDeadline(time.Now().Add(opt.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return fmt.Errorf("realtime: sse: set deadline: %w", err)
		}
		if _, err := w.Write([]byte(frame)); err != nil {
			return fmt.Errorf("realtime: sse: write: %w", err)
		}
		if err := rc.Flush(); err != nil {
			return fmt.Errorf("realtime: sse: flush: %w", err)
		}
		return nil
	}

	if err := write("retry: " + strconv.FormatInt(opt.Retry.Milliseconds(), 10) + "\n\n"); err != nil {
		return err
	}
	heartbeat := time.NewTicker(opt.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case ev, ok := <-sub.Events():
			if !ok {
				if errors.Is(sub.Err(), ErrLagging) {
					return write(frame(Event{WorkspaceID: sub.WorkspaceID(), Kind: KindResync}))
				}
				return nil
			}
			if err := write(frame(ev)); err != nil {
				return err
			}
		case <-heartbeat.C:
			if err := write(": ping\n\n"); err != nil {
				return err
			}
		}
	}
}

// frame renders ev as one SSE frame. Kind is validated on publish to hold no
// line breaks, and JSON encoding never produces one, so the frame cannot be
// split or forged.
func frame(ev Event) string {
	data, _ := json.Marshal(ev) // cannot fail: strings only
	return "event: " + string(ev.Kind) + "\ndata: " + string(data) + "\n\n"
}

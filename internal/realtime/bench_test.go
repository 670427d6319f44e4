package realtime

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkFanout500 measures what issue 5's fanout_p99_ms promises: one
// inbox change reaching 500 connected dashboard streams. Every stream is a
// real SSE response over HTTP from an httptest server; latency runs from
// just before Publish to the moment a client has parsed the frame. The p99
// over all deliveries is reported as fanout_p99_ms.
func BenchmarkFanout500(b *testing.B) {
	const streams = 500
	h := localHub(b, Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub, err := h.Subscribe(r.Context(), "ws1", nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		defer sub.Close()
		ServeSSE(w, r, sub, SSEOptions{})
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var sent atomic.Int64 // UnixNano just before the current Publish
	got := make(chan struct{}, streams)
	latencies := make([][]time.Duration, streams)
	var readers sync.WaitGroup
	for i := range streams {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReader(resp.Body)
		if _, err := readFrame(r); err != nil { // retry hint
			b.Fatal(err)
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer resp.Body.Close()
			for {
				f, err := readFrame(r)
				if err != nil {
					return
				}
				if f.Event == "" {
					continue // heartbeat
				}
				latencies[i] = append(latencies[i], time.Since(time.Unix(0, sent.Load())))
				got <- struct{}{}
			}
		}()
	}
	// Every stream is subscribed once its retry hint has arrived.
	if n := h.Subscribers(); n != streams {
		b.Fatalf("%d subscribers, want %d", n, streams)
	}

	ev := Event{WorkspaceID: "ws1", Kind: KindMessage, ConversationID: "c1"}
	b.ResetTimer()
	for range b.N {
		sent.Store(time.Now().UnixNano())
		if err := h.Publish(ctx, ev); err != nil {
			b.Fatal(err)
		}
		for range streams {
			<-got
		}
	}
	b.StopTimer()
	cancel()
	readers.Wait()

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	slices.Sort(all)
	p99 := all[(len(all)*99)/100]
	b.ReportMetric(float64(p99)/float64(time.Millisecond), "fanout_p99_ms")
}

package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Ingest settings.
const (
	ingestWorkers  = 64              // concurrent keep-alive connections in the closed loop
	ingestFor      = 5 * time.Second // unconnected page
	ingestConnFor  = 3 * time.Second // connected pages: every event also costs a reply to drain
	ackRate        = 2000            // deliveries per second, open loop
	ackFor         = 5 * time.Second
	maxInFlight    = 1024 // open-loop cap on requests in flight (and connections)
	unknownPageID  = "990000000000001"
	unknownPersona = "880000000000001"
)

// ingest measures the webhook intake: how many signed one-event
// deliveries Parley can store durably and acknowledge per second, and how
// long an acknowledgement takes at a steady 2,000/s.
func (b *bench) ingest(ctx context.Context) error {
	// Throughput, to a Page no workspace connected: processing such an
	// event is light (it is counted against unknown_accounts and dropped),
	// so the figure is the intake's own: verify, seal, group-commit, 200.
	var seq atomic.Int64
	ok, took := closedLoop(ctx, ingestWorkers, ingestFor, func(ctx context.Context, w int) bool {
		body := messageBody(unknownPageID, unknownPersona, fmt.Sprintf("m_ingest_%d", seq.Add(1)), "hello", time.Now())
		return b.poster.Post(ctx, body, sign(body, b.secret)).OK()
	})
	b.out.add("ingest_events_per_s", round(float64(ok)/took.Seconds(), 0), "events/s", ">=10000")
	if err := b.drain(ctx); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}

	// The same to the connected pages, from the pool of people: each
	// event is stored as a message and answered, and that work (done
	// after the acknowledgement) competes for the same two cores.
	b.replies.reset()
	var mids midLog
	ok, took = closedLoop(ctx, ingestWorkers, ingestConnFor, func(ctx context.Context, w int) bool {
		n := seq.Add(1)
		p := b.people[int(n)%len(b.people)]
		mid := fmt.Sprintf("m_ingest_%d", n)
		body := messageBody(p.page, p.psid, mid, "hello", time.Now())
		if !b.poster.Post(ctx, body, sign(body, b.secret)).OK() {
			return false
		}
		mids.add(mid)
		return true
	})
	b.acked["ingest"] = mids.list()
	b.out.add("ingest_connected_events_per_s", round(float64(ok)/took.Seconds(), 0), "events/s", "")
	start := time.Now()
	if err := b.settle(ctx, int(ok)); err != nil {
		return fmt.Errorf("ingest: connected: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: %d connected events answered and drained %s after the load\n", ok, time.Since(start).Round(time.Millisecond))

	// Acknowledgement latency, open loop: requests leave at 2,000/s
	// whatever the answers do, so a slow answer cannot hide by slowing
	// the generator down. To the unconnected page again, so this is the
	// intake's own latency; reply_ack_p99_ms (scenario_reply.go) is the
	// same measure while replies are being processed.
	var lat Latencies
	var failed atomic.Int64
	fired, skipped := openLoop(ctx, ackRate, ackFor, maxInFlight, func(i int) {
		body := messageBody(unknownPageID, unknownPersona, fmt.Sprintf("m_ack_%d", i), "hello", time.Now())
		o := b.poster.Post(ctx, body, sign(body, b.secret))
		if !o.OK() {
			failed.Add(1)
			return
		}
		lat.Add(o.Dur)
	})
	b.out.add("ingest_ack_p50_ms", round(ms(lat.Percentile(50)), 2), "ms", "")
	b.out.add("ingest_ack_p99_ms", round(ms(lat.Percentile(99)), 2), "ms", "<=20")
	if failed.Load() > 0 || skipped > 0 {
		fmt.Fprintf(os.Stderr, "bench: ack latency run: %d fired, %d not acknowledged, %d skipped (in-flight cap)\n", fired, failed.Load(), skipped)
	}
	b.ackBaseline = lat.Percentile(99)
	return b.drain(ctx)
}

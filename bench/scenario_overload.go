package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Overload settings.
const (
	// capacityPeople write in the closed loop, each waiting for the reply
	// before writing again. Throughput is then at most people ÷ reply
	// latency, so they must be many for the loop to find Parley's limit
	// rather than its own: the whole pool.
	capacityPeople = pageCount * peoplePerPage
	capacityFor    = 5 * time.Second
	replyWait      = 10 * time.Second // a closed-loop person gives up waiting after this
	overloadFor    = 15 * time.Second
	probeRate      = 200 // recovery probes per second
	probeWindow    = 250 * time.Millisecond
	recoveryLimit  = 30 * time.Second
)

// overload measures capacity, then offers twice that for 15 s and checks
// that Parley degrades gracefully: it keeps processing at capacity,
// refuses nothing by resetting connections, keeps accepted
// acknowledgements fast and memory bounded, is back to normal soon after,
// and loses nothing it acknowledged (checkLoss, after it has stopped).
func (b *bench) overload(ctx context.Context) error {
	// Capacity: the most messages per second Parley takes in and answers
	// when each person waits for the reply before writing again.
	b.replies.reset()
	var mids midLog
	var seq atomic.Int64
	sent := make([]int, capacityPeople) // messages acknowledged per person; worker w is person w
	ok, took := closedLoop(ctx, capacityPeople, capacityFor, func(ctx context.Context, w int) bool {
		p := b.people[w]
		mid := fmt.Sprintf("m_capacity_%d", seq.Add(1))
		body := messageBody(p.page, p.psid, mid, "hello", time.Now())
		if !b.poster.Post(ctx, body, sign(body, b.secret)).OK() {
			return false
		}
		mids.add(mid)
		k := sent[w]
		sent[w]++
		wctx, cancel := context.WithTimeout(ctx, replyWait)
		defer cancel()
		_, replied := b.replies.waitReply(wctx, p.psid, k)
		return replied
	})
	capacity := float64(ok) / took.Seconds()
	b.acked["capacity"] = mids.list()
	b.out.add("reply_capacity_per_s", round(capacity, 0), "messages/s", "")
	if err := b.settle(ctx, len(b.acked["capacity"])); err != nil {
		return fmt.Errorf("capacity: %w", err)
	}
	if capacity < 1 {
		return fmt.Errorf("capacity: no reply arrived")
	}

	// Twice the capacity, open loop, from the whole pool. Recovery probes
	// start the moment the offered load stops, alongside the drain.
	b.replies.reset()
	end := time.Now().Add(overloadFor)
	threshold := max(2*b.ackBaseline, 10*time.Millisecond)
	recovered := make(chan time.Duration, 1)
	go func() { recovered <- b.recovery(ctx, end, threshold) }()
	r := b.replyLoad(ctx, "overload", 2*capacity, overloadFor)
	good := b.replies.countBetween(r.t0, r.t0.Add(overloadFor))
	b.out.add("overload_goodput_ratio", round(float64(good)/overloadFor.Seconds()/capacity, 3), "ratio", ">=0.9")
	b.out.add("overload_connection_resets", float64(r.resets.Load()), "resets", "<=0")
	b.out.add("overload_ack_p99_ms", round(ms(r.acks.Percentile(99)), 2), "ms", "<=250")
	fmt.Fprintf(os.Stderr, "bench: overload: offered %.0f/s for %s: %d acknowledged, %d refused (not 200), %d resets, %d skipped (in-flight cap)\n",
		2*capacity, overloadFor, r.acked(), r.failed.Load(), r.resets.Load(), r.skip)
	if err := b.settle(ctx, r.acked()); err != nil {
		return fmt.Errorf("overload: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: overload backlog drained %s after the load ended\n", time.Since(end).Round(time.Millisecond))
	rec := <-recovered
	b.out.add("overload_recovery_s", round(rec.Seconds(), 2), "s", "<=5")
	rss, err := b.parley.PeakRSS()
	if err != nil {
		return err
	}
	b.out.add("overload_rss_mb", round(float64(rss)/(1<<20), 1), "MB", "")
	return nil
}

// recovery waits for end, then probes the intake with deliveries to the
// unconnected page (no processing to speak of) in windows of probeWindow
// at probeRate, and returns how long after end the first window came whose
// every probe was acknowledged with a p99 within threshold: "back to
// normal". It gives up at recoveryLimit and returns that.
func (b *bench) recovery(ctx context.Context, end time.Time, threshold time.Duration) time.Duration {
	time.Sleep(time.Until(end))
	var seq atomic.Int64
	for {
		began := time.Now()
		if began.Sub(end) >= recoveryLimit {
			return recoveryLimit
		}
		var lat Latencies
		var bad atomic.Int64
		openLoop(ctx, probeRate, probeWindow, maxInFlight, func(int) {
			body := messageBody(unknownPageID, unknownPersona, fmt.Sprintf("m_probe_%d", seq.Add(1)), "hello", time.Now())
			o := b.poster.Post(ctx, body, sign(body, b.secret))
			if !o.OK() {
				bad.Add(1)
				return
			}
			lat.Add(o.Dur)
		})
		p99 := lat.Percentile(99)
		if bad.Load() == 0 && p99 <= threshold {
			fmt.Fprintf(os.Stderr, "bench: recovery: ack p99 %.1f ms (normal: ≤ %.1f ms) %s after the overload\n",
				ms(p99), ms(threshold), began.Sub(end).Round(time.Millisecond))
			return began.Sub(end)
		}
		if ctx.Err() != nil {
			return recoveryLimit
		}
	}
}

// checkLoss opens Parley's database once it has stopped and counts, among
// the messages it acknowledged, those never stored (lost) and those
// stored twice. Parley stores every inbound message it processes, so an
// acknowledged message ID missing from messages was lost.
func (b *bench) checkLoss(ctx context.Context, dataDir string) error {
	st, err := openStore(ctx, dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	stored, err := st.inbound(ctx)
	if err != nil {
		return err
	}
	dead, err := st.dead(ctx)
	if err != nil {
		return err
	}
	var total, lostAll, dupAll int
	for name, mids := range b.acked {
		lost, dup := 0, 0
		for _, m := range mids {
			switch stored[m] {
			case 0:
				lost++
			case 1:
			default:
				dup++
			}
		}
		if name == "overload" {
			b.out.add("overload_lost_events", float64(lost), "events", "<=0")
		}
		total, lostAll, dupAll = total+len(mids), lostAll+lost, dupAll+dup
	}
	fmt.Fprintf(os.Stderr, "bench: loss check over every scenario: %d acknowledged messages, %d lost, %d stored twice; %d dead jobs\n",
		total, lostAll, dupAll, dead)
	return nil
}

package messenger

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/internal/channel"
)

// pacer keeps each Page under Meta's Send API limits (meta-platform.md
// §2.10: 300 calls/s per Page, 10/s for audio and video) with one token
// bucket per Page and kind. Buckets are created on first use and evicted
// once idle long enough to be full again, when a fresh bucket is
// indistinguishable from the old one; a hard cap bounds the map whatever
// the traffic. It paces one process: replicas each keep their own buckets,
// which the defaults leave room for.
type pacer struct {
	now         func() time.Time
	text, media rate.Limit
	textBurst   int
	mediaBurst  int
	max         int
	refill      time.Duration // time for an idle bucket to fill up
	mu          sync.Mutex
	pages       map[string]*buckets
	wait        func(ctx context.Context, d time.Duration) error // replaced in tests
}

type buckets struct {
	text, media *rate.Limiter
	// busyUntil is when the last reserved token is spent: after it plus
	// refill, the buckets are full.
	busyUntil time.Time
}

func newPacer(now func() time.Time, textRate, mediaRate float64, maxPages int) *pacer {
	p := &pacer{
		now: now, text: rate.Limit(textRate), media: rate.Limit(mediaRate),
		// Bursts of a tenth of a second: with them a Page never exceeds
		// rate+burst calls in any one second (275 of 300 text, 8+1 of 10
		// media by default).
		textBurst: max(1, int(textRate/10)), mediaBurst: max(1, int(mediaRate/10)),
		max: maxPages, pages: map[string]*buckets{}, wait: sleep,
	}
	p.refill = max(durationFor(p.textBurst, textRate), durationFor(p.mediaBurst, mediaRate))
	return p
}

func durationFor(tokens int, perSecond float64) time.Duration {
	return time.Duration(float64(tokens) / perSecond * float64(time.Second))
}

// take waits until page may make one more call (media: an audio or video
// send, which also counts as a call). It gives up early, returning a
// rate_limited *channel.SendError, when ctx would expire before the turn
// comes, and returns a transient one when ctx ends while waiting; in both
// cases the turn is handed back.
func (p *pacer) take(ctx context.Context, page string, media bool) error {
	now := p.now()
	p.mu.Lock()
	b := p.get(page, now)
	rs := []*rate.Reservation{b.text.ReserveN(now, 1)}
	if media {
		rs = append(rs, b.media.ReserveN(now, 1))
	}
	var delay time.Duration
	for _, r := range rs {
		delay = max(delay, r.DelayFrom(now))
	}
	if until := now.Add(delay); until.After(b.busyUntil) {
		b.busyUntil = until
	}
	p.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	cancel := func() {
		for _, r := range rs {
			r.CancelAt(now)
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
		cancel()
		return &channel.SendError{Kind: channel.ErrRateLimited, RetryAfter: delay,
			Message: "the Page's send rate is used up for now; try again shortly"}
	}
	if err := p.wait(ctx, delay); err != nil {
		cancel()
		return &channel.SendError{Kind: channel.ErrTransient, Message: "waiting for the Page's send rate: " + err.Error()}
	}
	return nil
}

// get returns page's buckets, creating them; p.mu is held.
func (p *pacer) get(page string, now time.Time) *buckets {
	if b, ok := p.pages[page]; ok {
		return b
	}
	if len(p.pages) >= p.max {
		p.evict(now)
	}
	b := &buckets{
		text:  rate.NewLimiter(p.text, p.textBurst),
		media: rate.NewLimiter(p.media, p.mediaBurst),
	}
	p.pages[page] = b
	return b
}

// evict drops every Page whose buckets are full again; if none is, the one
// idle longest (its callers may then briefly exceed the pace, which Meta's
// own limit and Classify's rate_limited still catch).
func (p *pacer) evict(now time.Time) {
	var oldest string
	var oldestAt time.Time
	for page, b := range p.pages {
		if !now.Before(b.busyUntil.Add(p.refill)) {
			delete(p.pages, page)
			continue
		}
		if oldest == "" || b.busyUntil.Before(oldestAt) {
			oldest, oldestAt = page, b.busyUntil
		}
	}
	if len(p.pages) >= p.max {
		delete(p.pages, oldest)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Processing runs in one goroutine per process, the processor. The
// webhook_deliveries table is the durable queue: a delivery is pending
// from the transaction that stored it until the one that applied it. The
// processor usually takes deliveries from memory — the writer hands over
// each committed batch with the bodies it still holds in clear, so nothing
// is read back or decrypted — and falls back on the database whenever
// memory may be missing something ("catch-up"): at start (what a crashed
// process left), when the in-memory backlog overflows (the writer never
// waits for the processor), after a failure, after a pause, and when an
// old "webhook.process" job asks. Catch-up reads pending deliveries in ID
// (arrival) order until fewer than a chunk are left, then memory takes
// over again. A periodic pass (Options.CatchUpEvery) also applies what has
// been pending longer than that, which is what another replica that died
// left behind.
//
// Every path ends in processChunk, whose claim lets only one transaction
// apply a delivery, so memory and database may overlap freely.
const (
	// processTimeout bounds one processing transaction.
	processTimeout = time.Minute
	// Failures back off from backoffMin, doubling up to backoffMax, as
	// the processing job did.
	backoffMin = time.Second
	backoffMax = time.Minute
)

// processor is the in-memory side of processing.
type processor struct {
	in   *Intake
	wake chan struct{} // buffered: one pending wake-up is enough
	stop <-chan struct{}
	done chan struct{}

	mu       sync.Mutex
	mem      []item // committed deliveries in store order, bodies in clear
	memBytes int
	// behind is set when memory may miss a pending delivery: the processor
	// must catch up from the database. Offers are dropped meanwhile.
	behind bool

	// Owned by the run goroutine.
	catching bool   // reading every pending delivery from the database
	sweeping string // reading those whose ID sorts before this
	// seen holds deliveries applied from the database while memory kept
	// taking offers: their copies in memory are skipped without being
	// parsed (the claim would skip them anyway). Only an optimisation.
	seen    map[string]struct{}
	backoff time.Duration
	// held is this round's set of workspaces whose processing is paused
	// (Options.Held; see holds). released is false until the first round
	// has released what an earlier process left held.
	held     map[string]bool
	released bool

	// oldest is the arrival time (Unix nanoseconds, from the UUIDv7 ID)
	// of the oldest delivery waiting to be applied, as of the current
	// round; 0 when there is none. caughtUp is set once processing found
	// nothing left to do, and cleared by a pause or a resumed workspace:
	// only then does lagging refuse deliveries (Options.MaxLag).
	oldest   atomic.Int64
	caughtUp atomic.Bool
}

// lagging reports whether processing, having caught up once since it
// started or resumed, has fallen more than max behind: the oldest delivery
// waiting arrived longer ago than that.
func (p *processor) lagging(max time.Duration) bool {
	if max < 0 || !p.caughtUp.Load() {
		return false
	}
	at := p.oldest.Load()
	return at != 0 && time.Since(time.Unix(0, at)) > max
}

// waiting records the oldest of items (store order: the first) as the
// oldest delivery waiting, or none.
func (p *processor) waiting(items []item) {
	if len(items) == 0 {
		p.oldest.Store(0)
		return
	}
	p.oldest.Store(arrival(items[0].id))
}

// arrival is when the delivery with this ID was stored, in Unix
// nanoseconds (0 when the ID is not a UUIDv7).
func arrival(id string) int64 {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return 0
	}
	sec, nsec := u.Time().UnixTime()
	return sec*int64(time.Second) + nsec
}

func newProcessor(in *Intake, stop <-chan struct{}) *processor {
	return &processor{
		in: in, stop: stop,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		behind: true, // whatever an earlier process left comes first
		seen:   map[string]struct{}{},
	}
}

// offer takes a batch the writer has just committed. It never waits: when
// the backlog would grow past its bounds, it is dropped and the processor
// catches up from the database instead.
func (p *processor) offer(ds []*delivery) {
	items := make([]item, len(ds))
	n := 0
	for i, d := range ds {
		items[i] = item{id: d.id, raw: d.raw}
		n += len(d.raw)
	}
	// Within a batch, arrival (ID) order: the order a database read sees.
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.id, b.id) })
	p.mu.Lock()
	if !p.behind && (len(p.mem)+len(items) > p.in.opt.BacklogMax || p.memBytes+n > p.in.opt.BacklogBytes) {
		p.dropLocked()
	}
	if p.behind {
		// The database has them; catch-up will read them there.
		for _, it := range items {
			clear(it.raw)
		}
	} else {
		p.mem = append(p.mem, items...)
		p.memBytes += n
	}
	p.mu.Unlock()
	p.poke()
}

// catchUp makes the processor read the database next (an old processing
// job asks for it).
func (p *processor) catchUp() {
	p.mu.Lock()
	p.dropLocked()
	p.mu.Unlock()
	p.poke()
}

func (p *processor) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// dropLocked empties the backlog, wiping the bodies, and marks memory as
// incomplete. p.mu is held.
func (p *processor) dropLocked() {
	for i := range p.mem {
		clear(p.mem[i].raw)
	}
	clear(p.mem)
	p.mem, p.memBytes, p.behind = nil, 0, true
}

// resync starts a catch-up if memory fell behind: from here on the
// backlog takes offers again, and the database reads that follow cover
// everything committed before.
func (p *processor) resync() {
	p.mu.Lock()
	behind := p.behind
	p.behind = false
	p.mu.Unlock()
	if behind {
		p.catching, p.sweeping = true, ""
		clear(p.seen)
	}
}

// take pops up to n deliveries from the backlog, skipping those already
// applied from the database.
func (p *processor) take(n int) []item {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []item
	for len(out) < n && len(p.mem) > 0 {
		it := p.mem[0]
		p.mem[0] = item{}
		p.mem = p.mem[1:]
		p.memBytes -= len(it.raw)
		if _, ok := p.seen[it.id]; ok {
			delete(p.seen, it.id)
			clear(it.raw)
			continue
		}
		out = append(out, it)
	}
	if len(p.mem) == 0 {
		p.mem = nil // let the array go
		// Whatever seen still holds was never offered here (another
		// replica's delivery) or will be skipped by the claim.
		clear(p.seen)
	}
	return out
}

// run is the processor: one chunk per round, until the writer has exited.
func (p *processor) run() {
	defer close(p.done)
	opt := &p.in.opt
	sweepAt := time.Now().Add(opt.CatchUpEvery)
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		if opt.Paused != nil && opt.Paused() {
			// Nothing is applied; intake goes on storing. Memory is let
			// go, and the database is read again on resume. What piles
			// up meanwhile is acknowledged, never refused (P-3).
			p.caughtUp.Store(false)
			p.oldest.Store(0)
			p.catchUp()
			if !p.sleep(opt.PauseRetry) {
				return
			}
			continue
		}
		if err := p.holds(); err != nil {
			if !p.fail(err) {
				return
			}
			continue
		}
		p.resync()
		// UUIDv7 IDs carry the real time of arrival, so the cut-off is
		// real time too, not the injected clock.
		if now := time.Now(); !now.Before(sweepAt) {
			sweepAt = now.Add(opt.CatchUpEvery)
			if !p.catching {
				p.sweeping = idBefore(now.Add(-opt.CatchUpEvery))
			}
		}
		var err error
		switch {
		case p.catching:
			var more bool
			more, err = p.fromDatabase("")
			p.catching = more || err != nil
		case p.sweeping != "":
			var more bool
			more, err = p.fromDatabase(p.sweeping)
			if !more && err == nil {
				p.sweeping = ""
			}
		default:
			items := p.take(opt.ApplyMax)
			p.waiting(items)
			if len(items) == 0 {
				p.caughtUp.Store(true)
				if !p.idle(time.Until(sweepAt)) {
					return
				}
				continue
			}
			_, err = p.in.processChunk(items, p.held)
		}
		if err != nil {
			if !p.fail(err) {
				return
			}
			continue
		}
		p.backoff = 0
	}
}

// holds takes this round's snapshot of the workspaces whose processing
// is paused on their own (the kill switch, security.md P-3). Every chunk
// of the round decides with the same snapshot, and when a workspace
// resumes, its held deliveries are released and memory is dropped before
// anything else is applied: the catch-up that follows reads every pending
// delivery, released ones included, in ID (arrival) order, so nothing of
// that workspace overtakes what was held. The first round also releases
// whatever a stopped process left held for workspaces no longer paused.
func (p *processor) holds() error {
	if p.in.opt.Held == nil {
		return nil
	}
	next := p.in.opt.Held()
	release := !p.released
	for ws := range p.held {
		if !next[ws] {
			release = true
			break
		}
	}
	if release {
		ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
		defer cancel()
		n, err := p.in.deliveries.release(ctx, p.in.d.W, next)
		if err != nil {
			return fmt.Errorf("webhook: %w", err)
		}
		if n > 0 {
			p.in.log.Info("processing resumed: applying held deliveries in order", "deliveries", n)
		}
		p.released = true
		// The released deliveries are old; they are drained before
		// anything is refused again.
		p.caughtUp.Store(false)
		p.catchUp()
	}
	p.held = next
	return nil
}

// fromDatabase applies the next chunk of pending deliveries read from the
// database (those whose ID sorts before before, when set). It reports
// whether there may be more.
func (p *processor) fromDatabase(before string) (more bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	limit := p.in.opt.ApplyMax
	items, err := p.in.deliveries.pending(ctx, p.in.d.R, before, limit)
	if err != nil {
		return false, fmt.Errorf("webhook: catch up: %w", err)
	}
	if before == "" {
		// A catch-up reads the oldest pending first. A sweep's finds are
		// another process's leftovers, not this one's lag.
		p.waiting(items)
	}
	if len(items) == 0 {
		return false, nil
	}
	claimed, err := p.in.processChunk(items, p.held)
	if err != nil {
		return false, err
	}
	for _, id := range claimed {
		p.seen[id] = struct{}{}
	}
	more = len(items) == limit
	if !more || len(p.seen) > 2*p.in.opt.BacklogMax {
		p.pruneSeen()
	}
	return more, nil
}

// pruneSeen keeps only the entries of seen whose delivery memory holds:
// the others were never offered here (they were stored before memory
// resumed, or by another replica), so seen stays as small as the backlog.
func (p *processor) pruneSeen() {
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := make(map[string]struct{})
	for _, it := range p.mem {
		if _, ok := p.seen[it.id]; ok {
			keep[it.id] = struct{}{}
		}
	}
	p.seen = keep
}

// fail logs a failed chunk, drops the backlog (the deliveries are still
// pending: nothing is lost) and waits out the backoff. It returns false
// when the processor must stop.
func (p *processor) fail(err error) bool {
	p.backoff = min(max(2*p.backoff, backoffMin), backoffMax)
	p.in.observe(OutcomeFailed)
	p.in.log.Warn("webhook processing failed; catching up from the database after a pause",
		"err", err, "retry_in", p.backoff)
	p.catchUp()
	return p.sleep(p.backoff)
}

// sleep waits d, or until the processor must stop (false).
func (p *processor) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}

// idle waits for an offer, at most d (the next periodic pass), or until
// the processor must stop (false).
func (p *processor) idle(d time.Duration) bool {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-p.wake:
	case <-t.C:
	case <-p.stop:
		return false
	}
	return true
}

// idBefore is the smallest UUIDv7 of instant t: every ID generated
// earlier sorts before it (the IDs are lower-case hex, as uuid.String
// writes them).
func idBefore(t time.Time) string {
	ms := uint64(max(t.UnixMilli(), 0))
	return fmt.Sprintf("%08x-%04x-7000-8000-000000000000", ms>>16, ms&0xffff)
}

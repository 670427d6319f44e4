package main

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/metasim"
)

// tracker records every message the simulator's Send API accepted, by
// recipient, with the time the call arrived (metasim.Sent.At, taken under
// the simulator's lock as the request is served, before any injected
// latency). Scenarios use it to time replies and to wait for them.
//
// A reply is matched to the message it answers by order: Parley answers
// each inbound message with one automatic reply and sends a
// conversation's messages one at a time, in order, so the k-th reply to a
// person answers their k-th acknowledged message.
type tracker struct {
	mu      sync.Mutex
	threads map[string]*thread
	all     []time.Time // every arrival, for rates
}

type thread struct {
	replies []time.Time
	wake    chan struct{} // closed and replaced at each reply
}

func newTracker() *tracker { return &tracker{threads: map[string]*thread{}} }

// onSend is the simulator's Options.OnSend hook.
func (t *tracker) onSend(s metasim.Sent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	th := t.thread(s.PSID)
	th.replies = append(th.replies, s.At)
	close(th.wake)
	th.wake = make(chan struct{})
	t.all = append(t.all, s.At)
}

// thread returns psid's log, creating it. Callers hold t.mu.
func (t *tracker) thread(psid string) *thread {
	th := t.threads[psid]
	if th == nil {
		th = &thread{wake: make(chan struct{})}
		t.threads[psid] = th
	}
	return th
}

// reset forgets every reply, between scenarios (when Parley has drained,
// so no reply of the previous scenario can still arrive).
func (t *tracker) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, th := range t.threads {
		close(th.wake)
	}
	t.threads = map[string]*thread{}
	t.all = nil
}

// replies returns the arrival times of psid's replies so far.
func (t *tracker) replies(psid string) []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if th := t.threads[psid]; th != nil {
		return append([]time.Time(nil), th.replies...)
	}
	return nil
}

// count is the number of replies since the last reset.
func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.all)
}

// countBetween is the number of replies that arrived in [from, to).
func (t *tracker) countBetween(from, to time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, at := range t.all {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// waitReply waits until psid has more than n replies and returns the
// arrival of reply n (0-based); false when ctx ends first.
func (t *tracker) waitReply(ctx context.Context, psid string, n int) (time.Time, bool) {
	for {
		t.mu.Lock()
		th := t.thread(psid)
		if len(th.replies) > n {
			at := th.replies[n]
			t.mu.Unlock()
			return at, true
		}
		wake := th.wake
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return time.Time{}, false
		}
	}
}

// waitCount waits until at least n replies have arrived since the last
// reset, polling (a whole scenario waits once); false at the deadline.
func (t *tracker) waitCount(ctx context.Context, n int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for t.count() < n {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// midLog collects acknowledged message IDs from many goroutines.
type midLog struct {
	mu   sync.Mutex
	mids []string
}

func (m *midLog) add(mid string) {
	m.mu.Lock()
	m.mids = append(m.mids, mid)
	m.mu.Unlock()
}

func (m *midLog) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.mids...)
}

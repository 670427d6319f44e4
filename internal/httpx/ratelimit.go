package httpx

import (
	"math"
	"sync"
	"time"
)

// Limiter is a fixed-window counter per key: at most Limit events per Window.
// It answers how long to wait when the limit is reached. It is in-process:
// with several replicas each enforces its own count (see docs/operations.md).
type Limiter struct {
	Limit  int
	Window time.Duration
	Now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	start time.Time
	n     int
}

// NewLimiter returns a limiter allowing limit events per window per key.
func NewLimiter(limit int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{Limit: limit, Window: window, Now: now, buckets: map[string]*bucket{}}
}

// Allow counts one event for key. When the limit is already reached it
// counts nothing and returns false with the seconds until the window ends.
func (l *Limiter) Allow(key string) (ok bool, retryAfter int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	if now.Sub(l.swept) > l.Window {
		for k, b := range l.buckets {
			if now.Sub(b.start) >= l.Window {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil || now.Sub(b.start) >= l.Window {
		b = &bucket{start: now}
		l.buckets[key] = b
	}
	if b.n >= l.Limit {
		return false, int(math.Ceil(b.start.Add(l.Window).Sub(now).Seconds()))
	}
	b.n++
	return true, 0
}

// Blocked reports, without counting, whether key is at its limit.
func (l *Limiter) Blocked(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	b := l.buckets[key]
	if b == nil || now.Sub(b.start) >= l.Window || b.n < l.Limit {
		return false, 0
	}
	return true, int(math.Ceil(b.start.Add(l.Window).Sub(now).Seconds()))
}

// Refund takes back one event counted for key, for callers that count an
// attempt before doing the work (so parallel attempts cannot all slip past
// the check) and then learn it should not count (it succeeded).
func (l *Limiter) Refund(key string) {
	l.mu.Lock()
	if b := l.buckets[key]; b != nil && b.n > 0 {
		b.n--
	}
	l.mu.Unlock()
}

// Reset forgets key (after a successful login, say).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.buckets, key)
	l.mu.Unlock()
}

package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Latencies collects durations from many goroutines and answers
// percentiles over all of them. Every sample is kept: a run holds at most
// a few hundred thousand, and exact percentiles need no bucket tuning.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one sample.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Len is the number of samples so far.
func (l *Latencies) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// Percentile returns the p-th percentile (0 < p ≤ 100) by the
// nearest-rank method: the smallest sample that at least p% of the
// samples do not exceed. It is 0 without samples.
func (l *Latencies) Percentile(p float64) time.Duration {
	l.mu.Lock()
	s := slices.Clone(l.d)
	l.mu.Unlock()
	return percentile(s, p)
}

func percentile(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	rank := int(math.Ceil(float64(len(s))*p/100)) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// ms expresses d in milliseconds, for BENCH lines.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

package trigger

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkMatch1000 matches the texts of BenchmarkTexts, in turn, against
// 1,000 rules of BenchmarkRules: ns/op and allocs/op are per text, and
// p99-µs is the 99th percentile of single matches (each timed on its own;
// the clock reads add a few tens of nanoseconds).
func BenchmarkMatch1000(b *testing.B) {
	m, _, err := Compile(BenchmarkRules(1000), Options{})
	if err != nil {
		b.Fatal(err)
	}
	texts := BenchmarkTexts()
	evs := make([]Event, len(texts))
	for i, t := range texts {
		evs[i] = Event{Kind: EventText, Text: t, Channel: "messenger"}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		m.Match(evs[i%len(evs)])
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/flow/trigger"
)

// flowMatchRounds is how many times every fixture text is matched.
const flowMatchRounds = 2000

// flowMatch measures trigger matching in this process (it needs no
// Parley): one inbound text against 1,000 keyword triggers of mixed modes
// and scripts, each call timed on its own, p99 over every call.
func (b *bench) flowMatch(ctx context.Context) error {
	m, _, err := trigger.Compile(trigger.BenchmarkRules(1000), trigger.Options{})
	if err != nil {
		return fmt.Errorf("flow match: compile: %w", err)
	}
	texts := trigger.BenchmarkTexts()
	lat := make([]time.Duration, 0, flowMatchRounds*len(texts))
	now := time.Now()
	for i := 0; i < flowMatchRounds && ctx.Err() == nil; i++ {
		for _, t := range texts {
			start := time.Now()
			m.Match(trigger.Event{Kind: trigger.EventText, Text: t, Channel: "messenger", Now: now})
			lat = append(lat, time.Since(start))
		}
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.out.add("flow_match_p50_us", round(us(percentile(lat, 50)), 2), "us", "")
	b.out.add("flow_match_p99_us", round(us(percentile(lat, 99)), 2), "us", "<=50")
	return nil
}

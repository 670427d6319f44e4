package main

import (
	"context"
	"fmt"
	"os"
	"time"

	flowrun "github.com/parleyhq/parley/internal/flow/run"
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
	return b.flowStep(ctx)
}

// Sizes of the flow_step_cpu_us measurement: runs of a chain of message
// nodes, enough of them for the process's CPU clock (10 ms ticks) to
// measure the whole to well under 1 %.
const (
	flowStepNodes = 50
	flowStepRuns  = 40000
)

// flowStep measures the flow runner's pure core in this process: the CPU
// time (user and system, from /proc) per executed message node, the send
// excluded (it is the inbox's, measured by the reply scenario). Each node
// renders a variable and two quick-reply payloads; flowrun.BenchmarkProgram is
// the fixture, shared with the package's Go benchmark.
func (b *bench) flowStep(ctx context.Context) error {
	p := flowrun.BenchmarkProgram(flowStepNodes)
	env := flowrun.BenchmarkEnv(flowStepNodes)
	p.Step(flowrun.State{}, flowrun.Input{Kind: flowrun.InputStart}, env) // warm up
	cpu0, err := cpuOf(os.Getpid())
	if err != nil {
		return fmt.Errorf("flow step: %w", err)
	}
	nodes := 0
	for i := 0; i < flowStepRuns && ctx.Err() == nil; i++ {
		nodes += p.Step(flowrun.State{}, flowrun.Input{Kind: flowrun.InputStart}, env).Steps
	}
	cpu1, err := cpuOf(os.Getpid())
	if err != nil {
		return fmt.Errorf("flow step: %w", err)
	}
	if nodes == 0 {
		return fmt.Errorf("flow step: no node ran")
	}
	perNode := float64((cpu1 - cpu0).Nanoseconds()) / float64(nodes) / 1000
	b.out.add("flow_step_cpu_us", round(perNode, 2), "us", "<=30")
	return nil
}

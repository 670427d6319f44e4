package run

import "testing"

// BenchmarkStepMessage measures the pure core per executed message node,
// the send excluded (issue 4's flow_step_cpu_us, at most 30 µs): one run
// through a chain of 50 message nodes, each rendering a variable and two
// quick-reply payloads. ns/node is the figure; bench/ reports it as
// flow_step_cpu_us from process CPU time.
func BenchmarkStepMessage(b *testing.B) {
	const nodes = 50
	p := BenchmarkProgram(nodes)
	e := BenchmarkEnv(nodes)
	b.ReportAllocs()
	for b.Loop() {
		out := p.Step(State{}, Input{Kind: InputStart}, e)
		if len(out.Replies) != nodes {
			b.Fatalf("%d replies", len(out.Replies))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nodes), "ns/node")
}

// The benchmark's fixture runs as it claims: every node sends, renders its
// variable and encodes payloads that decode back to it.
func TestBenchmarkFixture(t *testing.T) {
	p := BenchmarkProgram(3)
	e := BenchmarkEnv(3)
	out := p.Step(State{}, Input{Kind: InputStart}, e)
	if len(out.Replies) != 3 || out.Steps != 3 || out.State.Status != StatusAwaiting || len(out.Problems) != 0 {
		t.Fatalf("%+v", out)
	}
	c := out.Replies[2].Content
	if c.Text != "Hello Dara! Step 3 of our tour: what would you like to see?" || len(c.QuickReplies) != 2 {
		t.Fatalf("%+v", c)
	}
	if tap, ok := e.Payloads.Decode(c.QuickReplies[1].Payload); !ok || tap.Node != "m2" || tap.Payload != "HOURS" {
		t.Errorf("%+v %v", tap, ok)
	}
}

package run

import (
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/flow"
)

// BenchmarkProgram is the fixture of the flow_step_cpu_us figure, shared
// by BenchmarkStepMessage and bench/: a chain of n message nodes, each
// with a variable (rendered with a default) and two quick replies that
// lead on (so each sends two MAC'd payloads), as a real welcome flow has.
func BenchmarkProgram(n int) *Program {
	doc := flow.Document{Name: "bench", Start: "m0"}
	for i := range n {
		next := ""
		if i+1 < n {
			next = fmt.Sprintf("m%d", i+1)
		}
		doc.Nodes = append(doc.Nodes, flow.Node{ID: fmt.Sprintf("m%d", i), Body: &flow.MessageNode{
			Text: fmt.Sprintf("Hello {{contact.first_name|there}}! Step %d of our tour: what would you like to see?", i+1),
			QuickReplies: []flow.QuickReply{
				{Title: "Prices", Next: "m0"},
				{Title: "Opening hours", Payload: "HOURS", Next: "m0"},
			},
			Next: next,
		}})
	}
	return Compile("0190a8f2-5e1c-7b7a-9f3e-3c2d1b0a9f8e", 3, doc)
}

// BenchmarkEnv is the environment of BenchmarkProgram's runs: a contact
// with a name, tags and fields, and a step bound that lets n nodes run.
func BenchmarkEnv(n int) Env {
	return Env{
		Contact: Contact{FirstName: "Dara", LastName: "Sok", Locale: "km_KH", Channel: "messenger",
			Tags: []string{"vip"}, Fields: map[string]string{"city": "Phnom Penh"}},
		Now:      time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC),
		MaxSteps: n,
		Payloads: Payloads{Key: []byte("bench-key-bench-key-bench-key-32"), Workspace: "0190a8f2-0000-7000-8000-00000000000a"},
	}
}

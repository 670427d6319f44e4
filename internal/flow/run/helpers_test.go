package run

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/flow"
)

// testNow is the time of the core's tests: a Monday, 10:00 in Phnom Penh.
var testNow = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

// testKey is the payload key of these tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// program parses a document and compiles it as version 1 of flow "f1".
func program(t testing.TB, doc string) *Program {
	t.Helper()
	d, err := flow.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return Compile("f1", 1, d)
}

// env is a contact named Dara with one tag and one field, on Messenger.
func env() Env {
	return Env{
		Contact: Contact{FirstName: "Dara", LastName: "Sok", Locale: "km_KH", Channel: "messenger",
			Tags: []string{"VIP"}, Fields: map[string]string{"city": "Phnom Penh", "orders": "12"}},
		Now:      testNow,
		Payloads: Payloads{Key: testKey, Workspace: "ws-1"},
	}
}

// start runs p from its start node.
func start(p *Program, e Env) Output { return p.Step(State{}, Input{Kind: InputStart}, e) }

// texts lists the texts of the replies.
func texts(out Output) []string {
	var s []string
	for _, r := range out.Replies {
		s = append(s, r.Content.Text)
	}
	return s
}

// events formats the node events as "node:kind".
func events(out Output) []string {
	var s []string
	for _, e := range out.Events {
		s = append(s, e.Node+":"+string(e.Kind))
	}
	return s
}

package trigger

import (
	"testing"
)

// kw builds a keyword rule.
func kw(id, flow string, mode Mode, prio int, keywords ...string) Rule {
	return Rule{ID: id, FlowID: flow, Kind: KindKeyword, Mode: mode, Priority: prio, Keywords: keywords}
}

// compile compiles rules and fails the test on any error problem.
func compile(t testing.TB, rules ...Rule) *Matcher {
	t.Helper()
	m, probs, err := Compile(rules, Options{})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	for _, p := range probs {
		if p.Severity == SeverityError {
			t.Fatalf("Compile: unexpected error problem: %+v", p)
		}
	}
	return m
}

// text is a text event on Messenger.
func text(s string) Event { return Event{Kind: EventText, Text: s, Channel: "messenger"} }

// fired returns the rule ID that ev fires, or "" for none.
func fired(m *Matcher, ev Event) string {
	r, ok := m.Match(ev)
	if !ok {
		return ""
	}
	return r.RuleID
}

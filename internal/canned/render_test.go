package canned_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/flow"
)

func TestRender(t *testing.T) {
	vars := canned.Vars{
		canned.VarFirstName: "Dara", canned.VarContactName: "Dara Sok", canned.VarAgentName: "Vanna",
		canned.VarLastName: "", "contact.field.city": "{{agent.name}}",
	}
	for _, tc := range []struct{ body, want string }{
		{"Hi {{contact.first_name}}, I'm {{ agent.name }}.", "Hi Dara, I'm Vanna."},
		{"Dear {{contact.name}}", "Dear Dara Sok"},
		{"Hi {{contact.last_name|friend}}", "Hi friend"},       // empty → default
		{"Hi {{workspace.name | us }}!", "Hi us!"},             // unknown → default
		{"Hi {{contact.nickname}}!", "Hi !"},                   // unknown, no default
		{"From {{contact.field.city}}", "From {{agent.name}}"}, // values are not rendered again
		{"{{{contact.first_name}}}", "{Dara}"},
		{"{{ not a var }} {{x}} {{contact.}} {{.a}}", "{{ not a var }} {{x}} {{contact.}} {{.a}}"},
		{"unclosed {{contact.first_name", "unclosed {{contact.first_name"},
		{"no variables at all", "no variables at all"},
		{"ជំរាបសួរ {{contact.first_name}}", "ជំរាបសួរ Dara"},
	} {
		if got := canned.Render(tc.body, vars); got != tc.want {
			t.Errorf("Render(%q) = %q, want %q", tc.body, got, tc.want)
		}
		// canned.Render is a copy of flow.Render (canned may not import
		// flow): they must agree.
		if got := flow.Render(tc.body, flow.Vars(vars)); got != canned.Render(tc.body, vars) {
			t.Errorf("flow.Render(%q) = %q, canned.Render differs", tc.body, got)
		}
	}
}

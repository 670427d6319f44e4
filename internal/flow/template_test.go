package flow

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRender(t *testing.T) {
	vars := Vars{
		VarFirstName:             "Sokha",
		VarLastName:              "",
		"contact.field.city":     "Phnom Penh",
		"flow.var.order":         "10452",
		"contact.field.evil":     "{{contact.first_name}}",
		"contact.field.km-name":  "សុខា",
		"contact.field.Mixed_Ok": "yes",
	}
	tests := []struct{ in, want string }{
		{"", ""},
		{"no variables", "no variables"},
		{"Hi {{contact.first_name}}!", "Hi Sokha!"},
		{"Hi {{ contact.first_name }}!", "Hi Sokha!"},
		{"Hi {{contact.first_name|there}}!", "Hi Sokha!"},
		{"Hi {{contact.last_name|there}}!", "Hi there!"},              // empty value: default
		{"Hi {{contact.locale|there}}!", "Hi there!"},                 // unknown: default
		{"Hi {{ contact.locale | dear friend }}!", "Hi dear friend!"}, // spaces trimmed
		{"Hi {{contact.locale}}!", "Hi !"},                            // unknown, no default: empty
		{"{{contact.field.city}}/{{flow.var.order}}", "Phnom Penh/10452"},
		{"{{contact.field.km-name}} {{contact.field.Mixed_Ok}}", "សុខា yes"},
		{"សួស្តី {{contact.first_name|លោកអ្នក}}", "សួស្តី Sokha"},
		{"{{contact.nope|លោកអ្នក}}", "លោកអ្នក"},
		{"a|b {{contact.nope|x|y}}", "a|b x|y"}, // the default runs to the braces
		// Values are never rendered again: no injection through data.
		{"{{contact.field.evil}}", "{{contact.first_name}}"},
		// Braces that hold no variable name stay as written.
		{"{{", "{{"},
		{"{{}}", "{{}}"},
		{"{{ first name }}", "{{ first name }}"},
		{"{{contact}}", "{{contact}}"},
		{"{{Contact.first_name}}", "{{Contact.first_name}}"},
		{"{{contact.}}", "{{contact.}}"},
		{"{{contact..x}}", "{{contact..x}}"},
		{"{{contact.first_name", "{{contact.first_name"},
		{"{{{contact.first_name}}}", "{Sokha}"},
		{"{{{{contact.first_name}}", "{{Sokha"},
		{"}} {{contact.first_name}} }}", "}} Sokha }}"},
		{"{{" + strings.Repeat("a", 600) + "}}", "{{" + strings.Repeat("a", 600) + "}}"},
	}
	for _, tc := range tests {
		if got := Render(tc.in, vars); got != tc.want {
			t.Errorf("Render(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Render("Hi {{contact.first_name|there}}", nil); got != "Hi there" {
		t.Errorf("Render with nil vars = %q", got)
	}
}

func TestVariables(t *testing.T) {
	got := Variables("{{contact.first_name}} {{ flow.var.x | d }} {{bad name}} {{contact.first_name}} {{contact.field.city}}")
	want := []string{"contact.first_name", "flow.var.x", "contact.field.city"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Variables (-want +got):\n%s", diff)
	}
	if got := Variables("plain"); got != nil {
		t.Errorf("Variables(plain) = %v", got)
	}
}

func TestRenderJSON(t *testing.T) {
	vars := Vars{VarFirstName: `Bob", "admin": true, "x": "`, "flow.var.n": "5"}
	out, err := RenderJSON(json.RawMessage(`{"name": "{{contact.first_name}}", "list": ["{{flow.var.n}}", 12345678901234567890, null, true], "{{flow.var.n}}": "<&>"}`), vars)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("RenderJSON produced invalid JSON %s: %v", out, err)
	}
	// The quote in the value stays inside its string: no injected member.
	if got["name"] != vars[VarFirstName] || len(got) != 3 {
		t.Errorf("RenderJSON = %s", out)
	}
	want := `{"list":["5",12345678901234567890,null,true],"name":"Bob\", \"admin\": true, \"x\": \"","{{flow.var.n}}":"<&>"}`
	if string(out) != want {
		t.Errorf("RenderJSON =\n%s\nwant\n%s", out, want)
	}
	if out, err := RenderJSON(nil, vars); out != nil || err != nil {
		t.Errorf("RenderJSON(nil) = %s, %v", out, err)
	}
	if _, err := RenderJSON(json.RawMessage(`{"a":`), vars); err == nil {
		t.Error("RenderJSON accepted invalid JSON")
	}
}

func BenchmarkRender(b *testing.B) {
	vars := Vars{VarFirstName: "Sokha", "contact.field.city": "Phnom Penh"}
	tpl := "Hi {{contact.first_name|there}}! Our shop in {{contact.field.city}} is open today. Reply STOP to {{contact.nope|stop}}."
	for b.Loop() {
		Render(tpl, vars)
	}
}

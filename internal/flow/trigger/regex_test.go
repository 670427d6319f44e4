package trigger

import (
	"regexp/syntax"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`order\s*#?\d+`, []string{"order"}},
		{`ORDER`, []string{"order"}},
		{`(track|tracking)\s+\w+`, []string{"track"}},
		{`(ราคา|តម្លៃ)\s*\d+`, []string{"ราคา", "តម្លៃ"}},
		{`(order )?#\d+`, []string{"#"}}, // the optional part is not required
		{`(abc)*d`, []string{"d"}},
		{`x{0,3}y`, []string{"y"}},
		{`(?:ab){2,}`, []string{"ab"}},
		{`\d{3}-\d{4}`, []string{"-"}},
		{`\d+`, nil},
		{`a|\d`, nil},   // one branch needs no literal
		{`привет`, nil}, // has case: (?i) accepts spellings the gate would miss
		{`.*`, nil},
	}
	for _, tt := range tests {
		re, err := syntax.Parse("(?i)"+tt.pattern, syntax.Perl)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if diff := cmp.Diff(tt.want, required(re.Simplify())); diff != "" {
			t.Errorf("required(%s) (-want +got):\n%s", tt.pattern, diff)
		}
	}
}

func TestRegexSource(t *testing.T) {
	tests := []struct{ in, want string }{
		{`order\s+\d+`, `order\s+\d+`}, // syntax untouched
		{`\S+@\S+`, `\S+@\S+`},         // not folded to \s
		{"gia\u0301", "giá"},           // composed like texts
		{`（\d+）`, `\(\d+\)`},           // fullwidth punctuation stays literal
		{`wait…`, `wait\.\.\.`},        // so does an ellipsis
		{"pri\u200bce", "price"},       // invisible characters dropped
		{"น้ำ", "น้\u0e4d\u0e32"},      // Thai sara am split as in texts
	}
	for _, tt := range tests {
		if got := regexSource(tt.in); got != tt.want {
			t.Errorf("regexSource(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

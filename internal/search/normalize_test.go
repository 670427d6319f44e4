package search

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Hello   World ", "hello world"},
		{"JOSÉ Núñez", "jose nunez"},
		{"Straße", "strasse"},
		{"ＡＢＣ", "abc"},       // full-width
		{"ពណ៌ខៀវ", "ពណ៌ខៀវ"}, // Khmer signs kept
		{"ราคาเท่าไหร่", "ราคาเท่าไหร่"}, // Thai marks kept
		{"០១២ ๓๔๕", "012 345"},
		{"\t\n", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGrams(t *testing.T) {
	texts := func(gs []gram) []string {
		var out []string
		for _, g := range gs {
			out = append(out, string(g.kind)+":"+g.text)
		}
		return out
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"ab", []string{"p:a", "p:ab"}},
		{"abcd", []string{"t:abc", "t:bcd", "p:a", "p:ab"}},
		{"ab c", []string{"t:ab ", "t:b c", "p:a", "p:ab", "p:c"}},
		{"abcdef", []string{"t:abc", "t:bcd", "t:cde", "t:def", "5:abcde", "5:bcdef", "p:a", "p:ab"}},
		{"អាវ", []string{"t:អាវ", "p:អ", "p:អា"}},
		{"", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, texts(textGrams(nil, tt.in))); diff != "" {
			t.Errorf("textGrams(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	for q, want := range map[string][]string{
		"ab":     {"p:ab"},
		"abcd":   {"t:abc", "t:bcd"},
		"abcdef": {"5:abcde", "5:bcdef"},
	} {
		if diff := cmp.Diff(want, texts(queryGrams(q))); diff != "" {
			t.Errorf("queryGrams(%q) (-want +got):\n%s", q, diff)
		}
	}
}

func TestPhoneDigits(t *testing.T) {
	for in, want := range map[string]string{"+855 (12) 345-678": "85512345678", "12.34": "1234"} {
		if got, ok := phoneDigits(in); !ok || got != want {
			t.Errorf("phoneDigits(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"abc", "12a", "+ -", ""} {
		if _, ok := phoneDigits(in); ok {
			t.Errorf("phoneDigits(%q) accepted", in)
		}
	}
}

func TestSnippet(t *testing.T) {
	long := "start " + strings.Repeat("a", 100) + " needle " + strings.Repeat("z", 80)
	s := snippet(long, Normalize(long), "needle")
	if !strings.Contains(s, "needle") || !strings.HasPrefix(s, "…") || !strings.HasSuffix(s, "…") || len([]rune(s)) != 82 {
		t.Errorf("snippet = %q", s)
	}
	if got := snippet("short text", "short text", "text"); got != "short text" {
		t.Errorf("short snippet = %q", got)
	}
}

package messenger

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// joinedWithoutSpace removes all whitespace, so a split (which drops the
// whitespace at each cut) can be compared with its input.
func joinedWithoutSpace(parts ...string) string {
	return strings.Map(func(r rune) rune {
		if isSpace(r) {
			return -1
		}
		return r
	}, strings.Join(parts, ""))
}

func TestSplitText(t *testing.T) {
	const khmer = "សួស្តី ខ្ញុំចង់ទិញ"         // "hello, I want to buy": stacked consonants (COENG U+17D2) and vowel signs
	const khmerNoSpace = "ខ្ញុំចង់ទិញស្បែកជើង" // no spaces at all: only grapheme boundaries
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string // nil: only check the invariants
	}{
		{"fits", "hello world", 20, []string{"hello world"}},
		{"paragraph wins over later sentence", "First para line.\n\nSecond para. More words here", 35,
			[]string{"First para line.", "Second para. More words here"}},
		{"line", "aaaa bbbb\ncccc dddd eeee", 16, []string{"aaaa bbbb", "cccc dddd eeee"}},
		{"sentence", "One two three. Four five six seven", 24, []string{"One two three.", "Four five six seven"}},
		{"sentence with closing quote", `He said "stop." Then he left the room`, 26, []string{`He said "stop."`, "Then he left the room"}},
		{"word", "alpha beta gamma delta", 12, []string{"alpha beta", "gamma delta"}},
		{"early paragraph is not taken", "Hi.\n\nThis is a long second paragraph", 20, []string{"Hi.\n\nThis is a long", "second paragraph"}},
		{"no spaces: grapheme", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"khmer sentence end without space", "ខ្ញុំទៅ។ហើយខ្ញុំមក", 10, nil},
		{"khmer words", strings.Repeat(khmer+" ", 50), 40, nil},
		{"khmer without spaces", strings.Repeat(khmerNoSpace, 40), 37, nil},
		{"khmer zero-width spaces", strings.Repeat("ខ្ញុំ\u200bចង់\u200bទិញ\u200b", 30), 25, nil},
		{"combining accents", strings.Repeat("e\u0301", 30), 7, nil},
		{"emoji zwj sequences", strings.Repeat("👨\u200d👩\u200d👧", 10), 8, nil},
		{"skin tones", strings.Repeat("👍🏽", 10), 5, nil},
		{"flags", strings.Repeat("🇰🇭", 9), 5, nil},
		{"hangul jamo", strings.Repeat("\u1100\u1161\u11a8", 10), 4, nil},
		{"crlf", strings.Repeat("ab\r\n", 10), 5, nil},
		{"devanagari conjuncts", strings.Repeat("क्षत्रिय", 10), 6, nil},
		{"chinese", strings.Repeat("我想买一双鞋。", 10), 12, nil},
		{"leading and trailing space", "   hello there world   ", 11, []string{"hello there", "world"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, ok := splitText(tt.text, tt.limit)
			if !ok {
				t.Fatal("splitText refused")
			}
			if tt.want != nil && strings.Join(tt.want, "|") != strings.Join(parts, "|") {
				t.Errorf("parts = %q, want %q", parts, tt.want)
			}
			checkParts(t, tt.text, parts, tt.limit)
		})
	}
}

func checkParts(t *testing.T, text string, parts []string, limit int) {
	t.Helper()
	if joinedWithoutSpace(parts...) != joinedWithoutSpace(text) {
		t.Errorf("the parts do not add up to the text:\n%q\n%q", parts, text)
	}
	for i, p := range parts {
		if p == "" || !utf8.ValidString(p) || utf8.RuneCountInString(p) > limit {
			t.Errorf("part %d is empty, invalid or too long (%d runes): %q", i, utf8.RuneCountInString(p), p)
		}
		if p != strings.TrimFunc(p, isSpace) {
			t.Errorf("part %d has whitespace at a cut: %q", i, p)
		}
		first, _ := utf8.DecodeRuneInString(p)
		last, _ := utf8.DecodeLastRuneInString(p)
		if isExtend(first) || unicode.Is(unicode.Mn, first) {
			t.Errorf("part %d starts with a mark %U: a grapheme was cut", i, first)
		}
		if last == zwj || isVirama(last) {
			t.Errorf("part %d ends with a joiner %U: a grapheme was cut", i, last)
		}
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(parts[i-1])
			if isRegionalIndicator(prev) && isRegionalIndicator(first) {
				n := 0
				for _, r := range parts[i-1] {
					if isRegionalIndicator(r) {
						n++
					}
				}
				if n%2 != 0 {
					t.Errorf("a flag was cut between parts %d and %d", i-1, i)
				}
			}
		}
	}
}

func TestSplitTextRefusesUnsplittable(t *testing.T) {
	// One letter carrying more marks than fit in a part has no safe cut.
	if _, ok := splitText("a"+strings.Repeat("\u0301", 30), 10); ok {
		t.Error("splitText cut inside a grapheme cluster")
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("សួស្តី ខ្ញុំចង់ទិញ។ ហើយ", 7)
	f.Add("Hello. World!\n\nBye", 5)
	f.Add("👨\u200d👩\u200d👧🇰🇭🇰🇭", 3)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if limit < 1 || limit > 50 || !utf8.ValidString(text) {
			return
		}
		parts, ok := splitText(text, limit)
		if !ok {
			return
		}
		if joinedWithoutSpace(parts...) != joinedWithoutSpace(text) {
			t.Fatalf("lost text: %q -> %q", text, parts)
		}
		for _, p := range parts {
			if p == "" || utf8.RuneCountInString(p) > limit {
				t.Fatalf("bad part %q of %q", p, text)
			}
		}
	})
}

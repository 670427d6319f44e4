package trigger

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"ascii case and spaces", "  Hello \t\n  WORLD  ", "hello world"},
		{"zero-width space", "pri\u200bce", "price"},
		{"zero-width joiners and word joiner", "p\u200cr\u200di\u2060ce", "price"},
		{"byte order mark", "\ufeffprice", "price"},
		{"soft hyphen", "pri\u00adce", "price"},
		{"only invisible", "\u200b\u200d\ufeff", ""},
		{"fullwidth", "ＰＲＩＣＥ　ＬＩＳＴ", "price list"},
		{"no-break and ideographic spaces", "a\u00a0b\u3000c", "a b c"},
		{"ligature", "ﬁle", "file"},
		{"sharp s", "Straße", "strasse"},
		{"capital sharp s", "STRAẞE", "strasse"},
		{"double s", "STRASSE", "strasse"},
		{"turkish dotted capital I", "İSTANBUL", "istanbul"},
		{"turkish dotless i stays", "kırmızı", "kırmızı"},
		{"turkish capital I folds to i", "KIRMIZI", "kirmizi"},
		{"greek final sigma", "ΣΟΦΟΣ σοφος", "σοφοσ σοφοσ"},
		{"cyrillic", "Сколько СТОИТ", "сколько стоит"},
		{"vietnamese decomposed", "Gia\u0301 bao nhie\u0302\u0300u", "giá bao nhiều"},
		{"vietnamese precomposed", "GIÁ BAO NHIỀU", "giá bao nhiều"},
		{"halfwidth katakana", "ﾊﾞｯｸﾞ", "バッグ"},
		{"skin tone dropped", "👍🏽", "👍"},
		{"variation selector dropped", "❤️", "❤"},
		{"emoji kept", "ok 👍", "ok 👍"},
		{"khmer zwsp between words", "សួស្តី\u200bបង", "សួស្តីបង"},
		{"khmer unchanged", "តម្លៃប៉ុន្មាន", "តម្លៃប៉ុន្មាន"},
		{"thai sara am split by NFKC", "น้ำ", "น้\u0e4d\u0e32"},
		{"devanagari nukta decomposed", "\u095b", "\u091c\u093c"},
		{"invalid utf-8 replaced", "a\xffb", "a\ufffdb"},
		{"tabs only", "\t\t", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q (%+q), want %q", tt.in, got, got, tt.want)
			}
		})
	}
}

// full is the step-by-step pipeline, without the quick path.
func full(s string) string {
	var n normalizer
	n.full(s)
	return string(n.a)
}

func TestNormalizeIsIdempotentOnCorpus(t *testing.T) {
	for _, s := range corpus() {
		once := Normalize(s)
		if twice := Normalize(once); twice != once {
			t.Errorf("Normalize(Normalize(%q)) = %q, want %q", s, twice, once)
		}
	}
}

// TestQuickNormalizeAgrees checks the quick path against the full pipeline:
// every rune alone, every rune between ASCII and between marks, and random
// strings of runes the quick path accepts.
func TestQuickNormalizeAgrees(t *testing.T) {
	check := func(s string) {
		t.Helper()
		q, ok := quickNormalize(nil, s)
		if !ok {
			return
		}
		if f := full(s); string(q) != f {
			t.Fatalf("quick(%+q) = %+q, full pipeline gives %+q", s, q, f)
		}
	}
	var quick []rune
	for r := rune(0); r < 0x20000; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		check(s)
		check("A" + s + "b")
		check(s + "\u17d2")  // before a Khmer coeng (class 9)
		check("e\u0301" + s) // after é decomposed (quick refuses) …
		check("é" + s)       // … and precomposed (trailing class 230)
		if _, ok := quickNormalize(nil, s); ok {
			quick = append(quick, r)
		}
	}
	if len(quick) < 20000 {
		t.Fatalf("only %d runes take the quick path; the table looks broken", len(quick))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for i := 0; i < 200000; i++ {
		b.Reset()
		for n := 2 + rng.IntN(4); n > 0; n-- {
			if rng.IntN(4) == 0 {
				b.WriteString([]string{" ", "A", "\u17d2", "\u0e48", "\u093c", "é", "İ"}[rng.IntN(7)])
				continue
			}
			b.WriteRune(quick[rng.IntN(len(quick))])
		}
		check(b.String())
	}
	for _, s := range corpus() {
		check(s)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short enough", "price", 10, "price"},
		{"ascii cut", "price list", 5, "price"},
		{"never inside a rune", "aé", 2, "a"},
		{"never before a mark", "ae\u0301", 2, "a"},
		{"never after a khmer coeng", "ក្ក", 6, ""}, // ក + ្ is 6 bytes: the subscript ក would be cut off
		{"khmer at a cluster boundary", "កក", 3, "ក"},
		{"never after a thai leading vowel", "กเท", 6, "ก"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncate(tt.in, tt.max); got != tt.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// corpus is every text the tests use, for properties over all of them.
func corpus() []string {
	out := BenchmarkTexts()
	for _, l := range languageCases() {
		out = append(out, l.keyword, l.text)
	}
	return out
}

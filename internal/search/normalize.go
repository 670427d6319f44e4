package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxQueryRunes bounds a query: longer ones are refused (ErrInvalid).
const MaxQueryRunes = 100

// Normalize is the one text normalization of both sides of a search, the
// indexed text and the query:
//
//   - compatibility decomposition (NFKD), so full-width and ligature forms
//     match their plain letters;
//   - combining marks of the Latin/Greek/Cyrillic block U+0300–U+036F are
//     dropped, so "José" matches "jose". Khmer and Thai vowel signs and
//     diacritics are in their own blocks and are kept: they change words;
//   - recomposition (NFC) and full Unicode case folding;
//   - decimal digits of Khmer, Thai, Lao and Myanmar become ASCII, so
//     "០១២" finds "012";
//   - every run of white space becomes one space, and the ends are trimmed.
//
// A fresh cases.Caser per call keeps Normalize safe for concurrent use (a
// Caser is stateful).
func Normalize(s string) string {
	s = norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r >= 0x0300 && r <= 0x036F:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(asciiDigit(r))
	}
	return cases.Fold().String(norm.NFC.String(b.String()))
}

// asciiDigit maps the decimal digits of the scripts Parley's users write
// (besides ASCII) to ASCII, and returns other runes unchanged.
func asciiDigit(r rune) rune {
	for _, zero := range [...]rune{0x17E0 /* Khmer */, 0x0E50 /* Thai */, 0x0ED0 /* Lao */, 0x1040 /* Myanmar */} {
		if r >= zero && r <= zero+9 {
			return '0' + (r - zero)
		}
	}
	return r
}

// phoneDigits returns the digits of s when s looks like a phone number (only
// digits, spaces and + - ( ) . /, at least one digit), and ok false
// otherwise. Phones are indexed as their E.164 digits without the "+".
func phoneDigits(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '+' || r == '-' || r == '(' || r == ')' || r == '.' || r == '/':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// Gram kinds, part of every digest so grams of different kinds never share
// one.
const (
	kindTrigram  = 't'
	kindFivegram = '5'
	kindPrefix   = 'p'
)

// gram is one indexable piece of normalized text: a trigram or a five-gram
// (three or five code points anywhere) or a prefix (the first one or two
// code points of a word).
type gram struct {
	kind byte
	text string
}

// longGram is the length of the long grams. Trigrams alone make every
// query of common syllables a conjunction of long posting lists (in two
// million names, "n c" and " ch" are everywhere while "an ch" is not);
// five code points are selective enough that the rarest one drives a short
// walk, at the cost of one more posting per position.
const longGram = 5

// trigrams appends the trigrams of s (normalized) to dst.
func trigrams(dst []gram, s string) []gram { return ngrams(dst, s, 3, kindTrigram) }

// ngrams appends every run of n code points of s, as grams of kind.
func ngrams(dst []gram, s string, n int, kind byte) []gram {
	var starts []int // byte offset of every rune, then the end
	for i := range s {
		starts = append(starts, i)
	}
	starts = append(starts, len(s))
	for i := 0; i+n < len(starts); i++ {
		dst = append(dst, gram{kind, s[starts[i]:starts[i+n]]})
	}
	return dst
}

// prefixes appends the first one and two code points of every word of s
// (normalized; words are split at spaces): what queries of one or two code
// points look up. Unspaced Khmer and Thai text is one word, so a short
// query finds it only at its start; see the ADR.
func prefixes(dst []gram, s string) []gram {
	for _, w := range strings.Split(s, " ") {
		if w == "" {
			continue
		}
		_, n1 := utf8.DecodeRuneInString(w)
		dst = append(dst, gram{kindPrefix, w[:n1]})
		if n1 < len(w) {
			_, n2 := utf8.DecodeRuneInString(w[n1:])
			dst = append(dst, gram{kindPrefix, w[:n1+n2]})
		}
	}
	return dst
}

// textGrams returns every gram of one normalized field value.
func textGrams(dst []gram, s string) []gram {
	return prefixes(ngrams(trigrams(dst, s), s, longGram, kindFivegram), s)
}

// queryGrams returns the grams a normalized query must all have: its
// five-grams when it is that long, else its trigrams, or for a query of
// one or two code points the query as a prefix.
func queryGrams(q string) []gram {
	switch n := utf8.RuneCountInString(q); {
	case n < 3:
		return []gram{{kindPrefix, q}}
	case n < longGram:
		return trigrams(nil, q)
	default:
		return ngrams(nil, q, longGram, kindFivegram)
	}
}

// matches reports whether normalized query q is found in normalized text t
// the way the index promises: as a substring when q has three code points
// or more, at the start of a word otherwise.
func matches(t, q string) bool {
	if utf8.RuneCountInString(q) >= 3 {
		return strings.Contains(t, q)
	}
	for _, w := range strings.Split(t, " ") {
		if strings.HasPrefix(w, q) {
			return true
		}
	}
	return false
}

package contact

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// cleanText returns s as valid, NFC-normalized UTF-8 with Windows and old
// Mac line breaks made "\n" and surrounding white space trimmed, and ok
// false when s is not valid UTF-8 or holds a control character other than
// a line break or a tab (NUL included: PostgreSQL text cannot hold it, and
// no person types one). NFC makes "é" typed two ways one value, and keeps
// Khmer and Vietnamese text in the form the platforms send.
func cleanText(s string, multiline bool) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	for _, r := range s {
		if r == '\n' || r == '\t' {
			if !multiline {
				return "", false
			}
			continue
		}
		if unicode.IsControl(r) {
			return "", false
		}
	}
	return norm.NFC.String(strings.TrimSpace(s)), true
}

// asciiDigits replaces every decimal digit of any script (Khmer ០-៩, Thai
// ๐-๙, Devanagari, Arabic-Indic, fullwidth, …) by its ASCII digit, so that
// people can answer a number, date or phone question on their own
// keyboard. Unicode encodes each script's digits as one run from zero to
// nine, and the category table keeps runs that touch together in one range
// starting at a zero, so a digit's value is its offset in its range mod 10.
func asciiDigits(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r > unicode.MaxASCII && unicode.IsDigit(r) }) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r > unicode.MaxASCII {
			if d, ok := digitValue(r); ok {
				r = '0' + d
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// digitValue is the value of the decimal digit r (category Nd).
func digitValue(r rune) (rune, bool) {
	for _, rg := range unicode.Nd.R16 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi && rg.Stride == 1 {
			return (r - lo) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi && rg.Stride == 1 {
			return (r - lo) % 10, true
		}
	}
	return 0, false
}

package trigger

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Where a match may start and end. Two rules, both applied to normalized
// text (see doc.go for the reasoning):
//
//   - every match starts and ends on a cluster boundary (isBoundary): never
//     before a combining mark, never after a virama or Khmer coeng that
//     stacks the next consonant, never after a Thai or Lao vowel written
//     before its consonant, never inside a flag;
//   - a whole_word match must also not touch a letter, digit or mark of a
//     script written with spaces (isSpacedWord) on a side where the keyword
//     itself ends in such a character. Scripts written without spaces have
//     no word boundaries to check, so there whole_word is contains.

// isBoundary reports whether byte offset i of the valid UTF-8 text t is a
// cluster boundary. The ends of the text always are.
func isBoundary(t string, i int) bool {
	if i <= 0 || i >= len(t) {
		return true
	}
	a, asize := utf8.DecodeLastRuneInString(t[:i])
	b, _ := utf8.DecodeRuneInString(t[i:])
	if a < 0x0300 && b < 0x0300 {
		return true // Latin, Greek-free fast path: no marks, no joiners
	}
	if extends(b) {
		return false
	}
	if prefixVowel(a) || saraAm(a, b) {
		return false
	}
	if joiner(a, t[i-asize:i]) && unicode.IsLetter(b) {
		return false
	}
	if regional(a) && regional(b) {
		// Flags are pairs of regional indicators: a break falls only after
		// an even number of them.
		n := 0
		for j := i; j > 0; {
			r, size := utf8.DecodeLastRuneInString(t[:j])
			if !regional(r) {
				break
			}
			n++
			j -= size
		}
		return n%2 == 0
	}
	return true
}

// extends reports runes that belong to the cluster before them: combining
// marks of every script (Khmer and Thai vowel signs, Devanagari matras,
// Vietnamese diacritics left uncomposed), Thai and Lao sara am (letters
// that Unicode's grapheme rules treat as spacing marks) and Hangul medial
// and final jamo.
func extends(r rune) bool {
	if unicode.IsMark(r) {
		return true
	}
	return r == 0x0E33 || r == 0x0EB3 || (r >= 0x1160 && r <= 0x11FF) || (r >= 0xD7B0 && r <= 0xD7FF)
}

// joiner reports a virama that stacks the following consonant into the same
// cluster: Khmer coeng U+17D2, Myanmar U+1039, Devanagari and other Indic
// viramas (canonical combining class 9). Myanmar asat U+103A also has class
// 9 but is a visible killer that ends a syllable, so it is excluded.
func joiner(r rune, enc string) bool {
	if r < 0x0900 || r == 0x103A {
		return false
	}
	return norm.NFC.PropertiesString(enc).CCC() == 9
}

// prefixVowel reports vowels written before the consonant they follow in
// speech (Unicode's Logical_Order_Exception): Thai เ แ โ ใ ไ, Lao ເ ແ ໂ ໃ
// ໄ, New Tai Lue and Tai Viet. A match may not end after one or start
// before its consonant.
func prefixVowel(r rune) bool {
	switch {
	case r >= 0x0E40 && r <= 0x0E44, r >= 0x0EC0 && r <= 0x0EC4:
		return true
	case r >= 0x19B5 && r <= 0x19B7, r == 0x19BA:
		return true
	case r == 0xAAB5, r == 0xAAB6, r == 0xAAB9, r == 0xAABB, r == 0xAABC:
		return true
	}
	return false
}

// saraAm reports the two halves of Thai sara am "ำ" (and Lao am "ໍາ"),
// which NFKC splits into nikhahit + sara aa: still one vowel.
func saraAm(a, b rune) bool {
	return (a == 0x0E4D && b == 0x0E32) || (a == 0x0ECD && b == 0x0EB2)
}

func regional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// continuous reports scripts written without spaces between words, where
// a word can only be told by a dictionary: Thai, Lao, Tibetan, Myanmar,
// Khmer, the Tai scripts, Balinese, Javanese, Yi, and Chinese and
// Japanese (Han, kana, bopomofo, CJK punctuation and the prolonged sound
// mark). Keywords there match as substrings, at cluster boundaries.
func continuous(r rune) bool {
	switch {
	case r < 0x0E00:
		return false
	case r <= 0x0FFF: // Thai, Lao, Tibetan
		return true
	case r <= 0x109F: // Myanmar
		return r >= 0x1000
	case r >= 0x1780 && r <= 0x17FF, r >= 0x19E0 && r <= 0x19FF: // Khmer, Khmer symbols
		return true
	case r >= 0x1950 && r <= 0x19DF: // Tai Le, New Tai Lue
		return true
	case r >= 0x1A20 && r <= 0x1AAF, r >= 0x1B00 && r <= 0x1B7F: // Tai Tham, Balinese
		return true
	case r >= 0x2E80 && r <= 0x2FDF, r >= 0x3000 && r <= 0x31FF: // CJK radicals, symbols, kana, bopomofo
		return true
	case r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xF900 && r <= 0xFAFF: // Han
		return true
	case r >= 0xA000 && r <= 0xA4CF: // Yi
		return true
	case r >= 0xA980 && r <= 0xA9FF, r >= 0xAA60 && r <= 0xAADF: // Javanese, Myanmar ext-A/B, Tai Viet
		return true
	case r >= 0xFF65 && r <= 0xFF9F: // halfwidth kana (NFKC widens them anyway)
		return true
	case r >= 0x20000 && r <= 0x3FFFF: // Han extensions
		return true
	}
	return false
}

// isSpacedWord reports a letter, digit, mark or underscore of a script
// written with spaces: what a whole word may not touch.
func isSpacedWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
	}
	if !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)) {
		return false
	}
	return !continuous(r)
}

// apostrophe reports the marks that join two letters into one word
// ("don't", "l’eau"): a word boundary never falls beside one that has
// letters on both sides.
func apostrophe(r rune) bool { return r == '\'' || r == 0x2019 }

// wordStart reports whether a whole word may start at byte i of t, for a
// keyword whose first rune is spaced-word (otherwise any cluster boundary
// will do).
func wordStart(t string, i int) bool {
	if i <= 0 {
		return true
	}
	r, size := utf8.DecodeLastRuneInString(t[:i])
	if isSpacedWord(r) {
		return false
	}
	if apostrophe(r) && i-size > 0 {
		p, _ := utf8.DecodeLastRuneInString(t[:i-size])
		return !isSpacedWord(p)
	}
	return true
}

// wordEnd reports whether a whole word may end at byte j of t, for a
// keyword whose last rune is spaced-word.
func wordEnd(t string, j int) bool {
	if j >= len(t) {
		return true
	}
	r, size := utf8.DecodeRuneInString(t[j:])
	if isSpacedWord(r) {
		return false
	}
	if apostrophe(r) && j+size < len(t) {
		n, _ := utf8.DecodeRuneInString(t[j+size:])
		return !isSpacedWord(n)
	}
	return true
}

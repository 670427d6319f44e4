package messenger

import (
	"strings"
	"unicode"
)

// splitText cuts s into parts of at most limit runes each, preferring to cut
// between paragraphs, then lines, sentences and words, and never inside a
// grapheme cluster (a letter with its marks, a Khmer consonant stack, an
// emoji sequence). Whitespace at each cut is dropped. It reports false when
// some stretch of limit runes holds no safe place to cut (pathological
// input such as thousands of marks on one letter).
func splitText(s string, limit int) ([]string, bool) {
	s = strings.TrimFunc(s, isSpace)
	var parts []string
	for s != "" {
		cut, fits := breakPoint(s, limit)
		if fits {
			parts = append(parts, s)
			break
		}
		if cut <= 0 {
			return nil, false
		}
		parts = append(parts, strings.TrimRightFunc(s[:cut], isSpace))
		s = strings.TrimLeftFunc(s[cut:], isSpace)
	}
	return parts, true
}

// Boundary classes, best first.
const (
	breakParagraph = iota
	breakLine
	breakSentence
	breakWord
	breakGrapheme
	breakClasses
)

// breakPoint returns the byte offset of the best place to cut s so that the
// first part holds at most limit runes, or 0 if there is none; fits is true
// when s holds no more than limit runes and needs no cut. A boundary better
// than a bare grapheme boundary is taken only in the second half of the
// window, so parts are not needlessly short. It reads at most limit+1
// runes, which keeps splitting linear in the length of the text.
func breakPoint(s string, limit int) (cut int, fits bool) {
	// The first limit+1 runes and where each starts: boundary k lies
	// between rune k-1 and rune k, at byte offset off[k].
	rs := make([]rune, 0, limit+1)
	off := make([]int, 0, limit+1)
	for i, r := range s {
		if len(rs) == limit+1 {
			break
		}
		rs = append(rs, r)
		off = append(off, i)
	}
	if len(rs) <= limit {
		return 0, true
	}
	var best [breakClasses]int
	for k := 1; k <= limit; k++ {
		if !graphemeBoundary(rs, k) {
			continue
		}
		best[breakGrapheme] = k
		if k < limit/2 {
			continue
		}
		if c, ok := classify(rs, k); ok {
			best[c] = k
		}
	}
	for _, k := range best {
		if k > 0 {
			return off[k], false
		}
	}
	return 0, false
}

// classify names the best class of boundary k (a grapheme boundary) other
// than a bare grapheme boundary.
func classify(rs []rune, k int) (int, bool) {
	prev, next := rs[k-1], rs[k]
	if isSpace(prev) != isSpace(next) {
		// k is at one edge of a whitespace run, which the cut drops: the
		// run says what kind of boundary it is.
		i, j := k, k
		for i > 0 && isSpace(rs[i-1]) {
			i--
		}
		for j < len(rs) && isSpace(rs[j]) {
			j++
		}
		switch strings.Count(string(rs[i:j]), "\n") {
		case 0:
		case 1:
			return breakLine, true
		default:
			return breakParagraph, true
		}
		// A sentence ends before the run (closing quotes and brackets may
		// come between).
		for i > 0 && strings.ContainsRune(closers, rs[i-1]) {
			i--
		}
		if i > 0 && (strings.ContainsRune(terminators, rs[i-1]) || strings.ContainsRune(spacelessTerminators, rs[i-1])) {
			return breakSentence, true
		}
		return breakWord, true
	}
	if isSpace(prev) {
		return 0, false // inside a whitespace run
	}
	if strings.ContainsRune(spacelessTerminators, prev) {
		return breakSentence, true
	}
	if isIdeographic(prev) || isIdeographic(next) {
		// Chinese and Japanese text may break between any two ideographs.
		// (Khmer, Thai and Lao writers mark word ends with a zero-width
		// space, which isSpace counts as a space.)
		return breakWord, true
	}
	return 0, false
}

const (
	terminators = ".!?…"
	// spacelessTerminators end sentences in scripts that put no space
	// after them: Khmer khan and bariyoosan, CJK full stops, Devanagari
	// danda, Myanmar section marks, Thai paiyannoi is not one.
	spacelessTerminators = "។៕。！？।॥။"
	closers              = ")]}\"'”’»」』"
	zwsp                 = '\u200b'
	zwj                  = '\u200d'
	zwnj                 = '\u200c'
)

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == zwsp }

func isIdeographic(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// graphemeBoundary reports whether cutting between rs[k-1] and rs[k] keeps
// every grapheme cluster whole: a simplified form of the Unicode rules
// (UAX #29) that covers what people write in Parley's markets, plus the
// Indic and Khmer stacking signs (a consonant after a virama or the Khmer
// COENG belongs to the stack before it).
func graphemeBoundary(rs []rune, k int) bool {
	prev, next := rs[k-1], rs[k]
	switch {
	case prev == '\r' && next == '\n':
		return false
	case isExtend(next):
		return false
	case prev == zwj || isVirama(prev):
		return false
	case isRegionalIndicator(prev) && isRegionalIndicator(next):
		// Flags are pairs: cut only after an even run of indicators.
		n := 0
		for j := k - 1; j >= 0 && isRegionalIndicator(rs[j]); j-- {
			n++
		}
		return n%2 == 0
	case isHangulJamoVT(next) && isHangul(prev):
		return false
	case isHangulJamoL(prev) && isHangul(next):
		return false
	}
	return true
}

// isExtend is true for runes that attach to the one before them: marks
// (including Khmer, Thai and Indic vowel signs), joiners, variation
// selectors, emoji skin tones and tag characters.
func isExtend(r rune) bool {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc):
		return true
	case r == zwj || r == zwnj:
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return true
	case r >= 0x1F3FB && r <= 0x1F3FF: // emoji modifiers (skin tones)
		return true
	case r >= 0xE0020 && r <= 0xE007F: // tags (subdivision flags)
		return true
	}
	return false
}

func isVirama(r rune) bool {
	switch r {
	case 0x17D2, // KHMER SIGN COENG
		0x094D, 0x09CD, 0x0A4D, 0x0ACD, 0x0B4D, 0x0BCD, 0x0C4D, 0x0CCD, 0x0D4D, // Indic viramas
		0x0DCA, // SINHALA AL-LAKUNA
		0x1039, // MYANMAR SIGN VIRAMA
		0x1A60: // TAI THAM SIGN SAKOT
		return true
	}
	return false
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

func isHangulJamoL(r rune) bool {
	return (r >= 0x1100 && r <= 0x115F) || (r >= 0xA960 && r <= 0xA97F)
}

func isHangulJamoVT(r rune) bool {
	return (r >= 0x1160 && r <= 0x11FF) || (r >= 0xD7B0 && r <= 0xD7FF)
}

func isHangul(r rune) bool {
	return isHangulJamoL(r) || isHangulJamoVT(r) || (r >= 0xAC00 && r <= 0xD7A3)
}

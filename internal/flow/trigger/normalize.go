package trigger

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Normalize returns the form in which keywords and texts are compared:
//
//  1. invisible characters are removed: U+200B ZWSP, U+200C ZWNJ, U+200D
//     ZWJ, U+2060 word joiner, U+FEFF BOM, U+00AD soft hyphen, variation
//     selectors U+FE00–U+FE0F and emoji skin-tone modifiers U+1F3FB–U+1F3FF
//     (so "👍" matches "👍🏽" and "❤" matches "❤️");
//  2. NFKC: precomposed and combining Vietnamese diacritics become the same,
//     fullwidth Latin becomes ASCII, halfwidth kana become fullwidth,
//     ligatures are spelled out;
//  3. full Unicode case folding, language-neutral: "ß", "ẞ" and "SS" all
//     become "ss", final sigma becomes sigma;
//  4. Turkish capital dotted İ, which folds to "i" plus U+0307, becomes
//     plain "i" so "İSTANBUL" matches "istanbul"; dotless ı stays a letter of
//     its own (folding cannot know the language), so "KIRMIZI" does not match
//     "kırmızı": Turkish authors list both spellings;
//  5. every run of white space becomes one space, and the ends are trimmed.
//
// Normalize is what Compile applies to keywords; it is exported so the
// editor can show authors what their keyword is compared as.
func Normalize(s string) string {
	var n normalizer
	return string(n.normalize(s, -1))
}

// normalizer holds the buffers of one normalization, so a pooled one makes
// Match allocation-free once warm. Not safe for concurrent use.
type normalizer struct {
	a, b []byte
}

// fold is stateless and safe for concurrent use (cases.Fold's contract).
var fold = cases.Fold()

// normalize returns the normalized s, truncated to max bytes when max >= 0
// (the input is cut first to bound the work, then the output, both on a
// cluster boundary). The result aliases the normalizer's buffers.
func (n *normalizer) normalize(s string, max int) []byte {
	if max >= 0 {
		s = truncate(s, max)
	}
	var ok bool
	if n.a, ok = quickNormalize(n.a[:0], s); !ok {
		n.full(s)
	}
	if max >= 0 && len(n.a) > max {
		n.a = n.a[:len(truncate(string(n.a), max))]
	}
	return n.a
}

// full runs the pipeline step by step, leaving the result in n.a.
func (n *normalizer) full(s string) {
	n.a = stripInvisible(n.a[:0], s)
	if !norm.NFKC.IsNormal(n.a) {
		n.b = norm.NFKC.Append(n.b[:0], n.a...)
		n.a, n.b = n.b, n.a
	}
	if k, _ := fold.Span(n.a, true); k != len(n.a) {
		n.b = foldAppend(n.b[:0], n.a)
		n.a, n.b = n.b, n.a
	}
	n.a = collapse(n.a)
}

// quickNormalize is the whole pipeline in one pass for the usual text:
// ASCII, and runes that runeTable says no step changes (most letters and
// signs of most scripts, precomposed or not, and emoji), in canonical
// order. It gives up (false) at the first rune that needs the full
// pipeline: invisible, non-ASCII space, a compatibility
// character, a mark that could compose with what precedes it, marks out
// of canonical order, invalid UTF-8. Otherwise its result is the full
// pipeline's, byte for byte (TestQuickNormalizeAgrees checks it).
func quickNormalize(dst []byte, s string) ([]byte, bool) {
	tab := runeTable()
	space := false
	var trail uint8 // trailing combining class of the previous rune
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			trail = 0
			switch {
			case c == ' ' || (c >= '\t' && c <= '\r'):
				space = true
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			if space && len(dst) > 0 {
				dst = append(dst, ' ')
			}
			space = false
			dst = append(dst, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		info := tab.lookup(r) // U+FFFD, hence invalid UTF-8, is slow

		if info&infoSlow != 0 || (info&infoMark != 0 && trail > uint8(info)) {
			return dst, false
		}
		trail = uint8(info)
		if space && len(dst) > 0 {
			dst = append(dst, ' ')
		}
		space = false
		if info&infoLower != 0 {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst, true
}

// invisible reports the characters removed before comparison: they change
// rendering or joining, not what was written.
func invisible(r rune) bool {
	switch {
	case r == 0x00AD, r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF:
		return true
	case r >= 0xFE00 && r <= 0xFE0F: // variation selectors
		return true
	case r >= 0x1F3FB && r <= 0x1F3FF: // emoji skin-tone modifiers
		return true
	}
	return false
}

// stripInvisible copies s without invisible characters and with invalid
// UTF-8 replaced by U+FFFD, so later steps see valid text. Stripping comes
// before NFKC because a joiner between a letter and its mark would block
// composition.
func stripInvisible(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !invisible(r) {
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, r)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
		}
		i += size
	}
	return dst
}

// foldAppend case-folds src onto dst without the allocation of
// cases.Caser.Bytes.
func foldAppend(dst, src []byte) []byte {
	if need := len(src)*2 + 16; cap(dst) < need {
		dst = make([]byte, 0, need)
	}
	for {
		n, m, err := fold.Transform(dst[len(dst):cap(dst)], src, true)
		dst = dst[:len(dst)+n]
		src = src[m:]
		if err != transform.ErrShortDst {
			// Folding valid UTF-8 has no other failure; on any, keep the
			// rest unfolded rather than lose text.
			if err != nil {
				dst = append(dst, src...)
			}
			return dst
		}
		dst = append(dst, make([]byte, len(src)*2+16)...)[:len(dst)]
	}
}

// collapse rewrites b in place: runs of white space become one space, the
// ends are trimmed, and "i" + U+0307 (from a folded İ) becomes "i".
func collapse(b []byte) []byte {
	w := 0
	space := false
	for r := 0; r < len(b); {
		c, size := rune(b[r]), 1
		if c >= utf8.RuneSelf {
			c, size = utf8.DecodeRune(b[r:])
		}
		if unicode.IsSpace(c) {
			space = true
			r += size
			continue
		}
		if c == 0x0307 && w > 0 && b[w-1] == 'i' && !space {
			r += size
			continue
		}
		if space && w > 0 {
			b[w] = ' '
			w++
		}
		space = false
		w += copy(b[w:], b[r:r+size])
		r += size
	}
	return b[:w]
}

// truncate cuts s to at most max bytes, backing off to a cluster boundary
// so that a cut can never create a match that the whole text would not
// have (a keyword ending where a mark or a subscript consonant was cut
// off).
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	// A cluster is a handful of runes; past 32 give up and cut anyway.
	for n := 0; n < 32 && i > 0 && !isBoundary(s, i); n++ {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[:i]
}

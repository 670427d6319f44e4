package trigger

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// runeInfo is what quickNormalize needs to know of one rune: the low byte
// is its trailing canonical combining class (the class of the last rune of
// its decomposition: 230 for "é", 9 for the Khmer coeng, 0 for most);
// infoMark says the rune is itself a combining mark, so its leading class
// is that same value and canonical order must be checked; infoLower says
// folding turns it into unicode.ToLower of it (upper-case Cyrillic, Greek,
// Latin-1…); infoSlow says normalization may change it otherwise, or
// change its neighbour, so the full pipeline runs.
type runeInfo uint16

const (
	infoMark  runeInfo = 1 << 8
	infoLower runeInfo = 1 << 9
	infoSlow  runeInfo = 1 << 15
)

// The emoji blocks of plane 1 are the only runes above U+FFFF worth a
// fast path; the rest of the supplementary planes take the full pipeline.
const emojiLo, emojiHi = 0x1F000, 0x1FAFF

type runeTab struct {
	bmp   [0x10000]runeInfo
	emoji [emojiHi - emojiLo + 1]runeInfo
}

func (t *runeTab) lookup(r rune) runeInfo {
	switch {
	case r < 0x10000:
		return t.bmp[r]
	case r >= emojiLo && r <= emojiHi:
		return t.emoji[r-emojiLo]
	}
	return infoSlow
}

// runeTable is derived once per process from x/text's own tables (some
// tens of milliseconds), so it always agrees with the normalization and
// folding it shortcuts; it is never written after that. 136 KiB.
var runeTable = sync.OnceValue(buildRuneTable)

func buildRuneTable() *runeTab {
	// Runes that may compose with the rune before them under NFC: every
	// rune after the first of a canonical decomposition (a superset of
	// the second halves of composition pairs), and the Hangul medial and
	// final jamo, whose composition is algorithmic.
	backward := make([]bool, 0x20000)
	for r := rune(0); r < 0x20000; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		d := string(norm.NFD.PropertiesString(string(r)).Decomposition())
		for i, x := range d {
			if i > 0 {
				backward[x] = true
			}
		}
	}
	for r := 0x1161; r <= 0x1175; r++ {
		backward[r] = true
	}
	for r := 0x11A8; r <= 0x11C2; r++ {
		backward[r] = true
	}

	classify := func(r rune) runeInfo {
		if !utf8.ValidRune(r) || r == utf8.RuneError || invisible(r) || unicode.IsSpace(r) || backward[r] {
			return infoSlow
		}
		s := string(r)
		if norm.NFKC.String(s) != s {
			return infoSlow
		}
		var lower runeInfo
		if f := fold.String(s); f != s {
			// Folding comes after NFKC and nothing after it recomposes,
			// so a one-rune fold is safe to apply rune by rune.
			if f != string(unicode.ToLower(r)) {
				return infoSlow
			}
			lower = infoLower
		}
		p := norm.NFC.PropertiesString(s)
		switch lead, trail := p.LeadCCC(), p.TrailCCC(); {
		case lead == 0:
			return lower | runeInfo(trail)
		case lead == trail:
			return lower | infoMark | runeInfo(trail)
		}
		return infoSlow
	}
	t := new(runeTab)
	for r := rune(utf8.RuneSelf); r < 0x10000; r++ {
		t.bmp[r] = classify(r)
	}
	for r := rune(emojiLo); r <= emojiHi; r++ {
		t.emoji[r-emojiLo] = classify(r)
	}
	return t
}

package trigger

import (
	"testing"
	"unicode/utf8"
)

// FuzzMatch: Match never panics and is deterministic; it agrees with the
// reference matcher and with MatchAll; the quick normalization agrees with
// the full pipeline; and a contains rule whose keyword is any substring of
// the normalized text, cut at cluster boundaries, always fires.
func FuzzMatch(f *testing.F) {
	for _, s := range corpus() {
		f.Add(s, uint16(0), uint16(5))
	}
	f.Add("ក្ក", uint16(3), uint16(6))
	f.Add("e\u0301\u0323 İI ß \u200b👍🏽🇰🇭", uint16(1), uint16(9))
	rules := referenceRules(200)
	m, _, err := Compile(rules, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, from, size uint16) {
		ev := Event{Kind: EventText, Text: s, Channel: "messenger", NewConversation: size%2 == 0}
		r1, ok1 := m.Match(ev)
		r2, ok2 := m.Match(ev)
		if r1 != r2 || ok1 != ok2 {
			t.Fatalf("Match is not deterministic: %+v %v then %+v %v", r1, ok1, r2, ok2)
		}
		all := m.MatchAll(ev)
		if ok1 && (len(all) == 0 || all[0] != r1) {
			t.Fatalf("Match %+v but MatchAll %+v", r1, all)
		}
		if id, kw := reference(m, ev); ok1 && r1.Kind == KindKeyword && (r1.RuleID != id || r1.Keyword != kw) {
			t.Fatalf("Match %+v, reference %q %q", r1, id, kw)
		}

		if q, ok := quickNormalize(nil, s); ok && string(q) != full(s) {
			t.Fatalf("quick %+q, full %+q", q, full(s))
		}
		var n normalizer
		norm := string(n.normalize(s, DefaultMaxTextBytes))
		if !utf8.ValidString(norm) {
			t.Fatalf("normalized text %+q is not valid UTF-8", norm)
		}

		// A substring at cluster boundaries, as a contains keyword.
		i, j := clusterAt(norm, int(from)), clusterAt(norm, int(from)+int(size))
		sub := norm[i:j]
		if sub == "" || Normalize(sub) != sub || len(sub) > DefaultMaxKeywordBytes {
			return // normalizing a fragment may differ (a leading space, a mark)
		}
		one := compile(t, kw("sub", "f", ModeContains, 0, sub))
		if _, ok := one.Match(Event{Kind: EventText, Text: s}); !ok {
			t.Fatalf("keyword %+q, a substring of normalized %+q, does not match %+q", sub, norm, s)
		}
	})
}

// clusterAt returns the first cluster boundary at or after byte i of t.
func clusterAt(t string, i int) int {
	if i >= len(t) {
		return len(t)
	}
	for i < len(t) && !utf8.RuneStart(t[i]) {
		i++
	}
	for i < len(t) && !isBoundary(t, i) {
		_, size := utf8.DecodeRuneInString(t[i:])
		i += size
	}
	return i
}

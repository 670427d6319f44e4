package trigger

import (
	"strings"
	"testing"
)

// reference is Match done the slow, obvious way for text events: every
// rule in rank order, every keyword searched with strings.HasPrefix at
// every offset, every regular expression run. It shares only the boundary
// rules and the compiled rules with Match, so it checks the automaton, the
// hit bookkeeping, the regexp gates and the pruning.
func reference(m *Matcher, ev Event) (id, keyword string) {
	var n normalizer
	t := string(n.normalize(ev.Text, m.opts.MaxTextBytes))
	for i := range m.rules {
		c := &m.rules[i]
		if c.Kind != KindKeyword || !m.channelOK(int32(i), ev.Channel) {
			continue
		}
		excluded := false
		for _, x := range c.exclude {
			excluded = excluded || containsWord(t, x)
		}
		if excluded {
			continue
		}
		for k := range c.keywords {
			if c.Mode == ModeRegex {
				if t != "" && c.res[k].MatchString(t) {
					return c.ID, c.keywords[k]
				}
				continue
			}
			if naiveMatch(t, c.norm[k], c.Mode) {
				return c.ID, c.keywords[k]
			}
		}
	}
	return "", ""
}

func naiveMatch(t, k string, mode Mode) bool {
	if mode == ModeExact {
		return t == k
	}
	first, last := []rune(k)[0], []rune(k)[len([]rune(k))-1]
	for s := 0; s+len(k) <= len(t); s++ {
		e := s + len(k)
		if !strings.HasPrefix(t[s:], k) || !isBoundary(t, s) || !isBoundary(t, e) {
			continue
		}
		switch mode {
		case ModeContains:
			return true
		case ModeBeginsWith:
			if s == 0 {
				return true
			}
		case ModeWholeWord:
			if (!isSpacedWord(first) || wordStart(t, s)) && (!isSpacedWord(last) || wordEnd(t, e)) {
				return true
			}
		}
	}
	return false
}

// referenceRules are the benchmark rules plus the language keywords in
// every mode, some with exclusions.
func referenceRules(n int) []Rule {
	rules := BenchmarkRules(n)
	modes := []Mode{ModeExact, ModeContains, ModeBeginsWith, ModeWholeWord}
	for i, l := range languageCases() {
		r := kw("lang"+string(rune('a'+i%26))+string(rune('a'+i/26)), "flow-lang", modes[i%len(modes)], i%3, l.keyword)
		if i%5 == 0 {
			r.Exclude = []string{"not", "ไม่"}
		}
		rules = append(rules, r)
	}
	return rules
}

// referenceTexts derives texts that put keywords in every position: alone,
// between words, glued to letters, upper-cased, with zero-width spaces.
func referenceTexts(rules []Rule) []string {
	texts := corpus()
	for i, r := range rules {
		if i%3 != 0 || r.Mode == ModeRegex || len(r.Keywords) == 0 {
			continue
		}
		k := r.Keywords[0]
		texts = append(texts, k, "so "+k+" ok", k+"s", "x"+k, strings.ToUpper(k)+"!",
			strings.Join(strings.Split(k, ""), "\u200b"), "not "+k, k+" "+k)
	}
	return texts
}

func TestMatchAgreesWithReference(t *testing.T) {
	rules := referenceRules(400)
	m, _, err := Compile(rules, Options{})
	if err != nil {
		t.Fatal(err)
	}
	texts := referenceTexts(rules)
	fires := 0
	for _, s := range texts {
		for _, ch := range []string{"messenger", "instagram", ""} {
			ev := Event{Kind: EventText, Text: s, Channel: ch}
			wantID, wantKw := reference(m, ev)
			got, ok := m.Match(ev)
			if !ok {
				got = Result{}
			}
			if got.RuleID != wantID || got.Keyword != wantKw {
				t.Fatalf("text %q on %q: Match gives %q (%q), the reference %q (%q)", s, ch, got.RuleID, got.Keyword, wantID, wantKw)
			}
			if ok {
				fires++
			}
		}
	}
	// The comparison means something only if many texts fire.
	if fires < len(texts) {
		t.Fatalf("only %d of %d events fired a rule", fires, 3*len(texts))
	}
}

package trigger

import (
	"fmt"
	"slices"
)

// conflicts reports pairs of rules from different flows, at equal
// priority, that fire on the same input, so the author sees which flow
// wins and why. Rules of the same flow start the same flow, so they never
// conflict. What counts as "the same input":
//
//   - keyword and comment rules: the message made of one rule's keyword
//     alone fires the other too (so "price" contains and "price list"
//     exact conflict on the message "price list", while two unrelated
//     contains keywords do not, although a message naming both would
//     fire both); channel and post filters must overlap. Exclusion words
//     are honoured. Two regular expressions are never compared (that is
//     undecidable in general); a regular expression and a keyword are;
//   - payload and ref rules with the same payload or ref, and any two
//     get_started, conversation_start or default rules, whose channels
//     overlap.
//
// Rules of different kinds are not reported: at equal priority the kind
// order documented on Compile decides, by design.
func (m *Matcher) conflicts() []Problem {
	var out []Problem
	more := 0
	seen := map[[2]int32]bool{}
	report := func(a, b int32, what string) {
		if a > b {
			a, b = b, a
		}
		if seen[[2]int32{a, b}] {
			return
		}
		seen[[2]int32{a, b}] = true
		if len(out) >= m.opts.MaxConflicts {
			more++
			return
		}
		ra, rb := &m.rules[a], &m.rules[b]
		out = append(out, Problem{
			Severity: SeverityWarning, Code: CodeConflict,
			RuleID: rb.ID, FlowID: rb.FlowID, OtherRuleID: ra.ID, OtherFlowID: ra.FlowID,
			Message: fmt.Sprintf("%s at priority %d; %s wins because it was created first",
				what, ra.Priority, flowLabel(ra.Rule)),
		})
	}

	// Keyword and comment rules: each keyword, as a message of its own.
	sc := m.newScratch()
	for a := range m.rules {
		ca := &m.rules[a]
		if (ca.Kind != KindKeyword && ca.Kind != KindComment) || ca.Mode == ModeRegex {
			continue
		}
		kind := EventText
		if ca.Kind == KindComment {
			kind = EventComment
		}
		for ki, k := range ca.norm {
			ev := Event{Kind: kind, Text: k}
			m.candidates(sc, &ev, true, false)
			fires := slices.ContainsFunc(sc.all, func(h hit) bool { return h.rule == int32(a) })
			for _, h := range sc.all {
				if fires && h.rule != int32(a) && m.clash(int32(a), h.rule) {
					report(int32(a), h.rule, fmt.Sprintf("%s and %s both match the message “%s”",
						m.describe(int32(a), int32(ki)), m.describe(h.rule, h.keyword), short(ca.keywords[ki])))
				}
			}
			sc.reset()
		}
	}

	// The other kinds: each rule against the first rule ranked before it.
	group := func(list []int32, what func(a, b int32) string) {
		for j, b := range list {
			for _, a := range list[:j] {
				if m.clash(a, b) {
					report(a, b, what(a, b))
					break
				}
			}
		}
	}
	both := func(predicate string) func(a, b int32) string {
		return func(a, b int32) string {
			return fmt.Sprintf("%s and %s %s", m.describe(a, -1), m.describe(b, -1), predicate)
		}
	}
	for _, key := range sortedKeys(m.payloads) {
		group(m.payloads[key], both("both answer the payload “"+short(key)+"”"))
	}
	for _, key := range sortedKeys(m.refs) {
		group(m.refs[key], both("both answer links with ref “"+short(key)+"”"))
	}
	group(m.getStarted, both("both answer Get Started"))
	group(m.convStart, both("both start on every new conversation"))
	group(m.defaults, both("are both the default reply"))

	if more > 0 {
		out = append(out, Problem{Severity: SeverityWarning, Code: CodeTooManyConflict,
			Message: fmt.Sprintf("%d more conflicts between triggers are not listed; give the triggers different priorities", more)})
	}
	return out
}

// clash reports whether two rules could fire on the same event and tie:
// different flows, equal priority, overlapping channels and posts.
func (m *Matcher) clash(a, b int32) bool {
	ra, rb := &m.rules[a], &m.rules[b]
	return ra.FlowID != rb.FlowID && ra.Priority == rb.Priority && ra.Kind == rb.Kind &&
		overlap(ra.channels, rb.channels) && (ra.Kind != KindComment || overlap(ra.postIDs, rb.postIDs))
}

// overlap: an empty filter means "all".
func overlap(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// describe names a rule for the author, with the keyword concerned.
func (m *Matcher) describe(r, kw int32) string {
	c := &m.rules[r]
	where := fmt.Sprintf("(%s, trigger %s)", flowLabel(c.Rule), c.ID)
	switch {
	case c.Kind == KindComment && c.anyText:
		return "the any-comment trigger " + where
	case kw >= 0 && c.Mode == ModeRegex:
		return fmt.Sprintf("the regular expression “%s” %s", short(c.keywords[kw]), where)
	case kw >= 0 && c.Kind == KindComment:
		return fmt.Sprintf("the comment keyword “%s” %s", short(c.keywords[kw]), where)
	case kw >= 0:
		return fmt.Sprintf("the keyword “%s” %s", short(c.keywords[kw]), where)
	}
	return fmt.Sprintf("the %s trigger %s", c.Kind, where)
}

func sortedKeys(m map[string][]int32) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

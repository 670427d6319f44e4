package trigger

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Matcher picks the rule an event fires. It is immutable once compiled and
// safe for concurrent use.
type Matcher struct {
	opts  Options
	rules []crule // in rank order: index 0 wins every tie

	// The keyword index: every normalized keyword, exclusion word and
	// regular-expression gate literal once.
	ac       *automaton
	patterns []pattern

	regexes    []int32 // rules with ModeRegex, in rank order
	anyText    []int32 // comment rules without keywords, in rank order
	payloads   map[string][]int32
	refs       map[string][]int32
	getStarted []int32
	convStart  []int32
	defaults   []int32

	pool sync.Pool // *scratch
}

// crule is a rule as compiled.
type crule struct {
	Rule
	pos      int      // position in Compile's input: the last tie-break
	keywords []string // as authored, for Result.Keyword
	norm     []string // normalized (ModeRegex: unused)
	exclude  []string // normalized exclusion words
	res      []*regexp.Regexp
	gates    [][]string // per regexp: literals one of which it needs, or nil
	gated    bool       // every regexp has a gate: skip the rule unless one occurs
	channels []string   // trimmed, lower case
	postIDs  []string   // a copy: the caller may reuse its slices
	anyText  bool       // a comment rule without keywords: any comment
}

// pattern is one distinct normalized string of the keyword index and the
// rules that use it.
type pattern struct {
	text  string
	first bool  // its first rune is a spaced-word rune: check wordStart
	last  bool  // its last rune is: check wordEnd
	need  uint8 // union of the mode bits its uses ask for
	uses  []use
}

// use is one appearance of a pattern in a rule.
type use struct {
	rule    int32
	keyword int32 // index in crule.keywords, or useExclude, or useGate
	mode    uint8 // mode bit that must hold
}

// use.keyword values that are not keywords.
const (
	useExclude int32 = -1 // an exclusion word
	useGate    int32 = -2 // a literal a regular expression of the rule needs
)

// allGated reports whether every regular expression of the rule needs one
// of its literals, so the rule need not run when none occurs.
func (c *crule) allGated() bool {
	for _, g := range c.gates {
		if g == nil {
			return false
		}
	}
	return len(c.gates) > 0
}

// Mode bits of a hit; exclusion words use bitWhole.
const (
	bitExact uint8 = 1 << iota
	bitContains
	bitBegins
	bitWhole
	bitPresent                // anywhere, boundaries or not: regexp gates
	bitSeen    uint8 = 1 << 7 // the pattern is on the touched list
)

func modeBit(m Mode) uint8 {
	switch m {
	case ModeExact:
		return bitExact
	case ModeContains:
		return bitContains
	case ModeBeginsWith:
		return bitBegins
	case ModeWholeWord:
		return bitWhole
	}
	return 0
}

// specificity orders kinds at equal priority: the more deliberate the
// person's action, the earlier.
func specificity(k Kind) int {
	switch k {
	case KindRef:
		return 0
	case KindPayload:
		return 1
	case KindGetStarted:
		return 2
	case KindKeyword, KindComment:
		return 3
	case KindConversationStart:
		return 4
	}
	return 5 // KindDefault
}

func (o Options) withDefaults() (Options, error) {
	def := func(v *int, d int, name string) error {
		switch {
		case *v < 0:
			return fmt.Errorf("trigger: compile: %s is negative", name)
		case *v == 0:
			*v = d
		}
		return nil
	}
	err := errors.Join(
		def(&o.MaxTextBytes, DefaultMaxTextBytes, "MaxTextBytes"),
		def(&o.MaxKeywordBytes, DefaultMaxKeywordBytes, "MaxKeywordBytes"),
		def(&o.MaxPatternBytes, DefaultMaxPatternBytes, "MaxPatternBytes"),
		def(&o.MaxRules, DefaultMaxRules, "MaxRules"),
		def(&o.MaxConflicts, DefaultMaxConflicts, "MaxConflicts"),
	)
	return o, err
}

// Compile checks rules and builds their matcher. A rule (or one keyword of
// it) that cannot work is left out and reported as a SeverityError
// problem; the rest still compile, so one bad trigger never silences a
// workspace. Warnings (conflicts, rules that can never fire) leave the
// rule in. The error is for the call itself: negative options, or more
// rules than MaxRules.
//
// Rank, which decides between rules that fire together: higher Priority;
// then kind (ref, payload, get_started, keyword and comment,
// conversation_start, default); then the flow created first (lower FlowID,
// as flow IDs are UUIDv7); then the earlier position in rules.
func Compile(rules []Rule, opts Options) (*Matcher, []Problem, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	if len(rules) > opts.MaxRules {
		return nil, nil, fmt.Errorf("trigger: compile: %d rules, more than the limit of %d", len(rules), opts.MaxRules)
	}
	m := &Matcher{opts: opts, payloads: map[string][]int32{}, refs: map[string][]int32{}}
	var probs []Problem
	seen := make(map[[2]string]bool, len(rules))
	var n normalizer
	for i, r := range rules {
		c, ps := compileRule(r, i, opts, &n)
		probs = append(probs, ps...)
		if c == nil {
			continue
		}
		key := [2]string{r.FlowID, r.ID}
		if seen[key] {
			probs = append(probs, problem(r, SeverityError, CodeDuplicateRule, "",
				"trigger %q appears twice in %s; the second is ignored", r.ID, flowLabel(r)))
			continue
		}
		seen[key] = true
		m.rules = append(m.rules, *c)
	}
	slices.SortStableFunc(m.rules, func(a, b crule) int {
		switch {
		case a.Priority != b.Priority:
			return cmp.Compare(b.Priority, a.Priority)
		case specificity(a.Kind) != specificity(b.Kind):
			return cmp.Compare(specificity(a.Kind), specificity(b.Kind))
		case a.FlowID != b.FlowID:
			return strings.Compare(a.FlowID, b.FlowID)
		}
		return cmp.Compare(a.pos, b.pos)
	})
	m.index()
	m.pool.New = func() any { return m.newScratch() }
	probs = append(probs, m.conflicts()...)
	return m, probs, nil
}

// compileRule validates one rule; nil means it is left out.
func compileRule(r Rule, pos int, opts Options, n *normalizer) (*crule, []Problem) {
	var probs []Problem
	bad := func(field, format string, args ...any) {
		probs = append(probs, problem(r, SeverityError, CodeInvalidRule, field, format, args...))
	}
	warn := func(code, field, format string, args ...any) {
		probs = append(probs, problem(r, SeverityWarning, code, field, format, args...))
	}
	if strings.TrimSpace(r.ID) == "" {
		bad("id", "a trigger of %s has no ID", flowLabel(r))
	}
	if strings.TrimSpace(r.FlowID) == "" {
		bad("flow_id", "trigger %q belongs to no flow", r.ID)
	}
	c := &crule{Rule: r, pos: pos, postIDs: slices.Clone(r.PostIDs)}
	for _, ch := range r.Channels {
		if ch = strings.ToLower(strings.TrimSpace(ch)); ch != "" {
			c.channels = append(c.channels, ch)
		}
	}
	textual := r.Kind == KindKeyword || r.Kind == KindComment
	switch r.Kind {
	case KindKeyword, KindComment:
		// A comment rule without keywords takes any comment: no mode needed.
		anyComment := r.Kind == KindComment && len(r.Keywords) == 0 && r.Mode == ""
		if !anyComment && modeBit(r.Mode) == 0 && r.Mode != ModeRegex {
			if r.Mode == "" {
				bad("mode", "trigger %q of %s needs a mode: exact, contains, begins_with, whole_word or regex", r.ID, flowLabel(r))
			} else {
				bad("mode", "trigger %q of %s has an unknown mode %q; use exact, contains, begins_with, whole_word or regex", r.ID, flowLabel(r), r.Mode)
			}
		}
	case KindPayload:
		if strings.TrimSpace(r.Payload) == "" {
			bad("payload", "payload trigger %q of %s has no payload", r.ID, flowLabel(r))
		}
	case KindRef:
		if strings.TrimSpace(r.Ref) == "" {
			bad("ref", "link trigger %q of %s has no ref", r.ID, flowLabel(r))
		}
	case KindGetStarted, KindConversationStart:
	case KindDefault:
		if r.Cooldown < 0 {
			bad("cooldown", "default reply %q of %s has a negative cooldown", r.ID, flowLabel(r))
		}
	case "":
		bad("type", "trigger %q of %s has no type", r.ID, flowLabel(r))
	default:
		bad("type", "trigger %q of %s has an unknown type %q", r.ID, flowLabel(r), r.Kind)
	}
	if len(probs) > 0 {
		return nil, probs
	}

	// Fields the kind ignores: kept, but said, as the author meant something.
	if !textual && len(r.Keywords) > 0 {
		warn(CodeIgnoredField, "keywords", "%s trigger %q ignores its keywords", r.Kind, r.ID)
	}
	if !textual && len(r.Exclude) > 0 {
		warn(CodeIgnoredField, "exclude", "%s trigger %q ignores its exclusion words", r.Kind, r.ID)
	}
	if r.Kind != KindComment && len(r.PostIDs) > 0 {
		warn(CodeIgnoredField, "post_ids", "%s trigger %q ignores its post IDs: only comment triggers have them", r.Kind, r.ID)
	}
	if r.Kind != KindDefault && r.Cooldown != 0 {
		warn(CodeIgnoredField, "cooldown", "%s trigger %q ignores its cooldown: only the default reply has one", r.Kind, r.ID)
	}
	if !textual {
		return c, probs
	}

	for i, w := range r.Exclude {
		field := fmt.Sprintf("exclude[%d]", i)
		x := string(n.normalize(w, -1))
		switch {
		case x == "":
			warn(CodeEmptyKeyword, field, "exclusion word %d of trigger %q is empty and is ignored", i+1, r.ID)
		case len(x) > opts.MaxKeywordBytes:
			warn(CodeKeywordTooLong, field, "exclusion word “%s” of trigger %q is longer than %d bytes and is ignored", short(w), r.ID, opts.MaxKeywordBytes)
		case !slices.Contains(c.exclude, x):
			c.exclude = append(c.exclude, x)
		}
	}
	for i, w := range r.Keywords {
		field := fmt.Sprintf("keywords[%d]", i)
		if r.Mode == ModeRegex {
			re, gate, p := compileRegex(r, w, field, opts)
			if p != nil {
				probs = append(probs, *p)
				continue
			}
			if re.MatchString("") {
				warn(CodeMatchesAll, field, "regular expression “%s” of trigger %q matches every message", short(w), r.ID)
			}
			c.keywords = append(c.keywords, w)
			c.res = append(c.res, re)
			c.gates = append(c.gates, gate)
			continue
		}
		k := string(n.normalize(w, -1))
		switch {
		case k == "":
			probs = append(probs, problem(r, SeverityError, CodeEmptyKeyword, field,
				"keyword %d of trigger %q is empty once spaces and invisible characters are removed; it is ignored", i+1, r.ID))
			continue
		case len(k) > opts.MaxKeywordBytes:
			probs = append(probs, problem(r, SeverityError, CodeKeywordTooLong, field,
				"keyword “%s” of trigger %q is longer than %d bytes; it is ignored", short(w), r.ID, opts.MaxKeywordBytes))
			continue
		case slices.Contains(c.norm, k):
			continue // the same keyword twice (perhaps in two spellings)
		}
		if first, _ := utf8.DecodeRuneInString(k); extends(first) {
			warn(CodeMarkStart, field, "keyword “%s” of trigger %q starts with a combining mark, so it can only match at the start of a message", short(w), r.ID)
		}
		for _, x := range c.exclude {
			if containsWord(k, x) {
				warn(CodeNeverFires, field, "keyword “%s” of trigger %q can never fire: its exclusion word “%s” is part of it", short(w), r.ID, x)
				break
			}
		}
		c.keywords = append(c.keywords, w)
		c.norm = append(c.norm, k)
	}
	if len(c.keywords) == 0 {
		if r.Kind == KindComment && len(r.Keywords) == 0 {
			c.anyText = true // "any comment on these posts"
			return c, probs
		}
		probs = append(probs, problem(r, SeverityError, CodeEmptyKeywords, "keywords",
			"%s trigger %q of %s has no usable keyword, so it is left out", r.Kind, r.ID, flowLabel(r)))
		return nil, probs
	}
	return c, probs
}

// index builds the keyword automaton and the per-kind lists.
func (m *Matcher) index() {
	ids := map[string]int32{}
	add := func(text string, u use) {
		id, ok := ids[text]
		if !ok {
			id = int32(len(m.patterns))
			ids[text] = id
			first, _ := utf8.DecodeRuneInString(text)
			last, _ := utf8.DecodeLastRuneInString(text)
			m.patterns = append(m.patterns, pattern{text: text, first: isSpacedWord(first), last: isSpacedWord(last)})
		}
		p := &m.patterns[id]
		p.need |= u.mode
		p.uses = append(p.uses, u)
	}
	for i := range m.rules {
		c := &m.rules[i]
		ri := int32(i)
		switch c.Kind {
		case KindKeyword, KindComment:
			for _, x := range c.exclude {
				add(x, use{rule: ri, keyword: useExclude, mode: bitWhole})
			}
			switch {
			case c.anyText:
				m.anyText = append(m.anyText, ri)
				continue
			case c.Mode == ModeRegex:
				m.regexes = append(m.regexes, ri)
				if c.gated = c.allGated(); c.gated {
					for _, g := range c.gates {
						for _, lit := range g {
							add(lit, use{rule: ri, keyword: useGate, mode: bitPresent})
						}
					}
				}
				continue
			}
			for k, w := range c.norm {
				add(w, use{rule: ri, keyword: int32(k), mode: modeBit(c.Mode)})
			}
		case KindPayload:
			p := strings.TrimSpace(c.Payload)
			m.payloads[p] = append(m.payloads[p], ri)
		case KindRef:
			ref := strings.TrimSpace(c.Ref)
			m.refs[ref] = append(m.refs[ref], ri)
		case KindGetStarted:
			m.getStarted = append(m.getStarted, ri)
		case KindConversationStart:
			m.convStart = append(m.convStart, ri)
		case KindDefault:
			m.defaults = append(m.defaults, ri)
		}
	}
	texts := make([]string, len(m.patterns))
	for i, p := range m.patterns {
		texts[i] = p.text
	}
	m.ac = buildAutomaton(texts)
}

// containsWord reports whether word occurs in the normalized text t as in
// ModeWholeWord; Compile uses it without an automaton.
func containsWord(t, word string) bool {
	first, _ := utf8.DecodeRuneInString(word)
	last, _ := utf8.DecodeLastRuneInString(word)
	for off := 0; off <= len(t)-len(word); {
		i := strings.Index(t[off:], word)
		if i < 0 {
			return false
		}
		s, e := off+i, off+i+len(word)
		if isBoundary(t, s) && isBoundary(t, e) &&
			(!isSpacedWord(first) || wordStart(t, s)) && (!isSpacedWord(last) || wordEnd(t, e)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(t[s:])
		off = s + size
	}
	return false
}

func problem(r Rule, sev Severity, code, field, format string, args ...any) Problem {
	return Problem{Severity: sev, Code: code, RuleID: r.ID, FlowID: r.FlowID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// flowLabel names a rule's flow for the author.
func flowLabel(r Rule) string {
	if r.FlowName != "" {
		return "flow “" + r.FlowName + "”"
	}
	return "flow " + r.FlowID
}

// short keeps author text in messages readable.
func short(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

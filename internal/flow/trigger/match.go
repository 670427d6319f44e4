package trigger

import (
	"slices"
	"strings"
)

// scratch is the per-call working memory of Match, pooled so a warm
// matcher allocates at most the normalized text.
type scratch struct {
	n           normalizer
	patBits     []uint8 // per pattern: mode bits its hits satisfied, bitSeen
	patTouched  []int32
	ruleFlags   []uint8 // per rule: flagMatched, flagExcluded, flagSeen
	ruleKw      []int32 // per rule: the first keyword (authored order) that matched
	ruleTouched []int32
	all         []hit // MatchAll's candidates
}

type hit struct{ rule, keyword int32 }

const (
	flagMatched uint8 = 1 << iota
	flagExcluded
	flagGate       // a literal that the rule's regular expressions need occurs
	flagSeen uint8 = 1 << 7
)

func (m *Matcher) newScratch() *scratch {
	return &scratch{
		patBits:   make([]uint8, len(m.patterns)),
		ruleFlags: make([]uint8, len(m.rules)),
		ruleKw:    make([]int32, len(m.rules)),
	}
}

func (sc *scratch) reset() {
	for _, p := range sc.patTouched {
		sc.patBits[p] = 0
	}
	for _, r := range sc.ruleTouched {
		sc.ruleFlags[r] = 0
	}
	sc.patTouched, sc.ruleTouched, sc.all = sc.patTouched[:0], sc.ruleTouched[:0], sc.all[:0]
}

// Match returns the rule ev fires: among every rule that fires, the first
// in rank order (see Compile). A default rule is considered only when no
// other rule fires, and only for EventText, EventPayload and
// EventGetStarted; if it is within its Cooldown of ev.LastDefaultAt (or
// ev.Now is unset, so the cooldown cannot be checked: a missing clock
// must not turn into replies on every message) Match returns false with
// Result.CoolingDown set. Unknown event kinds match nothing.
//
// What each event offers: ref rules see Ref, payload rules see Payload,
// get_started rules see EventGetStarted, keyword rules see the Text of an
// EventText, comment rules see the Text and PostID of an EventComment (and
// nothing else does), conversation_start rules see NewConversation on any
// event but a comment. Channel filters apply to all.
func (m *Matcher) Match(ev Event) (Result, bool) {
	sc := m.pool.Get().(*scratch)
	best, kw := m.candidates(sc, &ev, false, true)
	sc.reset()
	m.pool.Put(sc)
	if best >= 0 {
		return m.result(best, kw), true
	}
	return m.fallback(&ev)
}

// MatchAll returns every rule ev fires, winner first, for the flow
// simulator and for authors asking "why did this flow start?". When only
// a default rule applies it is returned alone, with CoolingDown set if
// Match would have held it back.
func (m *Matcher) MatchAll(ev Event) []Result {
	sc := m.pool.Get().(*scratch)
	defer func() { sc.reset(); m.pool.Put(sc) }()
	m.candidates(sc, &ev, true, true)
	slices.SortFunc(sc.all, func(a, b hit) int { return int(a.rule - b.rule) })
	var out []Result
	for _, h := range sc.all {
		out = append(out, m.result(h.rule, h.keyword))
	}
	if len(out) == 0 {
		if r, ok := m.fallback(&ev); ok || r.CoolingDown {
			out = append(out, r)
		}
	}
	return out
}

// candidates finds the rules ev fires. Without all it returns the best
// (rank, keyword), or -1, and skips regular expressions that could not
// beat it; with all it appends every one to sc.all. filter false ignores
// channel and post filters, for conflict detection. sc is left dirty.
func (m *Matcher) candidates(sc *scratch, ev *Event, all, filter bool) (best, bestKw int32) {
	best, bestKw = int32(len(m.rules)), -1
	offer := func(r, kw int32) {
		if all {
			sc.all = append(sc.all, hit{r, kw})
		} else if r < best {
			best, bestKw = r, kw
		}
	}
	limit := func() int32 {
		if all {
			return int32(len(m.rules))
		}
		return best
	}
	ok := func(r int32) bool { return !filter || m.channelOK(r, ev.Channel) }
	first := func(list []int32) {
		for _, r := range list {
			if r >= limit() {
				return
			}
			if ok(r) {
				offer(r, -1)
				if !all {
					return
				}
			}
		}
	}

	switch ev.Kind {
	case EventText, EventPayload, EventGetStarted, EventRef:
		if ref := strings.TrimSpace(ev.Ref); ref != "" {
			first(m.refs[ref])
		}
		if p := strings.TrimSpace(ev.Payload); p != "" {
			first(m.payloads[p])
		}
		if ev.Kind == EventGetStarted {
			first(m.getStarted)
		}
		if ev.NewConversation {
			first(m.convStart)
		}
		if ev.Kind == EventText {
			m.textCandidates(sc, ev, KindKeyword, filter, offer, limit)
		}
	case EventComment:
		m.textCandidates(sc, ev, KindComment, filter, offer, limit)
	}
	if best == int32(len(m.rules)) {
		best = -1
	}
	return best, bestKw
}

// textCandidates offers the keyword or comment rules (kind) that ev.Text
// fires: automaton hits first, then comment rules taking any text, then
// regular expressions in rank order while they can still win.
func (m *Matcher) textCandidates(sc *scratch, ev *Event, kind Kind, filter bool, offer func(r, kw int32), limit func() int32) {
	t := m.normalizeText(sc, ev.Text)
	if t != "" && len(m.patterns) > 0 {
		m.keywordHits(sc, t)
	}
	eligible := func(r int32) bool {
		c := &m.rules[r]
		if c.Kind != kind || sc.ruleFlags[r]&flagExcluded != 0 {
			return false
		}
		if !filter {
			return true
		}
		if kind == KindComment && len(c.postIDs) > 0 && !slices.Contains(c.postIDs, ev.PostID) {
			return false
		}
		return m.channelOK(r, ev.Channel)
	}
	for _, r := range sc.ruleTouched {
		if sc.ruleFlags[r]&flagMatched != 0 && r < limit() && eligible(r) {
			offer(r, sc.ruleKw[r])
		}
	}
	for _, r := range m.anyText {
		if r < limit() && eligible(r) {
			offer(r, -1)
		}
	}
	if t == "" {
		return // a regular expression never fires on an empty text
	}
	for _, r := range m.regexes {
		if r >= limit() {
			return
		}
		if !eligible(r) || (m.rules[r].gated && sc.ruleFlags[r]&flagGate == 0) {
			continue
		}
		for k, re := range m.rules[r].res {
			if re.MatchString(t) {
				offer(r, int32(k))
				break
			}
		}
	}
}

// normalizeText normalizes a text within MaxTextBytes, returning the input
// itself when it was already normal (no allocation for the common case).
func (m *Matcher) normalizeText(sc *scratch, s string) string {
	b := sc.n.normalize(s, m.opts.MaxTextBytes)
	if len(b) <= len(s) && string(b) == s[:len(b)] {
		return s[:len(b)]
	}
	return string(b)
}

// keywordHits runs the automaton over t and records, per rule, whether a
// keyword matched in its mode (and which, first in authored order) and
// whether an exclusion word vetoed it.
func (m *Matcher) keywordHits(sc *scratch, t string) {
	m.ac.scan(t, func(p int32, end int) {
		pat := &m.patterns[p]
		have := sc.patBits[p]
		if have&pat.need == pat.need {
			return // every mode this pattern is used in is already proven
		}
		bits := bitPresent
		if start := end - len(pat.text); isBoundary(t, start) && isBoundary(t, end) {
			bits |= bitContains
			if start == 0 {
				bits |= bitBegins
				if end == len(t) {
					bits |= bitExact
				}
			}
			if (!pat.first || wordStart(t, start)) && (!pat.last || wordEnd(t, end)) {
				bits |= bitWhole
			}
		}
		if have == 0 {
			sc.patTouched = append(sc.patTouched, p)
		}
		sc.patBits[p] = have | bits | bitSeen
	})
	for _, p := range sc.patTouched {
		bits := sc.patBits[p]
		for _, u := range m.patterns[p].uses {
			if bits&u.mode == 0 {
				continue
			}
			f := sc.ruleFlags[u.rule]
			if f == 0 {
				sc.ruleTouched = append(sc.ruleTouched, u.rule)
				f = flagSeen
			}
			switch {
			case u.keyword == useGate:
				f |= flagGate
			case u.keyword == useExclude:
				f |= flagExcluded
			case f&flagMatched == 0 || u.keyword < sc.ruleKw[u.rule]:
				f |= flagMatched
				sc.ruleKw[u.rule] = u.keyword
			}
			sc.ruleFlags[u.rule] = f
		}
	}
}

// fallback returns the default reply for ev, if its kind takes one.
func (m *Matcher) fallback(ev *Event) (Result, bool) {
	switch ev.Kind {
	case EventText, EventPayload, EventGetStarted:
	default:
		return Result{}, false
	}
	for _, r := range m.defaults {
		if !m.channelOK(r, ev.Channel) {
			continue
		}
		res := m.result(r, -1)
		c := &m.rules[r]
		if c.Cooldown > 0 && !ev.LastDefaultAt.IsZero() &&
			(ev.Now.IsZero() || ev.Now.Sub(ev.LastDefaultAt) < c.Cooldown) {
			res.CoolingDown = true
			return res, false
		}
		return res, true
	}
	return Result{}, false
}

func (m *Matcher) channelOK(r int32, ch string) bool {
	chans := m.rules[r].channels
	if len(chans) == 0 {
		return true
	}
	for _, c := range chans {
		if strings.EqualFold(c, strings.TrimSpace(ch)) {
			return true
		}
	}
	return false
}

func (m *Matcher) result(r, kw int32) Result {
	c := &m.rules[r]
	res := Result{RuleID: c.ID, FlowID: c.FlowID, Kind: c.Kind, Priority: c.Priority}
	if kw >= 0 {
		res.Keyword = c.keywords[kw]
	}
	if c.Kind == KindDefault {
		res.Cooldown = c.Cooldown
	}
	return res
}

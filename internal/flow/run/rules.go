package run

import (
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/flow"
)

// branch reports whether a condition's branch holds.
func (m *machine) branch(b flow.Branch) bool {
	if len(b.Rules) == 0 {
		return false
	}
	any := b.Match == flow.MatchAny
	for _, r := range b.Rules {
		ok := m.rule(r)
		if any && ok {
			return true
		}
		if !any && !ok {
			return false
		}
	}
	return !any
}

// rule evaluates one rule against the run's view of the contact.
func (m *machine) rule(r flow.Rule) bool {
	switch r.Subject {
	case flow.SubjectTag:
		has := slices.ContainsFunc(m.contact.Tags, func(t string) bool { return strings.EqualFold(t, r.Key) })
		switch r.Op {
		case flow.OpExists:
			return has
		case flow.OpNotExists:
			return !has
		}
		return false
	case flow.SubjectField:
		v, ok := m.contact.Fields[r.Key]
		return compare(v, ok && v != "", r.Op, r.Value)
	case flow.SubjectContact:
		var v string
		switch r.Key {
		case flow.ContactFirstName:
			v = m.contact.FirstName
		case flow.ContactLastName:
			v = m.contact.LastName
		case flow.ContactLocale:
			v = m.contact.Locale
		default:
			return false
		}
		return compare(v, v != "", r.Op, r.Value)
	case flow.SubjectChannel:
		switch r.Op {
		case flow.OpEq:
			return strings.EqualFold(m.contact.Channel, r.Value)
		case flow.OpNeq:
			return !strings.EqualFold(m.contact.Channel, r.Value)
		}
		return false
	case flow.SubjectBusinessHours:
		if r.Hours == nil {
			return false
		}
		open := m.open(r.Hours)
		switch r.Op {
		case flow.OpOpen:
			return open
		case flow.OpClosed:
			return !open
		}
	}
	return false
}

// open reports whether the business hours are open now. Hours whose time
// zone cannot be loaded are closed: a flow must not claim to be open on a
// guess.
func (m *machine) open(h *flow.BusinessHours) bool {
	ws := m.env.Location
	if ws == nil {
		ws = time.UTC
	}
	loc := ws
	if h.TimeZone != "" {
		load := m.env.Zone
		if load == nil {
			load = time.LoadLocation
		}
		l, err := load(h.TimeZone)
		if err != nil {
			return false
		}
		loc = l
	}
	return h.Open(m.env.Now, loc)
}

// compare applies op to a value (present: it is set) and the rule's
// operand. Numbers compare as numbers (in any script's digits), dates as
// dates (stored as YYYY-MM-DD, which order as text), the rest as text
// ignoring letter case.
func compare(v string, present bool, op, operand string) bool {
	switch op {
	case flow.OpExists:
		return present
	case flow.OpNotExists:
		return !present
	case flow.OpEq:
		return present && equal(v, operand)
	case flow.OpNeq:
		return !present || !equal(v, operand)
	case flow.OpContains:
		return present && strings.Contains(strings.ToLower(v), strings.ToLower(operand))
	case flow.OpGt, flow.OpLt:
		if !present {
			return false
		}
		c, ok := order(v, operand)
		if !ok {
			return false
		}
		if op == flow.OpGt {
			return c > 0
		}
		return c < 0
	}
	return false
}

// equal compares two values as numbers when both are, else as text
// ignoring case and surrounding spaces.
func equal(a, b string) bool {
	if x, ok := flow.Number(a); ok {
		if y, ok := flow.Number(b); ok {
			return x == y
		}
	}
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// order compares a and b as numbers, else as dates; ok is false when
// they are neither.
func order(a, b string) (int, bool) {
	if x, ok := flow.Number(a); ok {
		if y, ok := flow.Number(b); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	}
	if x, ok := flow.Date(a, flow.DateDMY); ok {
		if y, ok := flow.Date(b, flow.DateDMY); ok {
			return x.Compare(y), true
		}
	}
	return 0, false
}

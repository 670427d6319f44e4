package segment

import (
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// compileValue checks the operand of a comparison on a sealed field value
// and normalizes it the way the field's values are normalized, so that
// comparing is comparing like with like.
func compileValue(i int, f contact.Field, c Condition) (goCond, error) {
	g := goCond{index: i, field: f, op: c.Op}
	v := strings.TrimSpace(c.Value)
	if v == "" {
		return goCond{}, invalid(i, "give a value to compare with")
	}
	switch {
	case c.Op == OpContains && f.Type == contact.FieldPhone:
		// Part of a number: digits only, compared with the E.164 digits.
		digits := strings.TrimLeft(v, "+")
		if _, err := strconv.ParseUint(digits, 10, 64); err != nil || len(digits) > 15 {
			return goCond{}, invalid(i, "give digits of a phone number")
		}
		g.operand = digits
	case c.Op == OpContains:
		g.operand = db.FoldKey(v)
	case c.Op == OpIs && f.Type == contact.FieldBoolean:
		b, ok := parseBool(v)
		if !ok {
			return goCond{}, invalid(i, "the value must be true or false")
		}
		g.operand = strconv.FormatBool(b)
	default:
		// equals, not_equals, greater_than, less_than, before, after: the
		// operand must be a valid value of the field. Phone numbers must
		// carry their country code, as no region is known here.
		n, err := f.Parse(v, "")
		if err != nil {
			return goCond{}, invalid(i, "the value is not a valid %s", f.Type)
		}
		g.operand = n
		if f.Type == contact.FieldNumber {
			g.num, _ = strconv.ParseFloat(n, 64)
		}
	}
	return g, nil
}

// holds evaluates g on the contact's opened values (keyed by field key).
// A contact without a value of the field never matches a comparison.
func (g goCond) holds(values map[string]contact.Value) bool {
	v, ok := values[g.field.Key]
	if !ok {
		return false
	}
	switch g.op {
	case OpContains:
		if g.field.Type == contact.FieldPhone {
			return strings.Contains(v.Text, g.operand)
		}
		return strings.Contains(db.FoldKey(v.Text), g.operand)
	case OpIs:
		return v.Text == g.operand
	case OpEquals, OpNotEquals:
		eq := v.Text == g.operand
		switch g.field.Type {
		case contact.FieldText, contact.FieldEmail, contact.FieldChoice:
			eq = db.FoldKey(v.Text) == db.FoldKey(g.operand)
		case contact.FieldNumber:
			n, ok := v.Float()
			eq = ok && n == g.num
		}
		return eq == (g.op == OpEquals)
	case OpGreater, OpLess:
		n, ok := v.Float()
		if !ok {
			return false
		}
		if g.op == OpGreater {
			return n > g.num
		}
		return n < g.num
	case OpBefore:
		// Dates are YYYY-MM-DD: text order is calendar order.
		return v.Text < g.operand
	case OpAfter:
		return v.Text > g.operand
	}
	return false
}

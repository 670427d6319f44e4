package segment

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// SQL fragments. These constants, "?" placeholders and the fixed
// connectives of this file are the only text compiled SQL is made of: no
// input ever becomes SQL text (security.md J-7).
const (
	sqlTagHas     = `EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.workspace_id = c.workspace_id AND ct.contact_id = c.id AND ct.tag_id = ?)`
	sqlTagHasNot  = `NOT ` + sqlTagHas
	sqlStageIs    = `c.stage = ?`
	sqlStageIsNot = `coalesce(c.stage, '') <> ?`
	sqlStageEmpty = `c.stage IS NULL`
	sqlStageSet   = `c.stage IS NOT NULL`
	sqlSubscribed = `c.subscribed = ?`
	// A contact's channels: the one on its row (none for a contact created
	// without one) and those of contacts merged into it (contact_identities,
	// index contact_identities_contact). Both take the operand twice.
	sqlChannelIs = `(coalesce(c.channel_id, '') = ? OR EXISTS (SELECT 1 FROM contact_identities ci
		WHERE ci.workspace_id = c.workspace_id AND ci.contact_id = c.id AND ci.channel_id = ?))`
	sqlChannelNot = `NOT ` + sqlChannelIs
	sqlChanTypeIs = `EXISTS (SELECT 1 FROM channels ch WHERE ch.workspace_id = c.workspace_id AND ch.type = ? AND (ch.id = c.channel_id
		OR ch.id IN (SELECT ci.channel_id FROM contact_identities ci WHERE ci.workspace_id = c.workspace_id AND ci.contact_id = c.id)))`
	sqlChanTypeNot = `NOT ` + sqlChanTypeIs
	sqlCreatedAt   = `c.created_at`
	// The person's last message over all their conversations (read-only;
	// index conversations_by_contact).
	sqlLastInbound = `(SELECT max(cv.last_inbound_at) FROM conversations cv WHERE cv.workspace_id = c.workspace_id AND cv.contact_id = c.id)`
	sqlLess        = ` < ?`
	sqlGreater     = ` > ?`
	sqlAtLeast     = ` >= ?`
	sqlFieldSet    = `EXISTS (SELECT 1 FROM contact_field_values fv WHERE fv.workspace_id = c.workspace_id AND fv.contact_id = c.id AND fv.field_id = ?)`
	sqlFieldNotSet = `NOT ` + sqlFieldSet
	sqlTrue        = `1 = 1`
	sqlFalse       = `1 = 0`

	// The candidate query: the workspace's contacts after the cursor, in ID
	// order (index contacts_workspace_id), filtered by the compiled where.
	sqlSelectHead = `SELECT c.id, `
	sqlSelectFrom = ` FROM contacts c WHERE c.workspace_id = ? AND c.id > ? AND (`
	sqlSelectTail = `) ORDER BY c.id LIMIT ?`
	sqlCountHead  = `SELECT count(*) FROM contacts c WHERE c.workspace_id = ? AND (`
	sqlCountTail  = `)`
	sqlHitCase    = `CASE WHEN (`
	sqlHitEnd     = `) THEN 1 ELSE 0 END`
	sqlHitNone    = `0`
	sqlHitAll     = `1`
)

// fragment is one compiled SQL condition and its bound arguments.
type fragment struct {
	sql  string
	args []any
}

// goCond is a condition on a sealed field value, evaluated in Go.
type goCond struct {
	index int
	field contact.Field
	op    string
	// operand is the value as the field's type normalizes it.
	operand string
	num     float64
}

// plan is a compiled definition.
type plan struct {
	match Match
	sql   []fragment // conditions SQL decides
	goc   []goCond   // conditions on sealed values
	// personal lists the conditions that match an e-mail or phone field
	// exactly: fine in a preview, refused in a saved segment (savable).
	personal []int
}

// sqlOnly reports whether SQL alone decides membership (Count is exact).
func (p *plan) sqlOnly() bool { return len(p.goc) == 0 }

// join writes the fragments joined by op into b and appends their args.
func join(b *strings.Builder, args []any, frags []fragment, op string) []any {
	for i, f := range frags {
		if i > 0 {
			b.WriteString(op)
		}
		b.WriteString(`(`)
		b.WriteString(f.sql)
		b.WriteString(`)`)
		args = append(args, f.args...)
	}
	return args
}

// where is the candidate filter: with match all, every SQL condition and
// a value of every Go-evaluated field; with match any, any SQL condition
// or a value of any Go-evaluated field.
func (p *plan) where() (string, []any) {
	frags := append([]fragment{}, p.sql...)
	for _, g := range p.goc {
		frags = append(frags, fragment{sqlFieldSet, []any{g.field.ID}})
	}
	op := ` AND `
	if p.match == MatchAny {
		op = ` OR `
	}
	var b strings.Builder
	args := join(&b, nil, frags, op)
	return b.String(), args
}

// hit is the select expression saying whether SQL alone already decides a
// candidate is a member: always with match all (Go conditions are then
// checked on top), only when an SQL condition holds with match any.
func (p *plan) hit() (string, []any) {
	if p.match == MatchAll {
		return sqlHitAll, nil
	}
	if len(p.sql) == 0 {
		return sqlHitNone, nil
	}
	var b strings.Builder
	b.WriteString(sqlHitCase)
	args := join(&b, nil, p.sql, ` OR `)
	b.WriteString(sqlHitEnd)
	return b.String(), args
}

// page is the query of one page of candidates.
func (p *plan) page(ws, after string, limit int) (string, []any) {
	hit, hitArgs := p.hit()
	where, whereArgs := p.where()
	var b strings.Builder
	b.WriteString(sqlSelectHead)
	b.WriteString(hit)
	b.WriteString(sqlSelectFrom)
	b.WriteString(where)
	b.WriteString(sqlSelectTail)
	args := append(hitArgs, ws, after)
	args = append(args, whereArgs...)
	return b.String(), append(args, limit)
}

// count is the query counting the members of an SQL-only plan.
func (p *plan) count(ws string) (string, []any) {
	where, args := p.where()
	return sqlCountHead + where + sqlCountTail, append([]any{ws}, args...)
}

// lookups is what compiling needs from the workspace.
type lookups interface {
	fieldByKey(ctx context.Context, ws, key string) (contact.Field, error)
	tagExists(ctx context.Context, ws, id string) (bool, error)
}

// namesPerson is the text of the ErrInvalid a saved segment gets for
// an exact match on an e-mail or phone field (see savable).
const namesPerson = "Saved segments cannot name one person's e-mail or phone; use contains with a domain or prefix, or search instead."

// savable refuses, for a definition about to be saved, the first condition
// that names one person's e-mail address or phone number exactly
// (equals/not_equals on an email or phone field). segments.definition is
// plain JSON kept outside erasure, so such a value would outlive the
// person's erasure in clear; an unsaved preview may still use it.
func (p *plan) savable() error {
	if len(p.personal) > 0 {
		return invalid(p.personal[0], "%s", namesPerson)
	}
	return nil
}

// compile checks d against the closed language and the workspace, and
// returns its plan. now anchors within_days.
func compile(ctx context.Context, lk lookups, ws string, d Definition, now time.Time) (*plan, error) {
	if err := d.checkShape(); err != nil {
		return nil, err
	}
	p := &plan{match: d.Match}
	now = now.UTC().Truncate(time.Microsecond)
	for i, c := range d.Conditions {
		if k, ok := builtinKind(c.Field); ok {
			if !allowed(builtinOps[k], c.Op) {
				return nil, invalid(i, "operator not allowed for %s", c.Field)
			}
			f, err := compileBuiltin(ctx, lk, ws, i, k, c, now)
			if err != nil {
				return nil, err
			}
			p.sql = append(p.sql, f)
			continue
		}
		key := strings.TrimPrefix(c.Field, CustomPrefix)
		field, err := lk.fieldByKey(ctx, ws, key)
		if errors.Is(err, db.ErrNotFound) {
			return nil, invalid(i, "the workspace has no such field")
		} else if err != nil {
			return nil, err
		}
		if field.Archived() {
			return nil, invalid(i, "the field is archived")
		}
		if !allowed(customOps[field.Type], c.Op) {
			return nil, invalid(i, "operator not allowed for a %s field", field.Type)
		}
		if (c.Op == OpEquals || c.Op == OpNotEquals) && (field.Type == contact.FieldEmail || field.Type == contact.FieldPhone) {
			p.personal = append(p.personal, i)
		}
		switch c.Op {
		case OpIsSet:
			p.sql = append(p.sql, fragment{sqlFieldSet, []any{field.ID}})
			continue
		case OpIsNotSet:
			p.sql = append(p.sql, fragment{sqlFieldNotSet, []any{field.ID}})
			continue
		}
		g, err := compileValue(i, field, c)
		if err != nil {
			return nil, err
		}
		p.goc = append(p.goc, g)
	}
	return p, nil
}

// noValue refuses an operand given to an operator that takes none.
func noValue(i int, c Condition) error {
	if strings.TrimSpace(c.Value) != "" {
		return invalid(i, "%s takes no value", c.Op)
	}
	return nil
}

// compileBuiltin compiles a condition on a contact's own attributes.
func compileBuiltin(ctx context.Context, lk lookups, ws string, i int, k kind, c Condition, now time.Time) (fragment, error) {
	v := strings.TrimSpace(c.Value)
	switch k {
	case kindTag:
		ok, err := lk.tagExists(ctx, ws, v)
		if err != nil {
			return fragment{}, err
		}
		if !ok {
			return fragment{}, invalid(i, "the workspace has no such tag")
		}
		if c.Op == OpHas {
			return fragment{sqlTagHas, []any{v}}, nil
		}
		return fragment{sqlTagHasNot, []any{v}}, nil
	case kindStage:
		switch c.Op {
		case OpIsEmpty:
			return fragment{sqlStageEmpty, nil}, noValue(i, c)
		case OpIsNotEmpty:
			return fragment{sqlStageSet, nil}, noValue(i, c)
		}
		stage, err := contact.CheckStage(v)
		if err != nil || stage == "" {
			return fragment{}, invalid(i, "give a stage (is_empty tests for none)")
		}
		if c.Op == OpIs {
			return fragment{sqlStageIs, []any{stage}}, nil
		}
		return fragment{sqlStageIsNot, []any{stage}}, nil
	case kindBool:
		b, ok := parseBool(v)
		if !ok {
			return fragment{}, invalid(i, "the value must be true or false")
		}
		return fragment{sqlSubscribed, []any{b}}, nil
	case kindChannel:
		if v == "" {
			return fragment{}, invalid(i, "give a channel ID")
		}
		if c.Op == OpIs {
			return fragment{sqlChannelIs, []any{v, v}}, nil
		}
		return fragment{sqlChannelNot, []any{v, v}}, nil
	case kindChannelType:
		if !channelTypes[v] {
			return fragment{}, invalid(i, "unknown channel type")
		}
		if c.Op == OpIs {
			return fragment{sqlChanTypeIs, []any{v}}, nil
		}
		return fragment{sqlChanTypeNot, []any{v}}, nil
	case kindTime:
		col := sqlCreatedAt
		if c.Field == FieldLastInteraction {
			col = sqlLastInbound
		}
		if c.Op == OpWithinDays {
			n, ok := parseDays(v)
			if !ok {
				return fragment{}, invalid(i, "within_days takes a whole number of days from 1 to %d", MaxDays)
			}
			return fragment{col + sqlAtLeast, []any{now.Add(-time.Duration(n) * 24 * time.Hour)}}, nil
		}
		t, ok := parseInstant(v)
		if !ok {
			return fragment{}, invalid(i, "give a date (YYYY-MM-DD) or an RFC 3339 time")
		}
		t = t.UTC().Truncate(time.Microsecond)
		if c.Op == OpBefore {
			return fragment{col + sqlLess, []any{t}}, nil
		}
		return fragment{col + sqlGreater, []any{t}}, nil
	}
	return fragment{}, invalid(i, "unknown field")
}

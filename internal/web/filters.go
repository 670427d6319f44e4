package web

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/segment"
)

// The contact list's filter builder: rows of field → operator → value
// that become a segment.Definition. The operators offered per field are
// segment's closed list (segment checks them again: the builder only
// spares people choices that cannot work). Values are what people know —
// a tag's or a channel's name, yes or no — and become IDs and true/false
// here.

// maxFilterRows caps the rows the builder reads.
const maxFilterRows = segment.MaxConditions

// opWords are the operators in plain words, in the order offered.
var opWords = []struct{ Op, Label string }{
	{segment.OpHas, "has"}, {segment.OpHasNot, "doesn't have"},
	{segment.OpIs, "is"}, {segment.OpIsNot, "is not"},
	{segment.OpEquals, "is"}, {segment.OpNotEquals, "is not"},
	{segment.OpContains, "contains"},
	{segment.OpGreater, "is more than"}, {segment.OpLess, "is less than"},
	{segment.OpBefore, "is before"}, {segment.OpAfter, "is after"},
	{segment.OpWithinDays, "is within the last … days"},
	{segment.OpIsEmpty, "is empty"}, {segment.OpIsNotEmpty, "is not empty"},
	{segment.OpIsSet, "is filled in"}, {segment.OpIsNotSet, "is not filled in"},
}

// noValue are the operators that take no value.
var noValue = map[string]bool{segment.OpIsEmpty: true, segment.OpIsNotEmpty: true, segment.OpIsSet: true, segment.OpIsNotSet: true}

// customOps mirrors segment's closed list per custom field type.
var customOps = map[contact.FieldType][]string{
	contact.FieldText:    {segment.OpContains, segment.OpEquals, segment.OpNotEquals, segment.OpIsSet, segment.OpIsNotSet},
	contact.FieldEmail:   {segment.OpContains, segment.OpEquals, segment.OpNotEquals, segment.OpIsSet, segment.OpIsNotSet},
	contact.FieldPhone:   {segment.OpContains, segment.OpEquals, segment.OpNotEquals, segment.OpIsSet, segment.OpIsNotSet},
	contact.FieldChoice:  {segment.OpEquals, segment.OpNotEquals, segment.OpIsSet, segment.OpIsNotSet},
	contact.FieldNumber:  {segment.OpGreater, segment.OpLess, segment.OpEquals, segment.OpNotEquals, segment.OpIsSet, segment.OpIsNotSet},
	contact.FieldDate:    {segment.OpBefore, segment.OpAfter, segment.OpEquals, segment.OpNotEquals, segment.OpIsSet, segment.OpIsNotSet},
	contact.FieldBoolean: {segment.OpIs, segment.OpIsSet, segment.OpIsNotSet},
}

// filterField is a field the builder offers, with its operators and what
// its value looks like.
type filterField struct {
	Value, Label string
	// Ops are its operators, space-separated (data-ops for app.js).
	Ops string
	// Hint says what to type as the value.
	Hint string
	// List names the datalist of suggested values ("" for none).
	List string
}

// filterOp is an operator choice.
type filterOp struct {
	Value, Label string
	NoValue      bool
}

// filterRow is one condition as the builder shows it.
type filterRow struct {
	Field, Op, Value string
}

// filterBuilder is everything the builder form needs.
type filterBuilder struct {
	Match  string
	Rows   []filterRow
	Fields []filterField
	Ops    []filterOp
	// Tags, Channels and Choices feed the value suggestions.
	Tags     []string
	Channels []string
	// Active says a filter is applied.
	Active bool
	// Lines are the rows as the form shows them: Rows, then an empty one
	// to add a condition with (see lines).
	Lines []filterLine
}

// filterLine is one line of the builder's form.
type filterLine struct {
	N   int
	Row filterRow
	B   *filterBuilder
}

// lines lays out the form: each row, then an empty one while there is
// room for another condition.
func (b *filterBuilder) lines() {
	b.Lines = b.Lines[:0]
	for i, r := range b.Rows {
		b.Lines = append(b.Lines, filterLine{N: i, Row: r, B: b})
	}
	if len(b.Rows) < maxFilterRows {
		b.Lines = append(b.Lines, filterLine{N: len(b.Rows), B: b})
	}
}

// builderFor lists the fields (built-in, then the workspace's custom
// fields) and operators of the workspace.
func (d *Dashboard) builderFor(ctx context.Context, ws string) (*filterBuilder, error) {
	b := &filterBuilder{Match: string(segment.MatchAll)}
	for _, o := range opWords {
		b.Ops = append(b.Ops, filterOp{Value: o.Op, Label: o.Label, NoValue: noValue[o.Op]})
	}
	b.Fields = []filterField{
		{Value: segment.FieldTag, Label: "Tag", Ops: "has has_not", Hint: "A tag's name", List: "filter-tags"},
		{Value: segment.FieldStage, Label: "Lead stage", Ops: "is is_not is_empty is_not_empty", Hint: "For example: Customer"},
		{Value: segment.FieldSubscribed, Label: "Subscribed to broadcasts", Ops: "is", Hint: "yes or no", List: "filter-yes-no"},
		{Value: segment.FieldChannel, Label: "Channel", Ops: "is is_not", Hint: "A channel's name", List: "filter-channels"},
		{Value: segment.FieldCreatedAt, Label: "Added", Ops: "before after within_days", Hint: "A date (2026-01-31) or a number of days"},
		{Value: segment.FieldLastInteraction, Label: "Last message from them", Ops: "before after within_days", Hint: "A date (2026-01-31) or a number of days"},
	}
	fields, err := d.Contacts.Fields(ctx, ws, false)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		ff := filterField{Value: segment.CustomPrefix + f.Key, Label: f.Label, Ops: strings.Join(customOps[f.Type], " ")}
		switch f.Type {
		case contact.FieldBoolean:
			ff.Hint, ff.List = "yes or no", "filter-yes-no"
		case contact.FieldDate:
			ff.Hint = "A date: 2026-01-31"
		case contact.FieldNumber:
			ff.Hint = "A number"
		case contact.FieldChoice:
			ff.Hint = "One of: " + strings.Join(f.Choices, ", ")
		}
		b.Fields = append(b.Fields, ff)
	}
	tags, err := d.Contacts.Tags(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		b.Tags = append(b.Tags, t.Name)
	}
	chs, err := d.Channels.List(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, c := range chs {
		b.Channels = append(b.Channels, c.Name)
	}
	return b, nil
}

// rowsFrom reads the builder's rows from submitted values (the query of
// the list, or a posted form): field, op and value repeat in order. Rows
// without a field are left out; that is how a row is removed.
func rowsFrom(v url.Values) (string, []filterRow) {
	match := v.Get("match")
	if match != string(segment.MatchAny) {
		match = string(segment.MatchAll)
	}
	fields, ops, values := v["field"], v["op"], v["value"]
	var rows []filterRow
	for i, f := range fields {
		if f == "" || len(rows) == maxFilterRows {
			continue
		}
		r := filterRow{Field: f}
		if i < len(ops) {
			r.Op = ops[i]
		}
		if i < len(values) {
			r.Value = strings.TrimSpace(values[i])
		}
		rows = append(rows, r)
	}
	return match, rows
}

// definition turns the builder's rows into a segment definition: names
// of tags and channels become their IDs, yes and no become true and
// false. A name the workspace lacks stays as typed, for segment to refuse
// with the condition's number.
func (d *Dashboard) definition(ctx context.Context, ws, match string, rows []filterRow) (segment.Definition, error) {
	def := segment.Definition{Match: segment.Match(match)}
	var chs []channel.Channel
	for _, r := range rows {
		c := segment.Condition{Field: r.Field, Op: r.Op, Value: r.Value}
		if noValue[r.Op] {
			c.Value = ""
		}
		switch {
		case r.Field == segment.FieldTag && c.Value != "":
			t, err := d.Contacts.TagByName(ctx, ws, c.Value)
			if err == nil {
				c.Value = t.ID
			} else if !errors.Is(err, db.ErrNotFound) {
				return def, err
			}
		case r.Field == segment.FieldChannel && c.Value != "":
			if chs == nil {
				var err error
				if chs, err = d.Channels.List(ctx, ws); err != nil {
					return def, err
				}
			}
			for _, ch := range chs {
				if strings.EqualFold(ch.Name, c.Value) {
					c.Value = ch.ID
					break
				}
			}
		}
		// Yes and no, for the fields that are true or false: subscribed,
		// and custom yes/no fields (the only custom ones taking "is").
		if r.Field == segment.FieldSubscribed || strings.HasPrefix(r.Field, segment.CustomPrefix) && r.Op == segment.OpIs {
			switch strings.ToLower(c.Value) {
			case "yes":
				c.Value = "true"
			case "no":
				c.Value = "false"
			}
		}
		def.Conditions = append(def.Conditions, c)
	}
	return def, nil
}

// rowsOf shows a saved definition in the builder: IDs become names again.
func (d *Dashboard) rowsOf(ctx context.Context, ws string, def segment.Definition) ([]filterRow, error) {
	var chs []channel.Channel
	rows := make([]filterRow, 0, len(def.Conditions))
	for _, c := range def.Conditions {
		r := filterRow{Field: c.Field, Op: c.Op, Value: c.Value}
		switch c.Field {
		case segment.FieldTag:
			if t, err := d.Contacts.Tag(ctx, ws, c.Value); err == nil {
				r.Value = t.Name
			}
		case segment.FieldChannel:
			if chs == nil {
				var err error
				if chs, err = d.Channels.List(ctx, ws); err != nil {
					return nil, err
				}
			}
			for _, ch := range chs {
				if ch.ID == c.Value {
					r.Value = ch.Name
				}
			}
		}
		switch {
		case c.Field != segment.FieldSubscribed && c.Op != segment.OpIs:
		case c.Value == "true":
			r.Value = "yes"
		case c.Value == "false":
			r.Value = "no"
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// filterQuery is the list's address for rows: what "Apply" submits.
func filterQuery(match string, rows []filterRow) url.Values {
	q := url.Values{}
	if len(rows) == 0 {
		return q
	}
	q.Set("match", match)
	for _, r := range rows {
		q.Add("field", r.Field)
		q.Add("op", r.Op)
		q.Add("value", r.Value)
	}
	return q
}

// definitionProblem is what segment refused, after its "invalid
// segment: " prefix, as a sentence; conditions are counted from 1 for
// people ("Condition 2: …").
func definitionProblem(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, segment.ErrInvalid.Error()+": "); i >= 0 {
		msg = msg[i+len(segment.ErrInvalid.Error())+2:]
	}
	if rest, ok := strings.CutPrefix(msg, "condition "); ok {
		n, tail, _ := strings.Cut(rest, ":")
		if i, err := strconv.Atoi(n); err == nil {
			msg = "filter " + strconv.Itoa(i+1) + ":" + tail
		}
	}
	return sentence(msg)
}

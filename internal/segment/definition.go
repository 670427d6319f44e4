package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/contact"
)

// ErrInvalid is returned (wrapped, with the index of the offending
// condition and what is wrong) for a definition outside the closed
// language: unknown field, operator not allowed for the field's type, a
// value of the wrong type, an unknown tag or field. Callers map it to 422.
var ErrInvalid = errors.New("invalid segment")

// Match says how conditions combine.
type Match string

// The two ways conditions combine.
const (
	MatchAll Match = "all" // every condition holds
	MatchAny Match = "any" // at least one holds
)

// Built-in fields a condition can test. A custom field is "field:<key>".
const (
	FieldTag             = "tag"              // value: a tag ID
	FieldStage           = "stage"            // value: a lead stage
	FieldSubscribed      = "subscribed"       // value: true or false
	FieldChannel         = "channel"          // value: a channel ID
	FieldChannelType     = "channel_type"     // value: messenger, instagram, whatsapp, webchat
	FieldCreatedAt       = "created_at"       // value: a date, a time or a number of days
	FieldLastInteraction = "last_interaction" // the person's last message; as created_at
	// CustomPrefix starts a custom field's condition: "field:city".
	CustomPrefix = "field:"
)

// Operators. Which one a field accepts is decided by allowedOps.
const (
	OpHas        = "has"
	OpHasNot     = "has_not"
	OpIs         = "is"
	OpIsNot      = "is_not"
	OpIsEmpty    = "is_empty"
	OpIsNotEmpty = "is_not_empty"
	OpBefore     = "before"
	OpAfter      = "after"
	OpWithinDays = "within_days"
	OpIsSet      = "is_set"
	OpIsNotSet   = "is_not_set"
	OpEquals     = "equals"
	OpNotEquals  = "not_equals"
	OpContains   = "contains"
	OpGreater    = "greater_than"
	OpLess       = "less_than"
)

// Limits of a definition.
const (
	MaxConditions = 20
	MaxValue      = 1000 // characters
	MaxDays       = 3650
	MaxName       = 100 // characters of a segment's name
)

// channelTypes are the platforms a channel_type condition may name.
var channelTypes = map[string]bool{"messenger": true, "instagram": true, "whatsapp": true, "webchat": true}

// Definition is a segment's filter, stored as JSON:
//
//	{"match":"all","conditions":[{"field":"tag","op":"has","value":"0190…"}]}
type Definition struct {
	Match      Match       `json:"match"`
	Conditions []Condition `json:"conditions"`
}

// Condition is one test on a contact.
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	// Value is the operand as text ("" for operators without one). JSON
	// strings, numbers and booleans are accepted and kept as their text.
	Value string `json:"value,omitempty"`
}

// UnmarshalJSON accepts a string, number, boolean or null as the value, so
// that {"value": true} and {"value": 30} work as well as strings; objects
// and arrays are refused.
func (c *Condition) UnmarshalJSON(b []byte) error {
	var raw struct {
		Field string          `json:"field"`
		Op    string          `json:"op"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	c.Field, c.Op, c.Value = raw.Field, raw.Op, ""
	v := bytes.TrimSpace(raw.Value)
	switch {
	case len(v) == 0 || string(v) == "null":
	case v[0] == '"':
		if err := json.Unmarshal(v, &c.Value); err != nil {
			return err
		}
	case v[0] == '{' || v[0] == '[':
		return errors.New("a condition's value must be a string, number or boolean")
	default:
		c.Value = string(v)
	}
	return nil
}

// ParseDefinition decodes a definition from JSON, refusing unknown keys
// and trailing data. It checks only the shape; Store.Check checks the
// rest against the workspace.
func ParseDefinition(b []byte) (Definition, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return Definition{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return Definition{}, fmt.Errorf("%w: trailing data after the definition", ErrInvalid)
	}
	return d, nil
}

// kind is the type of a condition's field, which decides its operators.
type kind int

const (
	kindTag kind = iota
	kindStage
	kindBool
	kindChannel
	kindChannelType
	kindTime
	kindCustom
)

// allowedOps is the closed list of operators per built-in field kind and
// per custom field type. An operator not listed is refused.
var (
	builtinOps = map[kind][]string{
		kindTag:         {OpHas, OpHasNot},
		kindStage:       {OpIs, OpIsNot, OpIsEmpty, OpIsNotEmpty},
		kindBool:        {OpIs},
		kindChannel:     {OpIs, OpIsNot},
		kindChannelType: {OpIs, OpIsNot},
		kindTime:        {OpBefore, OpAfter, OpWithinDays},
	}
	customOps = map[contact.FieldType][]string{
		contact.FieldText:    {OpIsSet, OpIsNotSet, OpEquals, OpNotEquals, OpContains},
		contact.FieldEmail:   {OpIsSet, OpIsNotSet, OpEquals, OpNotEquals, OpContains},
		contact.FieldPhone:   {OpIsSet, OpIsNotSet, OpEquals, OpNotEquals, OpContains},
		contact.FieldChoice:  {OpIsSet, OpIsNotSet, OpEquals, OpNotEquals},
		contact.FieldNumber:  {OpIsSet, OpIsNotSet, OpEquals, OpNotEquals, OpGreater, OpLess},
		contact.FieldDate:    {OpIsSet, OpIsNotSet, OpEquals, OpNotEquals, OpBefore, OpAfter},
		contact.FieldBoolean: {OpIsSet, OpIsNotSet, OpIs},
	}
)

// builtinKind maps a built-in field name to its kind.
func builtinKind(field string) (kind, bool) {
	switch field {
	case FieldTag:
		return kindTag, true
	case FieldStage:
		return kindStage, true
	case FieldSubscribed:
		return kindBool, true
	case FieldChannel:
		return kindChannel, true
	case FieldChannelType:
		return kindChannelType, true
	case FieldCreatedAt, FieldLastInteraction:
		return kindTime, true
	}
	return 0, false
}

func allowed(list []string, op string) bool {
	for _, o := range list {
		if o == op {
			return true
		}
	}
	return false
}

// invalid is ErrInvalid for condition i.
func invalid(i int, format string, args ...any) error {
	return fmt.Errorf("%w: condition %d: %s", ErrInvalid, i, fmt.Sprintf(format, args...))
}

// parseBool reads a boolean operand.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseDays reads a within_days operand: a whole number of days.
func parseDays(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil && n >= 1 && n <= MaxDays
}

// parseInstant reads a before/after operand: a date (midnight UTC) or an
// RFC 3339 time.
func parseInstant(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(contact.DateLayout, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// checkShape checks what needs no database: match, the number of
// conditions, known field names, and value length.
func (d Definition) checkShape() error {
	if d.Match != MatchAll && d.Match != MatchAny {
		return fmt.Errorf("%w: match must be \"all\" or \"any\"", ErrInvalid)
	}
	if len(d.Conditions) == 0 || len(d.Conditions) > MaxConditions {
		return fmt.Errorf("%w: give between 1 and %d conditions", ErrInvalid, MaxConditions)
	}
	for i, c := range d.Conditions {
		if !utf8.ValidString(c.Value) || utf8.RuneCountInString(c.Value) > MaxValue {
			return invalid(i, "the value is not valid text of at most %d characters", MaxValue)
		}
		if _, ok := builtinKind(c.Field); ok {
			continue
		}
		if key, ok := strings.CutPrefix(c.Field, CustomPrefix); ok && key != "" && len(key) <= 40 {
			continue
		}
		return invalid(i, "unknown field")
	}
	return nil
}

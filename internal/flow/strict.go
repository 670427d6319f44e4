package flow

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// discriminated is a JSON object whose allowed members depend on one of
// its members (an action's "type", a rule's "subject").
type discriminated interface {
	discriminator() string
	variantKeys(variant string) ([]string, bool)
}

// variantsOf lists the variants a discriminated type accepts, for error
// messages.
func variantsOf(t reflect.Type) []string {
	switch t {
	case reflect.TypeFor[Action]():
		return ActionTypes()
	case reflect.TypeFor[Rule]():
		return []string{SubjectTag, SubjectField, SubjectChannel, SubjectContact, SubjectBusinessHours}
	case reflect.TypeFor[Trigger]():
		var out []string
		for _, v := range TriggerTypes() {
			out = append(out, string(v))
		}
		return out
	}
	return nil
}

// jsonFields maps the JSON member names of struct type t to their fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := make(map[string]reflect.StructField, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out[name] = f
	}
	return out
}

// checkValue checks raw strictly against Go type t before encoding/json
// decodes it: objects may hold only the members t declares, spelled
// exactly (encoding/json alone would ignore unknown members and match
// names case-insensitively), every value has the JSON kind t needs, and
// every text is at most MaxTextLen characters. Errors carry the JSON path
// from raw. null is accepted anywhere, as absent.
func checkValue(raw json.RawMessage, t reflect.Type, path string) *ParseError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil // absent
	}
	if t == reflect.TypeFor[json.RawMessage]() {
		if len(raw) > MaxBodyBytes {
			return &ParseError{Field: path, Message: "is larger than " + strconv.Itoa(MaxBodyBytes>>10) + " KiB", Err: ErrTooLarge}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkValue(raw, t.Elem(), path)
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
			return &ParseError{Field: path, Message: "expected an object {…}"}
		}
		return checkObject(obj, t, path, nil)
	case reflect.Slice:
		var items []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
			return &ParseError{Field: path, Message: "expected a list […]"}
		}
		for i, item := range items {
			if err := checkValue(item, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return &ParseError{Field: path, Message: "expected text in quotes"}
		}
		if utf8.RuneCountInString(s) > MaxTextLen {
			return &ParseError{Field: path, Message: "is longer than " + strconv.Itoa(MaxTextLen) + " characters", Err: ErrTooLarge}
		}
		return nil
	case reflect.Int:
		var n int
		if !isNumber(raw) || json.Unmarshal(raw, &n) != nil {
			return &ParseError{Field: path, Message: "expected a whole number"}
		}
		return nil
	case reflect.Float64:
		var f float64
		if !isNumber(raw) || json.Unmarshal(raw, &f) != nil {
			return &ParseError{Field: path, Message: "expected a number"}
		}
		return nil
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			return &ParseError{Field: path, Message: "expected true or false"}
		}
		return nil
	}
	// Unreachable for the types of this package; refuse rather than guess.
	return &ParseError{Field: path, Message: "cannot be read"}
}

// checkObject checks the members of obj against struct type t. extra
// lists members handled by the caller (a node's id and type), which are
// skipped here.
func checkObject(obj map[string]json.RawMessage, t reflect.Type, path string, extra map[string]bool) *ParseError {
	fields := jsonFields(t)
	allowed := func(string) bool { return true }
	if d, ok := reflect.New(t).Elem().Interface().(discriminated); ok {
		key := d.discriminator()
		var variant string
		raw, present := obj[key]
		if !present || json.Unmarshal(raw, &variant) != nil || variant == "" {
			return &ParseError{Field: join(path, key), Message: "missing; use one of " + strings.Join(variantsOf(t), ", ")}
		}
		keys, ok := d.variantKeys(variant)
		if !ok {
			return &ParseError{Field: join(path, key), Message: "unknown " + key + " “" + variant + "”; use one of " + strings.Join(variantsOf(t), ", ")}
		}
		keys = append(keys, key)
		allowed = func(k string) bool { return slices.Contains(keys, k) }
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names) // deterministic: the first error is always the same one
	for _, k := range names {
		if extra[k] {
			continue
		}
		f, ok := fields[k]
		if !ok || !allowed(k) {
			return &ParseError{Field: join(path, k), Message: "unknown field; allowed here: " + strings.Join(allowedNames(fields, allowed, extra), ", ")}
		}
		if err := checkValue(obj[k], f.Type, join(path, k)); err != nil {
			return err
		}
	}
	return nil
}

// allowedNames lists the members an object may hold, sorted.
func allowedNames(fields map[string]reflect.StructField, allowed func(string) bool, extra map[string]bool) []string {
	var out []string
	for k := range fields {
		if allowed(k) {
			out = append(out, k)
		}
	}
	for k := range extra {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// isNumber reports whether raw is a JSON number (json.Unmarshal would
// also accept a quoted one into a field tagged ",string"; none is).
func isNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

// normalize gives a decoded value its one canonical form, so that a
// document that went through MarshalJSON decodes to an equal value:
// empty lists become nil (MarshalJSON omits them), and JSON bodies become
// compact with <, > and & escaped (what every encoding/json encoder
// writes for a json.RawMessage).
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.Set(reflect.ValueOf(canonicalJSON(v.Interface().(json.RawMessage))))
			return
		}
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := range v.Len() {
			normalize(v.Index(i))
		}
	}
}

// canonicalJSON compacts a JSON value and escapes <, > and & (and U+2028,
// U+2029) as encoding/json's encoders do, or returns nil for null or an
// empty value.
func canonicalJSON(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) != nil {
		return raw // not JSON: left for Validate to report
	}
	var out bytes.Buffer
	json.HTMLEscape(&out, compact.Bytes())
	return out.Bytes()
}

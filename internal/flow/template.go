package flow

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Lookup gives the values of variables by full name ("contact.first_name",
// "contact.field.city", "flow.var.order").
type Lookup interface {
	Lookup(name string) (value string, ok bool)
}

// Vars is a Lookup backed by a map.
type Vars map[string]string

// Lookup implements Lookup.
func (v Vars) Lookup(name string) (string, bool) {
	s, ok := v[name]
	return s, ok
}

// Variable names the format defines. Custom fields are read as
// VarFieldPrefix+key and flow variables as VarFlowPrefix+name.
const (
	VarFirstName   = "contact.first_name"
	VarLastName    = "contact.last_name"
	VarFullName    = "contact.name"
	VarLocale      = "contact.locale"
	VarChannel     = "contact.channel"
	VarFieldPrefix = "contact.field."
	VarFlowPrefix  = "flow.var."
)

// maxVarName bounds a variable name and maxRef a whole reference with its
// default, so that a stray "{{" does not make Render scan far.
const (
	maxVarName = 128
	maxRef     = 512
)

// Render replaces every {{name}} or {{name|default}} in template with the
// variable's value from vars, or with default (else nothing) when the
// variable is unknown or empty. Spaces around name and default are
// ignored. Braces that do not hold a variable name stay as written.
// Values are inserted as they are and never rendered again, so a contact
// cannot inject variables or anything else through their own data.
func Render(template string, vars Lookup) string {
	i := strings.Index(template, "{{")
	if i < 0 {
		return template
	}
	var b strings.Builder
	b.Grow(len(template) + 16)
	for i >= 0 {
		b.WriteString(template[:i])
		ref, n, ok := scanRef(template[i:])
		if !ok {
			// Step over one brace only: "{{{name}}}" renders as "{value}".
			b.WriteByte('{')
			template = template[i+1:]
		} else {
			v, found := "", false
			if vars != nil {
				v, found = vars.Lookup(ref.name)
			}
			if !found || v == "" {
				v = ref.def
			}
			b.WriteString(v)
			template = template[i+n:]
		}
		i = strings.Index(template, "{{")
	}
	b.WriteString(template)
	return b.String()
}

// Variables lists the variable names template refers to, each once, in
// order of first use.
func Variables(template string) []string {
	var out []string
	for {
		i := strings.Index(template, "{{")
		if i < 0 {
			return out
		}
		ref, n, ok := scanRef(template[i:])
		if !ok {
			template = template[i+1:]
			continue
		}
		if !slices.Contains(out, ref.name) {
			out = append(out, ref.name)
		}
		template = template[i+n:]
	}
}

// ref is one {{name|default}}.
type ref struct{ name, def string }

// scanRef reads the reference s starts with ("{{…}}") and its length.
func scanRef(s string) (ref, int, bool) {
	end := strings.Index(s[2:min(len(s), maxRef)], "}}")
	if end < 0 {
		return ref{}, 0, false
	}
	inner := s[2 : 2+end]
	name, def, _ := strings.Cut(inner, "|")
	name = strings.TrimSpace(name)
	if !validVarName(name) {
		return ref{}, 0, false
	}
	return ref{name: name, def: strings.TrimSpace(def)}, 2 + end + 2, true
}

// validVarName reports whether s is a dotted variable name: a lower-case
// namespace, then at least one segment of letters, digits, - or _.
func validVarName(s string) bool {
	if len(s) == 0 || len(s) > maxVarName {
		return false
	}
	ns, rest, ok := strings.Cut(s, ".")
	if !ok || ns == "" {
		return false
	}
	for i := 0; i < len(ns); i++ {
		if ns[i] < 'a' || ns[i] > 'z' {
			return false
		}
	}
	for seg := range strings.SplitSeq(rest, ".") {
		if !validID(seg) {
			return false
		}
	}
	return true
}

// RenderJSON renders the variables in every string of a JSON value (an
// http node's body), keys excepted, and returns it compact. Values are
// JSON-escaped by the encoder, so contact data cannot break out of its
// string. Numbers keep their exact digits.
func RenderJSON(body json.RawMessage, vars Lookup) (json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return encode(renderValue(v, vars), "")
}

// renderValue renders the strings inside a decoded JSON value.
func renderValue(v any, vars Lookup) any {
	switch x := v.(type) {
	case string:
		return Render(x, vars)
	case []any:
		for i := range x {
			x[i] = renderValue(x[i], vars)
		}
	case map[string]any:
		for k := range x {
			x[k] = renderValue(x[k], vars)
		}
	}
	return v
}

package flow

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// field checks a reference to a custom field and returns its type.
func (v *validator) field(n Node, field, key string) (FieldType, bool) {
	switch {
	case key == "":
		v.nodeErr(n, field, "does not name a custom field.")
		return "", false
	case !validID(key):
		v.nodeErr(n, field, "names the custom field “%s”, which is not a valid field key.", truncate(key, 40))
		return "", false
	case v.known.Fields == nil:
		return "", true
	}
	t, ok := v.known.Fields[key]
	if !ok {
		v.nodeErr(n, field, "uses the custom field “%s”, which does not exist. Create it under Contacts → Fields first.", key)
	}
	return t, ok
}

// tagName checks a tag name and reports whether it is well formed.
func (v *validator) tagName(n Node, field, tag string) bool {
	switch {
	case strings.TrimSpace(tag) == "":
		v.nodeErr(n, field, "does not name a tag.")
	case strings.TrimSpace(tag) != tag || utf8.RuneCountInString(tag) > 64 || strings.ContainsAny(tag, "\r\n\t"):
		v.nodeErr(n, field, "names the tag “%s”; use up to 64 characters without spaces at the ends.", truncate(tag, 64))
	default:
		return true
	}
	return false
}

// team checks an optional team reference.
func (v *validator) team(n Node, field, team string) {
	if team != "" && v.known.Teams != nil && !v.known.Teams[team] {
		v.nodeErr(n, field, "hands over to the team “%s”, which does not exist.", team)
	}
}

// template warns about variables in s that will render empty.
func (v *validator) template(n Node, field, s string) {
	if !strings.Contains(s, "{{") {
		return
	}
	for _, name := range Variables(s) {
		switch {
		case slices.Contains([]string{VarFirstName, VarLastName, VarFullName, VarLocale, VarChannel}, name):
		case strings.HasPrefix(name, VarFieldPrefix):
			key := strings.TrimPrefix(name, VarFieldPrefix)
			if v.known.Fields != nil {
				if _, ok := v.known.Fields[key]; !ok {
					v.nodeWarn(n, field, "uses {{%s}}, but there is no custom field “%s”; it will show as empty.", name, key)
				}
			}
		case strings.HasPrefix(name, VarFlowPrefix):
			if key := strings.TrimPrefix(name, VarFlowPrefix); !v.vars[key] {
				v.nodeWarn(n, field, "uses {{%s}}, but no node of this flow sets the variable “%s”; it will show as empty.", name, key)
			}
		default:
			v.nodeWarn(n, field, "uses {{%s}}, which is not a variable; it will show as empty.", name)
		}
	}
	if strings.Count(s, "{{") > countRefs(s) {
		// Some "{{" starts no variable (countRefs steps over such braces one
		// at a time, so "{{{name}}}" counts as one variable).
		v.nodeWarn(n, field, "has “{{” that does not start a variable like {{contact.first_name}}; it will be sent as written.")
	}
}

// countRefs counts the variable references in s.
func countRefs(s string) int {
	c := 0
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return c
		}
		if _, n, ok := scanRef(s[i:]); ok {
			c++
			s = s[i+n:]
		} else {
			s = s[i+1:]
		}
	}
}

package canned

import "strings"

// Vars are the values Render fills in, by full name.
type Vars map[string]string

// Variable names a canned response may use.
const (
	VarFirstName   = "contact.first_name"
	VarLastName    = "contact.last_name"
	VarContactName = "contact.name"
	VarAgentName   = "agent.name"
	VarAgentFirst  = "agent.first_name"
	VarWorkspace   = "workspace.name"
)

// maxRef bounds a whole {{…}} reference, so a stray "{{" does not make
// Render scan far.
const maxRef = 256

// Render replaces every {{name}} or {{name|default}} in body with the
// variable's value from vars, or with default (else nothing) when it is
// unknown or empty; spaces around name and default are ignored. Braces
// that do not hold a variable name stay as written. Values are inserted
// as they are and never rendered again, so a contact cannot inject
// anything through their own name. It behaves like flow.Render (see
// doc.go for why it is a copy).
func Render(body string, vars Vars) string {
	i := strings.Index(body, "{{")
	if i < 0 {
		return body
	}
	var b strings.Builder
	b.Grow(len(body) + 16)
	for i >= 0 {
		b.WriteString(body[:i])
		name, def, n, ok := scanRef(body[i:])
		if !ok {
			b.WriteByte('{')
			body = body[i+1:]
		} else {
			v := vars[name]
			if v == "" {
				v = def
			}
			b.WriteString(v)
			body = body[i+n:]
		}
		i = strings.Index(body, "{{")
	}
	b.WriteString(body)
	return b.String()
}

// scanRef reads the reference s starts with ("{{…}}"), and its length.
func scanRef(s string) (name, def string, n int, ok bool) {
	end := strings.Index(s[2:min(len(s), maxRef)], "}}")
	if end < 0 {
		return "", "", 0, false
	}
	name, def, _ = strings.Cut(s[2:2+end], "|")
	name = strings.TrimSpace(name)
	if !validName(name) {
		return "", "", 0, false
	}
	return name, strings.TrimSpace(def), 2 + end + 2, true
}

// validName reports whether s is a dotted name: a lower-case namespace,
// then segments of ASCII letters, digits, - or _.
func validName(s string) bool {
	ns, rest, ok := strings.Cut(s, ".")
	if !ok || ns == "" || rest == "" {
		return false
	}
	for _, r := range ns {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	for seg := range strings.SplitSeq(rest, ".") {
		if seg == "" {
			return false
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

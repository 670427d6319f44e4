package workspace

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/validate"
)

// Scope is a permission an API key may carry on top of its role. A few
// special routes (access.Policy.Scope) require a key to carry a scope, so
// that such a route is reachable only by keys issued for it; and a key that
// carries scopes is a purpose key, reaching only those routes (the guard
// refuses it elsewhere), so a phone that leaks its call-log key does not
// leak the inbox. Keys without scopes work for everything their role
// allows.
type Scope string

// The closed list of scopes.
const (
	// ScopeCallLogsWrite lets a key upload a phone's call log (package
	// calllog, promise P-28). It needs a key of role agent or above, since
	// matched calls are written to contacts' activity.
	ScopeCallLogsWrite Scope = "call_logs:write"
)

// AllScopes returns every scope, in a stable order, for forms and docs.
func AllScopes() []Scope { return []Scope{ScopeCallLogsWrite} }

// Valid reports whether s is on the closed list.
func (s Scope) Valid() bool { return slices.Contains(AllScopes(), s) }

// MinRole is the least role a key must have to carry s: a scope never
// lets a key do what its role could not.
func (s Scope) MinRole() Role {
	switch s {
	case ScopeCallLogsWrite:
		return RoleAgent
	}
	return RoleOwner // unknown scopes are refused before this matters
}

// ScopeList is the scopes of a key, sorted and without duplicates, stored
// as a JSON list in api_keys.scopes. An empty list is nil in Go and [] in
// JSON.
type ScopeList []Scope

// Has reports whether the list holds s.
func (l ScopeList) Has(s Scope) bool { return slices.Contains(l, s) }

// Value stores the list as a JSON array (driver.Valuer).
func (l ScopeList) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]Scope(l))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan reads what Value stored (sql.Scanner).
func (l *ScopeList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("workspace: scan scopes: unexpected %T", src)
	}
	var out []Scope
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("workspace: scan scopes: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*l = out
	return nil
}

// MarshalJSON writes an empty list as [] rather than null, so API clients
// always get an array.
func (l ScopeList) MarshalJSON() ([]byte, error) {
	if len(l) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal([]Scope(l))
}

// ParseScopes reads scope names as a form or an API request gives them
// (case-insensitive, surrounding space ignored) and checks them with
// CheckScopes for a key of role role.
func ParseScopes(names []string, role Role) (ScopeList, error) {
	scopes := make([]Scope, len(names))
	for i, n := range names {
		scopes[i] = Scope(strings.ToLower(strings.TrimSpace(n)))
	}
	return CheckScopes(scopes, role)
}

// CheckScopes returns scopes sorted and without duplicates, or a
// *validate.Error on field "scopes" for a scope that is not on the closed
// list or that role is too low to carry.
func CheckScopes(scopes []Scope, role Role) (ScopeList, error) {
	var out ScopeList
	for _, s := range scopes {
		if !s.Valid() {
			return nil, validate.Field("scopes", "Choose scopes from: "+scopeNames()+".")
		}
		if !role.AtLeast(s.MinRole()) {
			return nil, validate.Field("scopes", fmt.Sprintf("The scope %s needs a key with role %s or above.", s, s.MinRole()))
		}
		if !out.Has(s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}

func scopeNames() string {
	var b strings.Builder
	for i, s := range AllScopes() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(s))
	}
	return b.String()
}

package workspace

import (
	"strings"

	"github.com/parleyhq/parley/internal/validate"
)

// Role is a member's (or an API key's) permission level in one workspace.
type Role string

// The roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleAgent  Role = "agent"
	RoleViewer Role = "viewer"
)

// rank orders the roles; an unknown role ranks 0, below every real one.
func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleAgent:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// ParseRole reads a role name (case-insensitive, surrounding space ignored).
// An unknown name is a *validate.Error on field "role".
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", validate.Field("role", "Choose owner, admin, agent or viewer.")
	}
	return r, nil
}

// AtLeast reports whether r is min or more powerful. It fails closed: an
// unknown r or min answers false.
func (r Role) AtLeast(min Role) bool {
	return min.Valid() && r.rank() >= min.rank()
}

// CanManage reports whether a member acting as r may grant role target, or
// change or remove a member who holds it: owners manage every role, admins
// every role but owner, agents and viewers none.
func (r Role) CanManage(target Role) bool {
	switch r {
	case RoleOwner:
		return target.Valid()
	case RoleAdmin:
		return target.Valid() && target != RoleOwner
	}
	return false
}

// checkRole validates a role given as input (for the field name in errors).
func checkRole(r Role) error {
	if !r.Valid() {
		return validate.Field("role", "Choose owner, admin, agent or viewer.")
	}
	return nil
}

// ungrantable lists the roles that a member holding r may not grant; used to
// revoke the invitations of someone who lost the power to grant them.
func ungrantable(r Role) []string {
	var out []string
	for _, t := range []Role{RoleOwner, RoleAdmin, RoleAgent, RoleViewer} {
		if !r.CanManage(t) {
			out = append(out, string(t))
		}
	}
	return out
}

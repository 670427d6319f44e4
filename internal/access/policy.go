package access

import (
	"net/http"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// Policy declares who may call a route.
type Policy struct {
	public     bool
	signedIn   bool
	minRole    workspace.Role  // set for routes under /workspaces/{workspace_id}
	apiKeys    bool            // API keys may call (only workspace routes)
	readOnlyOK bool            // a write that stays allowed when the trial has expired
	scope      workspace.Scope // an API key must carry it ("" for none)
	// platformAdmin routes need a platform administrator with 2FA on,
	// acting as themselves or not (the operator console).
	platformAdmin bool
	// whileActing lets a signed-in (non-workspace) write through while an
	// administrator impersonates someone (sign-out, stop impersonating).
	whileActing bool
	// deleting lets a member route reach a workspace being deleted (the
	// pages that show and cancel that).
	deleting bool
	// notActing refuses the route, whatever its method, while an
	// administrator impersonates someone (security.md §3.B B-7).
	notActing bool
}

// Public routes need no caller (sign-up, login, health, webhooks).
func Public() Policy { return Policy{public: true} }

// SignedIn routes need a dashboard session; API keys are refused because
// they belong to a workspace, not a person.
func SignedIn() Policy { return Policy{signedIn: true} }

// Member routes live under {workspace_id} and need a member of that
// workspace with at least role min, or an API key of that workspace whose
// role is at least min.
func Member(min workspace.Role) Policy {
	return Policy{signedIn: true, minRole: min, apiKeys: true}
}

// PlatformAdmin routes are the operator console's: they need a dashboard
// session of a platform administrator (users.is_platform_admin) with
// two-factor authentication on (promise P-05, P-06). Anyone else gets
// 404, an administrator without 2FA 403. While the administrator
// impersonates someone, these routes still see the administrator
// (Principal.Real).
func PlatformAdmin() Policy { return Policy{signedIn: true, platformAdmin: true} }

// AllowedWhileImpersonating lets a signed-in write through while an
// administrator acts as someone else; every other signed-in write (the
// user's password, 2FA, new workspaces) is refused then, since it would
// act on the user's own account rather than in a workspace.
func (p Policy) AllowedWhileImpersonating() Policy { p.whileActing = true; return p }

// NotWhileImpersonating refuses the route (with 403, whatever its method)
// while a platform administrator acts as someone else (security.md §3.B
// B-7). Impersonating is for seeing what a user sees and fixing things in
// their workspace under the audit log, not for leaving something behind
// that outlives it: an API key, an invitation or a membership the
// administrator could use afterwards, a changed role, a workspace's
// deletion requested or cancelled, personal data exported, or data erased
// or merged for good. Those stay with the people themselves.
func (p Policy) NotWhileImpersonating() Policy { p.notActing = true; return p }

// RefusedWhileImpersonating reports whether NotWhileImpersonating is set.
func (p Policy) RefusedWhileImpersonating() bool { return p.notActing }

// IsPlatformAdmin reports whether the route is the operator console's.
func (p Policy) IsPlatformAdmin() bool { return p.platformAdmin }

// SessionOnly refuses API keys on a member route (managing API keys, say).
func (p Policy) SessionOnly() Policy { p.apiKeys = false; return p }

// Scope requires an API key calling this member route to carry s (a key
// without it gets 403 even when its role suffices). Scopes add to roles
// and never replace them: the key's role must still be at least the
// route's, and a signed-in member of that role may call too, since a
// person acting through the dashboard is who the scope would stand in for
// and the member's own role already bounds what they may do. Use it for
// routes that only a purpose-made key should reach (call-log uploads from
// a phone: workspace.ScopeCallLogsWrite), so that an ordinary integration
// key leaked or misused cannot.
func (p Policy) Scope(s workspace.Scope) Policy { p.scope = s; return p }

// RequiredScope returns the scope API keys need on this route ("" for none).
func (p Policy) RequiredScope() workspace.Scope { return p.scope }

// AllowedWhenReadOnly lets a write through after the trial expired (for
// example leaving the workspace or deleting it: nothing is ever held hostage).
func (p Policy) AllowedWhenReadOnly() Policy { p.readOnlyOK = true; return p }

// WhileDeleting lets the route reach a workspace its owner deleted and that
// waits for its purge, which every other route refuses with 404 (promise
// P-33). Only the pages that show the deletion and cancel it use it.
func (p Policy) WhileDeleting() Policy { p.deleting = true; return p }

// IsZero reports an undeclared policy; the route-table tests fail on it.
func (p Policy) IsZero() bool { return p == Policy{} }

// IsPublic reports whether anyone may call.
func (p Policy) IsPublic() bool { return p.public }

// MinRole returns the least role a member route needs ("" otherwise).
func (p Policy) MinRole() workspace.Role { return p.minRole }

// AllowsAPIKeys reports whether API keys may call.
func (p Policy) AllowsAPIKeys() bool { return p.apiKeys }

// String describes the policy, for the route inventory and docs.
func (p Policy) String() string {
	switch {
	case p.public:
		return "public"
	case p.platformAdmin:
		return "platform-admin (2FA)"
	case p.minRole != "":
		s := "member:" + string(p.minRole)
		if !p.apiKeys {
			s += " (session only)"
		}
		if p.scope != "" {
			s += " (key scope " + string(p.scope) + ")"
		}
		if p.deleting {
			s += " (also while being deleted)"
		}
		return s
	case p.signedIn:
		return "signed-in"
	}
	return "UNDECLARED"
}

// Route is one endpoint of a surface with its declared access policy.
type Route struct {
	Method  string // GET, POST, …
	Pattern string // a net/http ServeMux path pattern, e.g. /api/v1/workspaces/{workspace_id}/members
	Policy  Policy
	Handler httpx.HandlerFunc
}

// Unsafe reports whether the route's method may change state.
func (r Route) Unsafe() bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

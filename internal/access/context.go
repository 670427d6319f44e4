package access

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// Principal is the resolved caller: a person with a dashboard session, or a
// workspace API key.
type Principal struct {
	User    *account.User
	Session *account.Session
	APIKey  *workspace.APIKey
	// Impersonator is the platform administrator really signed in when
	// they act as User through the operator console (promise P-06);
	// Session is then the administrator's own.
	Impersonator *account.User
}

// Real returns the person really signed in: the impersonating
// administrator, or User.
func (p *Principal) Real() *account.User {
	if p.Impersonator != nil {
		return p.Impersonator
	}
	return p.User
}

// Scope is the workspace a member route acts in and the caller's role there.
type Scope struct {
	Workspace *workspace.Workspace
	Role      workspace.Role
}

type ctxKey int

const (
	principalKey ctxKey = iota
	scopeKey
)

// PrincipalFrom returns the caller, or nil on a public route with nobody
// signed in.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// ScopeFrom returns the workspace scope of a member route, or nil.
func ScopeFrom(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey).(*Scope)
	return s
}

func withPrincipal(r *http.Request, p *Principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey, p))
}

func withScope(r *http.Request, s *Scope) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), scopeKey, s))
}

// Actor describes the caller of r for the audit log.
func Actor(r *http.Request) audit.Actor {
	a := audit.Actor{RequestID: httpx.RequestID(r.Context())}
	if ip := httpx.ClientIP(r.Context()); ip.IsValid() {
		a.IP = ip.String()
	}
	if p := PrincipalFrom(r.Context()); p != nil {
		if p.User != nil {
			a.UserID = p.User.ID
		}
		if p.APIKey != nil {
			a.APIKeyID = p.APIKey.ID
		}
		if p.Impersonator != nil {
			// Both the effective and the real actor (security.md Q-1).
			a.ImpersonatorID = p.Impersonator.ID
		}
	}
	return a
}

package access

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// Sessions verifies dashboard session tokens (account.Service).
type Sessions interface {
	VerifySession(ctx context.Context, token string) (*account.User, *account.Session, error)
}

// Workspaces answers membership questions (workspace.Service).
type Workspaces interface {
	Get(ctx context.Context, workspaceID string) (*workspace.Workspace, error)
	Membership(ctx context.Context, workspaceID, userID string) (*workspace.Membership, error)
	AuthenticateAPIKey(ctx context.Context, secret string) (*workspace.APIKey, error)
}

// Guard enforces route policies.
type Guard struct {
	Sessions   Sessions
	Workspaces Workspaces
	Now        func() time.Time
	// Secure marks cookies Secure and names them __Host-…, for https.
	Secure bool
	// SessionTTL is the cookie's Max-Age.
	SessionTTL time.Duration
	Log        *slog.Logger
}

// Errors the guard answers with. Unauthenticated callers get 401; a
// workspace the caller does not belong to is 404 (no existence oracle); a
// role too low is 403; an expired trial refuses writes with 402.
var (
	errSignIn       = httpx.Unauthorized("unauthenticated", "Sign in to continue.")
	errBadKey       = httpx.Unauthorized("invalid_api_key", "The API key is not valid or has been revoked.")
	errNoWorkspace  = httpx.NotFound("workspace")
	errTrialExpired = &httpx.Error{Status: http.StatusPaymentRequired, Code: "trial_expired",
		Message: "This workspace's trial has ended, so it is read-only. Nothing has been deleted; choose a plan to make changes again."}
)

// Handler wraps rt.Handler with its policy and turns errors into responses
// with writeErr.
func (g *Guard) Handler(rt Route, writeErr httpx.ErrorWriter) http.Handler {
	if rt.Policy.IsZero() {
		panic("access: route " + rt.Method + " " + rt.Pattern + " declares no policy")
	}
	h := rt.Handler
	return httpx.Serve(g.Log, writeErr, func(w http.ResponseWriter, r *http.Request) error {
		httpx.WithRoute(r, rt.Method+" "+rt.Pattern)
		r, err := g.authorize(w, r, rt)
		if err != nil {
			return err
		}
		return h(w, r)
	})
}

func (g *Guard) authorize(w http.ResponseWriter, r *http.Request, rt Route) (*http.Request, error) {
	p := rt.Policy
	princ, err := g.resolve(w, r, p)
	if p.public {
		if princ != nil && err == nil {
			r = withPrincipal(r, princ)
		}
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if princ == nil {
		return r, errSignIn
	}
	r = withPrincipal(r, princ)
	if p.minRole == "" {
		if princ.User == nil { // an API key on a person's route
			return r, httpx.Forbidden("API keys cannot be used here; sign in instead.")
		}
		return r, nil
	}
	wsID := r.PathValue("workspace_id")
	if wsID == "" {
		return r, httpx.Internal(errors.New("access: member route without {workspace_id}: " + rt.Pattern))
	}
	var (
		role workspace.Role
		ws   *workspace.Workspace
	)
	switch {
	case princ.APIKey != nil:
		if princ.APIKey.WorkspaceID != wsID {
			return r, errNoWorkspace
		}
		if !p.apiKeys {
			return r, httpx.Forbidden("API keys cannot be used for this; sign in to the dashboard instead.")
		}
		if p.scope != "" && !princ.APIKey.Scopes.Has(p.scope) {
			return r, httpx.Forbidden("This API key lacks the scope " + string(p.scope) + "; ask an admin of the workspace for a key that has it.")
		}
		// A key with scopes is a purpose key (the call-log app on a
		// phone): it reaches only the routes that need one of them, so a
		// phone that leaks its key does not leak the inbox.
		if len(princ.APIKey.Scopes) > 0 && p.scope == "" {
			return r, httpx.Forbidden("This API key only works for what its permissions say; use a key without permissions for this.")
		}
		role = princ.APIKey.Role
		ws, err = g.Workspaces.Get(r.Context(), wsID)
	default:
		var m *workspace.Membership
		if m, err = g.Workspaces.Membership(r.Context(), wsID, princ.User.ID); err == nil {
			ws, role = &m.Workspace, m.Role
		}
	}
	if errors.Is(err, db.ErrNotFound) {
		return r, errNoWorkspace
	}
	if err != nil {
		return r, httpx.Internal(err)
	}
	r = withScope(r, &Scope{Workspace: ws, Role: role})
	if !role.AtLeast(p.minRole) {
		return r, httpx.Forbidden("Your role (" + string(role) + ") cannot do this; ask an owner or admin of the workspace.")
	}
	if rt.Unsafe() && !p.readOnlyOK && ws.ReadOnly(g.Now()) {
		return r, errTrialExpired
	}
	return r, nil
}

// resolve finds the caller: an API key in Authorization: Bearer, else the
// session cookie. It returns nil, nil when neither is present. A session
// cookie that no longer verifies is cleared.
func (g *Guard) resolve(w http.ResponseWriter, r *http.Request, p Policy) (*Principal, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		secret, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || secret == "" {
			return nil, errBadKey
		}
		key, err := g.Workspaces.AuthenticateAPIKey(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			if errors.Is(err, workspace.ErrInvalidAPIKey) {
				return nil, errBadKey
			}
			return nil, httpx.Internal(err)
		}
		return &Principal{APIKey: key}, nil
	}
	c, err := r.Cookie(g.CookieName())
	if err != nil || c.Value == "" {
		return nil, nil
	}
	u, s, err := g.Sessions.VerifySession(r.Context(), c.Value)
	if err != nil {
		if errors.Is(err, account.ErrInvalidSession) {
			g.ClearSessionCookie(w)
			return nil, httpx.Unauthorized("session_expired", "Your session has ended. Sign in again.")
		}
		return nil, httpx.Internal(err)
	}
	return &Principal{User: u, Session: s}, nil
}

// CookieName is the session cookie's name: with TLS the __Host- prefix
// makes browsers insist on Secure, Path=/ and no Domain.
func (g *Guard) CookieName() string {
	if g.Secure {
		return "__Host-parley_session"
	}
	return "parley_session"
}

// SetSessionCookie stores the session token in the one cookie Parley uses
// (promise P-02): HttpOnly, SameSite=Lax, Secure over TLS, bounded lifetime.
func (g *Guard) SetSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: g.CookieName(), Value: token, Path: "/",
		MaxAge: int(g.SessionTTL / time.Second), HttpOnly: true, Secure: g.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie removes the session cookie.
func (g *Guard) ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: g.CookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: g.Secure, SameSite: http.SameSiteLaxMode})
}

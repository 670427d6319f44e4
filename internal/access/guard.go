package access

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/audit"
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

// Impersonation resolves a platform administrator's session to the user
// they act as (operator.Service, promise P-06).
type Impersonation interface {
	// Acting returns the user the administrator signed in with sessionID
	// acts as, or false.
	Acting(ctx context.Context, sessionID string) (*account.User, bool, error)
	// RecordWrite audit-logs a write made while impersonating, in the
	// workspace's log ("" for none), before it runs.
	RecordWrite(ctx context.Context, a audit.Actor, workspaceID, route string) error
	// StopImpersonating ends the impersonation of the administrator's
	// session adminSessionID, audit-logged, if there is one (sign-out
	// calls it, so the end is on record and not only implied by the
	// session's).
	StopImpersonating(ctx context.Context, a audit.Actor, adminSessionID string) error
}

// Guard enforces route policies.
type Guard struct {
	Sessions   Sessions
	Workspaces Workspaces
	// Impersonation, when set, lets platform administrators act as a
	// user through their own session (nil: nobody impersonates).
	Impersonation Impersonation
	Now           func() time.Time
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
	if p.platformAdmin {
		return r, platformAdmin(princ)
	}
	if p.minRole == "" {
		if princ.User == nil { // an API key on a person's route
			return r, httpx.Forbidden("API keys cannot be used here; sign in instead.")
		}
		if princ.Impersonator != nil && (p.notActing || rt.Unsafe() && !p.whileActing) {
			return r, errActing
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
	// A workspace its owner deleted is gone for everyone at once, owners
	// included, on every page and API route (P-33, security.md §3.O O-5),
	// except those that show the deletion and cancel it (WhileDeleting).
	if ws.Deleting() && !p.deleting {
		return r, errNoWorkspace
	}
	r = withScope(r, &Scope{Workspace: ws, Role: role})
	if !role.AtLeast(p.minRole) {
		return r, httpx.Forbidden("Your role (" + string(role) + ") cannot do this; ask an owner or admin of the workspace.")
	}
	if princ.Impersonator != nil && p.notActing {
		// Checked after membership and role, so that the answer says
		// nothing about a workspace the user is not in (404 there).
		return r, errNotWhileActing
	}
	if rt.Unsafe() && !p.readOnlyOK && ws.ReadOnly(g.Now()) {
		return r, errTrialExpired
	}
	if princ.Impersonator != nil && rt.Unsafe() {
		// Every write while impersonating is in the workspace's audit
		// log, with the real and the effective actor, before it runs; if
		// it cannot be recorded, it does not run (security.md Q-1).
		if err := g.Impersonation.RecordWrite(r.Context(), Actor(r), wsID, rt.Method+" "+rt.Pattern); err != nil {
			return r, httpx.Internal(err)
		}
	}
	return r, nil
}

// errActing refuses account writes while an administrator impersonates;
// errNotWhileActing the workspace routes marked NotWhileImpersonating.
var (
	errActing         = httpx.Forbidden("You are acting as someone else: stop impersonating to change account settings.")
	errNotWhileActing = &httpx.Error{Status: http.StatusForbidden, Code: "not_while_impersonating",
		Message: "Not while acting as someone else: stop impersonating first. Only the user themselves can do this."}
)

// platformAdmin checks an operator-console caller: the person really
// signed in must be a platform administrator (404 otherwise: the console
// does not exist for them) with two-factor authentication on.
func platformAdmin(princ *Principal) error {
	who := princ.Real()
	if who == nil || princ.Session == nil || !who.IsPlatformAdmin {
		return httpx.NotFound("page")
	}
	if !who.TOTPEnabled {
		return httpx.Forbidden("Turn on two-factor authentication (Sign-in and security) to use the operator console.")
	}
	return nil
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
	princ := &Principal{User: u, Session: s}
	// Only an administrator's session can carry an impersonation, so
	// nobody else's request pays for the lookup.
	if u.IsPlatformAdmin && g.Impersonation != nil {
		as, ok, err := g.Impersonation.Acting(r.Context(), s.ID)
		if err != nil {
			return nil, httpx.Internal(err)
		}
		if ok {
			princ.Impersonator, princ.User = u, as
		}
	}
	return princ, nil
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

package access_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// fakeSessions knows one session token per user ID: "session-<id>".
type fakeSessions struct{}

func (fakeSessions) VerifySession(_ context.Context, token string) (*account.User, *account.Session, error) {
	id, ok := strings.CutPrefix(token, "session-")
	if !ok {
		return nil, nil, account.ErrInvalidSession
	}
	return &account.User{ID: id}, &account.Session{ID: "s-" + id, UserID: id}, nil
}

// fakeWorkspaces has workspaces "w1" and "w2", members by user ID, and keys
// by secret.
type fakeWorkspaces struct {
	roles map[string]workspace.Role // user ID → role in w1
	keys  map[string]*workspace.APIKey
}

func (f fakeWorkspaces) Get(_ context.Context, id string) (*workspace.Workspace, error) {
	if id != "w1" && id != "w2" {
		return nil, db.ErrNotFound
	}
	return &workspace.Workspace{ID: id, Plan: "pro"}, nil
}

func (f fakeWorkspaces) Membership(_ context.Context, wsID, userID string) (*workspace.Membership, error) {
	role, ok := f.roles[userID]
	if !ok || wsID != "w1" {
		return nil, db.ErrNotFound
	}
	return &workspace.Membership{Workspace: workspace.Workspace{ID: wsID, Plan: "pro"}, Role: role}, nil
}

func (f fakeWorkspaces) AuthenticateAPIKey(_ context.Context, secret string) (*workspace.APIKey, error) {
	if k, ok := f.keys[secret]; ok {
		return k, nil
	}
	return nil, workspace.ErrInvalidAPIKey
}

// Promise P-28: the call-log route is reached only by API keys carrying
// the scope call_logs:write (with a role that suffices) and by signed-in
// members of that role; every other key is refused, while those keys keep
// working on routes that require no scope. A key with scopes reaches only
// the routes that need one of them.
func TestPolicyScope(t *testing.T) {
	calls := workspace.ScopeCallLogsWrite
	ws := fakeWorkspaces{
		roles: map[string]workspace.Role{"agent": workspace.RoleAgent, "viewer": workspace.RoleViewer},
		keys: map[string]*workspace.APIKey{
			"scoped":        {ID: "k1", WorkspaceID: "w1", Role: workspace.RoleAgent, Scopes: workspace.ScopeList{calls}},
			"plain":         {ID: "k2", WorkspaceID: "w1", Role: workspace.RoleAdmin},
			"scoped-viewer": {ID: "k3", WorkspaceID: "w1", Role: workspace.RoleViewer, Scopes: workspace.ScopeList{calls}},
			"scoped-other":  {ID: "k4", WorkspaceID: "w2", Role: workspace.RoleAgent, Scopes: workspace.ScopeList{calls}},
		},
	}
	g := &access.Guard{Sessions: fakeSessions{}, Workspaces: ws, Now: time.Now, SessionTTL: time.Hour}
	ok := func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(http.StatusNoContent); return nil }
	scoped := access.Route{Method: "POST", Pattern: "/api/v1/workspaces/{workspace_id}/call-logs",
		Policy: access.Member(workspace.RoleAgent).Scope(calls), Handler: ok}
	plain := access.Route{Method: "POST", Pattern: "/api/v1/workspaces/{workspace_id}/notes",
		Policy: access.Member(workspace.RoleAgent), Handler: ok}
	mux := http.NewServeMux()
	for _, rt := range []access.Route{scoped, plain} {
		mux.Handle(rt.Method+" "+rt.Pattern, g.Handler(rt, httpx.WriteError))
	}

	for _, tc := range []struct {
		name, path, key, session string
		want                     int
	}{
		{"key with the scope", "/api/v1/workspaces/w1/call-logs", "scoped", "", 204},
		{"key without the scope", "/api/v1/workspaces/w1/call-logs", "plain", "", 403},
		{"key with the scope but too low a role", "/api/v1/workspaces/w1/call-logs", "scoped-viewer", "", 403},
		{"key with the scope of another workspace", "/api/v1/workspaces/w1/call-logs", "scoped-other", "", 404},
		{"unknown key", "/api/v1/workspaces/w1/call-logs", "nope", "", 401},
		{"nobody", "/api/v1/workspaces/w1/call-logs", "", "", 401},
		{"member agent", "/api/v1/workspaces/w1/call-logs", "", "session-agent", 204},
		{"member viewer", "/api/v1/workspaces/w1/call-logs", "", "session-viewer", 403},
		{"stranger", "/api/v1/workspaces/w1/call-logs", "", "session-stranger", 404},
		{"key without scopes on a route without scope", "/api/v1/workspaces/w1/notes", "plain", "", 204},
		// A key with scopes is a purpose key: a leaked phone key does not
		// reach the inbox (security review of issue 5).
		{"scoped key on a route without scope", "/api/v1/workspaces/w1/notes", "scoped", "", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", tc.path, nil)
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			if tc.session != "" {
				req.AddCookie(&http.Cookie{Name: g.CookieName(), Value: tc.session})
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d (%s)", rec.Code, tc.want, rec.Body)
			}
			if tc.key == "plain" && tc.want == 403 && !strings.Contains(rec.Body.String(), string(calls)) {
				t.Errorf("refusal does not name the missing scope: %s", rec.Body)
			}
		})
	}

	if got := scoped.Policy.RequiredScope(); got != calls {
		t.Errorf("RequiredScope = %q", got)
	}
	if got := scoped.Policy.String(); got != "member:agent (key scope call_logs:write)" {
		t.Errorf("String = %q", got)
	}
	if plain.Policy.RequiredScope() != "" || plain.Policy.String() != "member:agent" {
		t.Errorf("a policy without scope: %q, %q", plain.Policy.RequiredScope(), plain.Policy.String())
	}
}

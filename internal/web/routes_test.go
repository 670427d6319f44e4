package web

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/workspace"
)

// Every dashboard route declares who may call it, and the declarations
// follow the rules: workspace pages are member routes of the workspace in
// their path, and none accepts API keys (they belong to the JSON API).
// Promise P-04.
func TestRoutesDeclarePolicies(t *testing.T) {
	d := New(Deps{Guard: &access.Guard{}})
	seen := map[string]bool{}
	for _, rt := range d.Routes() {
		key := rt.Method + " " + rt.Pattern
		t.Run(key, func(t *testing.T) {
			if seen[key] {
				t.Errorf("declared twice")
			}
			seen[key] = true
			if rt.Policy.IsZero() {
				t.Fatalf("declares no access policy")
			}
			if rt.Handler == nil {
				t.Errorf("has no handler")
			}
			inWorkspace := strings.HasPrefix(rt.Pattern, "/w/{workspace_id}")
			if inWorkspace != (rt.Policy.MinRole() != "") {
				t.Errorf("policy %s: routes under /w/{workspace_id} and only they must be member routes", rt.Policy)
			}
			if rt.Policy.AllowsAPIKeys() {
				t.Errorf("policy %s accepts API keys; dashboard routes are session only", rt.Policy)
			}
			if rt.Policy.IsPublic() && rt.Unsafe() && !publicWrites[key] {
				t.Errorf("a public route that changes state must be listed in publicWrites")
			}
		})
	}
	// Managing keys and the team is for admins and owners (P-04).
	for _, key := range []string{
		"GET /w/{workspace_id}/settings/api-keys",
		"POST /w/{workspace_id}/settings/api-keys",
		"POST /w/{workspace_id}/settings/team/invitations",
		"POST /w/{workspace_id}/settings/team/members/{user_id}/role",
	} {
		found := false
		for _, rt := range d.Routes() {
			if rt.Method+" "+rt.Pattern == key {
				found = true
				if rt.Policy.MinRole() != workspace.RoleAdmin {
					t.Errorf("%s: policy %s, want admin", key, rt.Policy)
				}
			}
		}
		if !found {
			t.Errorf("%s is not routed", key)
		}
	}
	// The table must mount without ServeMux conflicts, next to the API's
	// catch-all.
	mux := http.NewServeMux()
	mux.Handle("/api/", http.NotFoundHandler())
	d.Mount(mux)
}

// publicWrites are the state-changing routes anyone may call: the sign-in
// flows, which carry their own rate limits.
var publicWrites = map[string]bool{
	"POST /signup": true, "POST /login": true, "POST /login/code": true, "POST /logout": true,
}

// The Content-Security-Policy allows only Parley's own scripts and
// stylesheets; an inline script, event handler or style would be blocked
// in the browser, so none may be written. Promise P-38.
func TestTemplatesHaveNoInlineScriptOrStyle(t *testing.T) {
	forbidden := []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]`), // a script with a body
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\sstyle=`),
		regexp.MustCompile(`(?i)\son[a-z]+=`),
		regexp.MustCompile(`(?i)javascript:`),
		regexp.MustCompile(`(?i)\shx-on`),
		regexp.MustCompile(`(?i)https?://`), // every asset is Parley's own
	}
	err := fs.WalkDir(templateFS, "templates", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		for _, tag := range scriptTag.FindAll(b, -1) {
			if !strings.Contains(string(tag), " src=") {
				t.Errorf("%s: %s has no src: scripts must be files", p, tag)
			}
		}
		for _, re := range forbidden {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s: %q is not allowed under the CSP", p, b[loc[0]:min(loc[1]+20, len(b))])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var scriptTag = regexp.MustCompile(`(?i)<script[^>]*>`)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/w/abc", "/w/abc"},
		{"/invitations/tok?x=1", "/invitations/tok?x=1"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"evil", "/"},
		{"/a\r\nSet-Cookie: x", "/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStaticAssetsAreVersioned(t *testing.T) {
	a := loadAssets()
	for _, name := range []string{"app.css", "app.js", "favicon.svg", "vendor/htmx.min.js"} {
		u, err := a.url(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u, "/static/"+name+"?v=") || len(u) != len("/static/"+name+"?v=")+12 {
			t.Errorf("url(%s) = %s, want a 12-digit content hash", name, u)
		}
	}
	if _, err := a.url("nope.css"); err == nil {
		t.Error("url of a missing file did not fail")
	}
}

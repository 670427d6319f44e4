package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/web"
)

// password is every test user's password.
const password = "correct horse battery staple"

// site is a running Parley with the dashboard.
type site struct {
	*apptest.App
	URL string
}

// start boots Parley on d. When the app already mounts the dashboard its
// own server is used; otherwise the dashboard and the API are mounted here
// behind the same middleware the app uses.
func start(t *testing.T, d *db.DB, opts ...apptest.Option) *site {
	t.Helper()
	a := apptest.New(t, d, opts...)
	s := &site{App: a, URL: a.Server.URL}
	res, err := http.Get(a.Server.URL + "/signup")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK && strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		return s
	}
	dash := web.New(web.Deps{
		Accounts: a.Accounts, Workspaces: a.Workspaces, Auth: a.Auth, Guard: a.Guard,
		DB: a.DB, Now: a.Now, Log: a.Log, BaseURL: a.Config.BaseURL.String(),
	})
	mux := http.NewServeMux()
	a.API.Mount(mux)
	dash.Mount(mux)
	h := httpx.Chain(http.NewCrossOriginProtection().Handler(mux),
		httpx.RequestIDs,
		httpx.RealIP(nil),
		httpx.Recover(a.Log, httpx.WriteError),
		httpx.SecurityHeaders(false),
	)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// client is one browser without JavaScript: a cookie jar, no redirects
// followed (tests check them).
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (s *site) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: s.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response.
type page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (c *client) do(req *http.Request) *page {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &page{Status: res.StatusCode, Header: res.Header, Body: string(b), Location: res.Header.Get("Location")}
}

func (c *client) get(path string) *page {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post submits a form the way a browser does.
func (c *client) post(path string, form url.Values) *page {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// signedIn reports whether the jar holds a session cookie.
func (c *client) signedIn() bool {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "parley_session") && ck.Value != "" {
			return true
		}
	}
	return false
}

// want fails the test unless the page has the status and contains every
// text (HTML-escaped as a template would write it).
func (p *page) want(t *testing.T, status int, texts ...string) *page {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.Status, status, excerpt(p.Body))
	}
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			t.Errorf("page lacks %q; body:\n%s", s, excerpt(p.Body))
		}
	}
	return p
}

// lacks fails the test if the page contains any of texts.
func (p *page) lacks(t *testing.T, texts ...string) *page {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(p.Body, s) {
			t.Errorf("page contains %q but should not", s)
		}
	}
	return p
}

// redirectsTo fails the test unless the page is a 303 to a location
// starting with prefix, and returns the location.
func (p *page) redirectsTo(t *testing.T, prefix string) string {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, prefix) {
		t.Fatalf("got %d to %q, want 303 to %s…; body:\n%s", p.Status, p.Location, prefix, excerpt(p.Body))
	}
	return p.Location
}

// excerpt keeps failure output readable: the <main> element when present.
func excerpt(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return body
}

var seq atomic.Int64

// email returns a fresh address.
func email(name string) string { return fmt.Sprintf("%s-%d@example.com", name, seq.Add(1)) }

// signUp creates an account through the sign-up form and returns its
// signed-in client and address.
func (s *site) signUp(t *testing.T, name string) (*client, string) {
	t.Helper()
	c := s.client(t)
	addr := email(name)
	c.post("/signup", url.Values{"email": {addr}, "password": {password}, "name": {name}, "age_confirmed": {"yes"}}).redirectsTo(t, "/")
	return c, addr
}

var wsPath = regexp.MustCompile(`^/w/([0-9a-f-]{36})$`)

// createWorkspace creates a workspace through the form and returns its ID.
func (c *client) createWorkspace(name string) string {
	c.t.Helper()
	loc := c.post("/workspaces/new", url.Values{"name": {name}}).redirectsTo(c.t, "/w/")
	m := wsPath.FindStringSubmatch(loc)
	if m == nil {
		c.t.Fatalf("workspace redirect %q is not /w/<id>", loc)
	}
	return m[1]
}

// userID returns the signed-in user's ID.
func (s *site) userID(t *testing.T, addr string) string {
	t.Helper()
	u, err := s.Accounts.GetByEmail(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// join makes the user at addr (signed in on c) a member of ws with role,
// through an invitation from owner, accepted in the dashboard.
func (s *site) join(t *testing.T, owner *client, ws string, c *client, addr, role string) {
	t.Helper()
	p := owner.post("/w/"+ws+"/settings/team/invitations", url.Values{"email": {addr}, "role": {role}}).want(t, http.StatusOK)
	m := regexp.MustCompile(`/invitations/([A-Za-z0-9]+)`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no invitation link on the team page:\n%s", excerpt(p.Body))
	}
	c.post("/invitations/"+m[1]+"/accept", nil).redirectsTo(t, "/w/"+ws)
}

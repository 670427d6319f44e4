package metasim

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

const redirect = "https://parley.test/channels/messenger/callback"

// noFollow is a client that shows redirects instead of following them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// dialogPage fetches the login dialog.
func (f *fixture) dialogPage(t *testing.T, q url.Values) (int, string) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/v23.0/dialog/oauth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func dialogQuery(appID, scope string) url.Values {
	return url.Values{"client_id": {appID}, "redirect_uri": {redirect}, "state": {"st-123"}, "scope": {scope}, "response_type": {"code"}}
}

var (
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">(.*?)</form>`)
	inputRE  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	buttonRE = regexp.MustCompile(`<button type="submit">([^<]+)</button>`)
	cancelRE = regexp.MustCompile(`<a href="([^"]+)">Cancel</a>`)
)

// clickContinue submits the dialog's form for the named user, as a
// browser would, and returns the redirect location.
func (f *fixture) clickContinue(t *testing.T, page, name string) *url.URL {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		if b := buttonRE.FindStringSubmatch(m[2]); b == nil || b[1] != "Continue as "+name {
			continue
		}
		form := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			form.Set(in[1], unescapeHTML(in[2]))
		}
		resp, err := noFollow.PostForm(f.srv.URL+unescapeHTML(m[1]), form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("confirm: %d", resp.StatusCode)
		}
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	t.Fatalf("no Continue as %s button in %s", name, page)
	return nil
}

func unescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// exchangeCode calls /oauth/access_token with a code.
func (f *fixture) exchangeCode(t *testing.T, code, redirectURI, secret string) (int, []byte) {
	t.Helper()
	return f.graph(t, req{path: "/oauth/access_token", query: url.Values{
		"client_id": {f.s.AppID()}, "client_secret": {secret}, "redirect_uri": {redirectURI}, "code": {code},
	}})
}

// login goes through the dialog as the fixture's user with scope and
// returns the short-lived user token.
func (f *fixture) login(t *testing.T, scope string) string {
	t.Helper()
	st, page := f.dialogPage(t, dialogQuery(f.s.AppID(), scope))
	if st != 200 {
		t.Fatalf("dialog %d: %s", st, page)
	}
	loc := f.clickContinue(t, page, f.user.Name)
	st, b := f.exchangeCode(t, loc.Query().Get("code"), redirect, f.s.AppSecret())
	return wantOK(t, st, b)["access_token"].(string)
}

func (f *fixture) exchange(t *testing.T, short string) string {
	t.Helper()
	st, b := f.graph(t, req{path: "/oauth/access_token", query: url.Values{
		"grant_type": {"fb_exchange_token"}, "client_id": {f.s.AppID()}, "client_secret": {f.s.AppSecret()}, "fb_exchange_token": {short},
	}})
	m := wantOK(t, st, b)
	if m["expires_in"] != float64(5183944) || m["token_type"] != "bearer" {
		t.Fatalf("long-lived token response %s", b)
	}
	return m["access_token"].(string)
}

func TestLoginDialog(t *testing.T) {
	f := newFixture(t)
	f.s.AddUser("Zoë <Second>")
	st, page := f.dialogPage(t, dialogQuery(f.s.AppID(), "pages_show_list,pages_messaging"))
	if st != 200 || !strings.Contains(page, "Continue as Pat Owner") || !strings.Contains(page, "Continue as Zoë &lt;Second&gt;") {
		t.Fatalf("dialog %d: %s", st, page)
	}
	// Cancel sends the browser back with Meta's error parameters.
	m := cancelRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no Cancel link")
	}
	cancel, err := url.Parse(unescapeHTML(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if q := cancel.Query(); !strings.HasPrefix(cancel.String(), redirect+"?") || q.Get("error") != "access_denied" ||
		q.Get("error_reason") != "user_denied" || q.Get("state") != "st-123" {
		t.Fatalf("cancel link %s", cancel)
	}
	loc := f.clickContinue(t, page, "Pat Owner")
	if !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("state") != "st-123" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %s", loc)
	}
	// The dialog refuses another app and a malformed redirect URI.
	for _, q := range []url.Values{
		dialogQuery("999", "pages_show_list"),
		{"client_id": {f.s.AppID()}, "redirect_uri": {"not a url"}},
		{"client_id": {f.s.AppID()}, "redirect_uri": {redirect}, "response_type": {"token"}},
	} {
		if st, _ := f.dialogPage(t, q); st != http.StatusBadRequest {
			t.Errorf("dialog %v: %d", q, st)
		}
	}
}

func TestDialogRedirectWhitelist(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.RedirectURIs = []string{redirect} })
	if st, _ := f.dialogPage(t, dialogQuery(f.s.AppID(), "")); st != 200 {
		t.Fatalf("registered URI refused: %d", st)
	}
	q := dialogQuery(f.s.AppID(), "")
	q.Set("redirect_uri", "https://evil.test/cb")
	if st, page := f.dialogPage(t, q); st != http.StatusBadRequest || !strings.Contains(page, "URL Blocked") {
		t.Fatalf("unregistered URI: %d %s", st, page)
	}
}

func TestCodeExchange(t *testing.T) {
	f := newFixture(t)
	getCode := func() string {
		_, page := f.dialogPage(t, dialogQuery(f.s.AppID(), "pages_show_list"))
		return f.clickContinue(t, page, "Pat Owner").Query().Get("code")
	}
	code := getCode()

	st, b := f.exchangeCode(t, code, redirect, "wrong secret")
	e := wantError(t, st, b, 400, 100, 0)
	if e.Type != "OAuthException" || e.Message != "Error validating client secret." {
		t.Fatalf("wrong secret: %+v", e)
	}
	st, b = f.graph(t, req{path: "/oauth/access_token", query: url.Values{"client_id": {"42"}, "client_secret": {f.s.AppSecret()}, "redirect_uri": {redirect}, "code": {code}}})
	wantError(t, st, b, 400, 101, 0)
	st, b = f.exchangeCode(t, code, redirect+"/other", f.s.AppSecret())
	e = wantError(t, st, b, 400, 100, 36008)
	if !strings.Contains(e.Message, "redirect_uri is identical") {
		t.Fatalf("redirect mismatch: %+v", e)
	}
	st, b = f.exchangeCode(t, "AQnot-a-code", redirect, f.s.AppSecret())
	wantError(t, st, b, 400, 100, 36008)

	// The right exchange works once.
	st, b = f.exchangeCode(t, code, redirect, f.s.AppSecret())
	m := wantOK(t, st, b)
	if m["token_type"] != "bearer" || m["expires_in"] == nil {
		t.Fatalf("token response %s", b)
	}
	tok := m["access_token"].(string)
	st, b = f.graph(t, req{path: "/me", token: tok})
	if me := wantOK(t, st, b); me["id"] != f.user.ID || me["name"] != "Pat Owner" {
		t.Fatalf("me %s", b)
	}
	st, b = f.exchangeCode(t, code, redirect, f.s.AppSecret())
	wantError(t, st, b, 400, 100, 36009)

	// Codes expire.
	code = getCode()
	f.clock.Advance(10 * time.Minute)
	st, b = f.exchangeCode(t, code, redirect, f.s.AppSecret())
	wantError(t, st, b, 400, 100, 36007)

	// fb_exchange_token refuses a wrong secret and a page token.
	st, b = f.graph(t, req{path: "/oauth/access_token", query: url.Values{
		"grant_type": {"fb_exchange_token"}, "client_id": {f.s.AppID()}, "client_secret": {"nope"}, "fb_exchange_token": {tok}}})
	wantError(t, st, b, 400, 100, 0)
	st, b = f.graph(t, req{path: "/oauth/access_token", query: url.Values{
		"grant_type": {"fb_exchange_token"}, "client_id": {f.s.AppID()}, "client_secret": {f.s.AppSecret()}, "fb_exchange_token": {f.page.Token}}})
	wantError(t, st, b, 400, 100, 0)
}

// The scopes granted in the dialog limit what the tokens can do.
func TestScopes(t *testing.T) {
	f := newFixture(t)
	bare := f.login(t, "public_profile")
	if got := f.accounts(t, bare); len(got) != 0 {
		t.Fatalf("accounts without pages_show_list: %v", got)
	}
	listing := f.login(t, "pages_show_list")
	pageTok := f.accounts(t, listing)[0]["access_token"].(string)
	f.openWindow(t)
	st, b := f.graph(t, req{method: http.MethodPost, path: "/me/messages", token: pageTok, json: map[string]any{
		"recipient": map[string]any{"id": f.psid}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}}})
	wantError(t, st, b, 403, 230, 0)
	st, b = f.graph(t, req{method: http.MethodPost, path: "/me/subscribed_apps", token: pageTok, query: url.Values{"subscribed_fields": {"messages"}}})
	wantError(t, st, b, 403, 200, 0)

	full := f.login(t, "pages_show_list,pages_messaging,pages_manage_metadata")
	pageTok = f.accounts(t, full)[0]["access_token"].(string)
	st, b = f.graph(t, req{method: http.MethodPost, path: "/me/messages", token: pageTok, json: map[string]any{
		"recipient": map[string]any{"id": f.psid}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}}})
	wantOK(t, st, b)
}

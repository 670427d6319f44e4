package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// The fixtures are Meta's verified vectors (meta-platform.md §1.6), and the
// test's own signer reproduces them: every signature test below rests on
// this.
func TestFixtures(t *testing.T) {
	for _, c := range []struct {
		name, body, sig string
		size            int
	}{
		{"ascii", asciiBody, asciiSig, 239},
		{"khmer escaped", khmerEscaped, khmerEscapedSig, 523},
		{"khmer raw UTF-8", khmerRaw, khmerRawSig, 472},
	} {
		if len(c.body) != c.size {
			t.Errorf("%s: %d bytes, want %d", c.name, len(c.body), c.size)
		}
		if got := sign(c.body, appSecret); got != c.sig {
			t.Errorf("%s: signed %s, want %s", c.name, got, c.sig)
		}
	}
}

func TestRoutesArePublic(t *testing.T) {
	e := setup(t, dbtest.SQLite(t), nil)
	got := map[string]access.Policy{}
	for _, rt := range e.in.Routes() {
		got[rt.Method+" "+rt.Pattern] = rt.Policy
	}
	for _, want := range []string{"GET /webhooks/meta", "POST /webhooks/meta"} {
		if p, ok := got[want]; !ok || !p.IsPublic() {
			t.Errorf("route %s: present %v, policy %v; want a public route", want, ok, p)
		}
	}
	if len(got) != 2 {
		t.Errorf("routes = %v, want exactly the two", got)
	}
}

// Security test G-14: the subscription handshake.
func TestHandshake(t *testing.T) {
	e := setup(t, dbtest.SQLite(t), nil)
	noToken := setup(t, dbtest.SQLite(t), func(o *webhook.Options) { o.VerifyToken = "" })
	long := strings.Repeat("9", 64)
	cases := []struct {
		name   string
		target *env
		query  url.Values
		status int
		body   string
	}{
		{"meta's example", e, q("subscribe", verifyToken, "1158201444"), http.StatusOK, "1158201444"},
		{"64 digits", e, q("subscribe", verifyToken, long), http.StatusOK, long},
		{"wrong token", e, q("subscribe", "meatyhamhocks", "1158201444"), http.StatusForbidden, ""},
		{"token prefix", e, q("subscribe", "meaty", "1158201444"), http.StatusForbidden, ""},
		{"no token", e, url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1"}}, http.StatusForbidden, ""},
		{"wrong mode", e, q("unsubscribe", verifyToken, "1158201444"), http.StatusForbidden, ""},
		{"no mode", e, url.Values{"hub.verify_token": {verifyToken}, "hub.challenge": {"1"}}, http.StatusForbidden, ""},
		{"php-style names", e, url.Values{"hub_mode": {"subscribe"}, "hub_verify_token": {verifyToken}, "hub_challenge": {"1"}}, http.StatusForbidden, ""},
		{"script challenge", e, q("subscribe", verifyToken, "<script>alert(1)</script>"), http.StatusBadRequest, ""},
		{"65 digits", e, q("subscribe", verifyToken, long+"9"), http.StatusBadRequest, ""},
		{"empty challenge", e, q("subscribe", verifyToken, ""), http.StatusBadRequest, ""},
		{"signed challenge", e, q("subscribe", verifyToken, "-1"), http.StatusBadRequest, ""},
		{"no token configured, none sent", noToken, q("subscribe", "", "1158201444"), http.StatusForbidden, ""},
		{"no token configured, one sent", noToken, q("subscribe", verifyToken, "1158201444"), http.StatusForbidden, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, webhook.Path+"?"+c.query.Encode(), nil)
			w := httptest.NewRecorder()
			c.target.handler.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d (body %q)", w.Code, c.status, w.Body)
			}
			if c.status == http.StatusOK {
				if w.Body.String() != c.body {
					t.Errorf("body %q, want %q", w.Body, c.body)
				}
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type %q, want text/plain", ct)
				}
			}
			if strings.Contains(w.Body.String(), "<script>") || strings.Contains(w.Body.String(), verifyToken) {
				t.Errorf("body echoes the request: %q", w.Body)
			}
		})
	}
}

func q(mode, token, challenge string) url.Values {
	return url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}
}

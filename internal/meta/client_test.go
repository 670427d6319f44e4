package meta_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/meta"
)

const (
	appID     = "1234567890"
	appSecret = "fake_app_secret"
	pageToken = "EAAG-page-token-123"
)

// graphRequest is what the fake Graph server received.
type graphRequest struct {
	Method string
	Path   string
	Query  url.Values
	Auth   string
	Body   string
}

// fakeGraph is a minimal Graph API stand-in: it records requests and
// answers with the test's handler.
type fakeGraph struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []graphRequest
	answer func(w http.ResponseWriter, r graphRequest)
}

func newFakeGraph(t *testing.T, answer func(w http.ResponseWriter, r graphRequest)) *fakeGraph {
	t.Helper()
	g := &fakeGraph{answer: answer}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := graphRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Body: string(b)}
		g.mu.Lock()
		g.reqs = append(g.reqs, req)
		g.mu.Unlock()
		g.answer(w, req)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) requests() []graphRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]graphRequest(nil), g.reqs...)
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// client returns a meta.Client on the fake server. With HTTP nil, New builds
// its own guarded client, which must allow the configured Graph host even
// though it is loopback.
func client(g *fakeGraph, secret string) *meta.Client {
	return meta.New(meta.Options{GraphURL: g.srv.URL, Version: "v23.0", AppID: appID, AppSecret: secret})
}

func TestRequestShapes(t *testing.T) {
	proof := meta.AppSecretProof(appSecret, pageToken)
	type want struct {
		method, path string
		query        url.Values // besides appsecret_proof
		body         string     // JSON, compared semantically; "" for none
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		answer string
		call   func(c *meta.Client) (any, error)
		want   want
		result any
	}{
		{
			"send", `{"recipient_id":"PSID-1","message_id":"m_AG5Hz2U"}`,
			func(c *meta.Client) (any, error) {
				return c.Send(ctx, pageToken, map[string]any{"recipient": map[string]string{"id": "PSID-1"}, "messaging_type": "RESPONSE", "message": map[string]string{"text": "hi"}})
			},
			want{"POST", "/v23.0/me/messages", nil, `{"recipient":{"id":"PSID-1"},"messaging_type":"RESPONSE","message":{"text":"hi"}}`},
			meta.SendResponse{RecipientID: "PSID-1", MessageID: "m_AG5Hz2U"},
		},
		{
			"send with numeric ids", `{"recipient_id":10000123456789012,"message_id":"m_1"}`,
			func(c *meta.Client) (any, error) {
				return c.Send(ctx, pageToken, map[string]any{"sender_action": "typing_on"})
			},
			want{"POST", "/v23.0/me/messages", nil, `{"sender_action":"typing_on"}`},
			meta.SendResponse{RecipientID: "10000123456789012", MessageID: "m_1"},
		},
		{
			"user profile", `{"first_name":"Peter","last_name":"Chang","profile_pic":"https://cdn.example/p.jpg","locale":"en_US","id":"123"}`,
			func(c *meta.Client) (any, error) { return c.UserProfile(ctx, pageToken, "123") },
			want{"GET", "/v23.0/123", url.Values{"fields": {"first_name,last_name,profile_pic"}}, ""},
			meta.UserProfile{FirstName: "Peter", LastName: "Chang", Locale: "en_US", ProfilePic: "https://cdn.example/p.jpg"},
		},
		{
			"user profile, chosen fields, nothing shared", `{}`,
			func(c *meta.Client) (any, error) { return c.UserProfile(ctx, pageToken, "123", "first_name", "locale") },
			want{"GET", "/v23.0/123", url.Values{"fields": {"first_name,locale"}}, ""},
			meta.UserProfile{},
		},
		{
			"page", `{"id":1122334455,"name":"Cafe"}`,
			func(c *meta.Client) (any, error) { return c.Page(ctx, pageToken, "1122334455") },
			want{"GET", "/v23.0/1122334455", url.Values{"fields": {"id,name"}}, ""},
			meta.Page{ID: "1122334455", Name: "Cafe"},
		},
		{
			"me", `{"id":"1122334455","name":"Cafe"}`,
			func(c *meta.Client) (any, error) { return c.Me(ctx, pageToken) },
			want{"GET", "/v23.0/me", url.Values{"fields": {"id,name"}}, ""},
			meta.Page{ID: "1122334455", Name: "Cafe"},
		},
		{
			"subscribe app, success as a string", `{"success":"true"}`,
			func(c *meta.Client) (any, error) {
				return nil, c.SubscribeApp(ctx, pageToken, "1122334455", []string{"messages", "messaging_postbacks"})
			},
			want{"POST", "/v23.0/1122334455/subscribed_apps", url.Values{"subscribed_fields": {"messages,messaging_postbacks"}}, ""},
			nil,
		},
		{
			"subscribe app, success as a boolean", `{"success":true}`,
			func(c *meta.Client) (any, error) {
				return nil, c.SubscribeApp(ctx, pageToken, "1", []string{"messages"})
			},
			want{"POST", "/v23.0/1/subscribed_apps", url.Values{"subscribed_fields": {"messages"}}, ""},
			nil,
		},
		{
			"unsubscribe app", `{"success":true}`,
			func(c *meta.Client) (any, error) { return nil, c.UnsubscribeApp(ctx, pageToken, "1122334455") },
			want{"DELETE", "/v23.0/1122334455/subscribed_apps", nil, ""},
			nil,
		},
		{
			"set messenger profile", `{"result":"success"}`,
			func(c *meta.Client) (any, error) {
				return nil, c.SetMessengerProfile(ctx, pageToken, map[string]any{"get_started": map[string]string{"payload": "GET_STARTED"}})
			},
			want{"POST", "/v23.0/me/messenger_profile", nil, `{"get_started":{"payload":"GET_STARTED"}}`},
			nil,
		},
		{
			"delete messenger profile", `{"result":"success"}`,
			func(c *meta.Client) (any, error) {
				return nil, c.DeleteMessengerProfile(ctx, pageToken, []string{"greeting", "ice_breakers"})
			},
			want{"DELETE", "/v23.0/me/messenger_profile", nil, `{"fields":["greeting","ice_breakers"]}`},
			nil,
		},
		{
			"upload attachment", `{"attachment_id":1857777774821032}`,
			func(c *meta.Client) (any, error) {
				return c.UploadAttachment(ctx, pageToken, "image", "https://example.com/a.jpg")
			},
			want{"POST", "/v23.0/me/message_attachments", nil, `{"message":{"attachment":{"type":"image","payload":{"url":"https://example.com/a.jpg","is_reusable":true}}}}`},
			"1857777774821032",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) { reply(w, 200, tc.answer) })
			got, err := tc.call(client(g, appSecret))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.result, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			reqs := g.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests; want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tc.want.method || r.Path != tc.want.path {
				t.Errorf("request %s %s; want %s %s", r.Method, r.Path, tc.want.method, tc.want.path)
			}
			if r.Auth != "Bearer "+pageToken {
				t.Errorf("Authorization %q", r.Auth)
			}
			wantQ := url.Values{"appsecret_proof": {proof}}
			for k, v := range tc.want.query {
				wantQ[k] = v
			}
			if diff := cmp.Diff(wantQ, r.Query); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			if tc.want.body == "" {
				if r.Body != "" {
					t.Errorf("unexpected body %s", r.Body)
				}
			} else {
				var gotB, wantB any
				if err := json.Unmarshal([]byte(r.Body), &gotB); err != nil {
					t.Fatalf("body %q: %v", r.Body, err)
				}
				json.Unmarshal([]byte(tc.want.body), &wantB)
				if diff := cmp.Diff(wantB, gotB); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// Without an app secret there is no proof; the token still never appears
// in the URL.
func TestNoProofWithoutSecret(t *testing.T) {
	g := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) { reply(w, 200, `{"id":"1","name":"P"}`) })
	if _, err := client(g, "").Me(context.Background(), pageToken); err != nil {
		t.Fatal(err)
	}
	r := g.requests()[0]
	if r.Query.Has("appsecret_proof") || r.Query.Has("access_token") {
		t.Errorf("query %v", r.Query)
	}
}

func TestSubscribeRefusedByGraph(t *testing.T) {
	g := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) { reply(w, 200, `{"success":false}`) })
	c := client(g, appSecret)
	if err := c.SubscribeApp(context.Background(), pageToken, "1", []string{"messages"}); err == nil {
		t.Error("subscribe: success false accepted")
	}
	if err := c.UnsubscribeApp(context.Background(), pageToken, "1"); err == nil {
		t.Error("unsubscribe: success false accepted")
	}
}

// Node IDs go into the path: anything that could change it is refused
// before a request is made.
func TestInvalidNodeIDs(t *testing.T) {
	g := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) { reply(w, 200, `{}`) })
	c := client(g, appSecret)
	ctx := context.Background()
	for _, id := range []string{"", "..", "1/2", "me/accounts", "1?x=1", "1%2f2", strings.Repeat("1", 65)} {
		if _, err := c.UserProfile(ctx, pageToken, id); err == nil {
			t.Errorf("UserProfile(%q) accepted", id)
		}
		if _, err := c.Page(ctx, pageToken, id); err == nil {
			t.Errorf("Page(%q) accepted", id)
		}
		if err := c.SubscribeApp(ctx, pageToken, id, nil); err == nil {
			t.Errorf("SubscribeApp(%q) accepted", id)
		}
		if err := c.UnsubscribeApp(ctx, pageToken, id); err == nil {
			t.Errorf("UnsubscribeApp(%q) accepted", id)
		}
	}
	if n := len(g.requests()); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

func TestAccountsPaging(t *testing.T) {
	var g *fakeGraph
	g = newFakeGraph(t, func(w http.ResponseWriter, r graphRequest) {
		switch r.Query.Get("after") {
		case "":
			next := g.srv.URL + "/v23.0/99/accounts?access_token=" + pageToken + "&limit=100&after=C1&fields=id,name,access_token,tasks"
			reply(w, 200, `{"data":[{"id":"1","name":"One","access_token":"T1","tasks":["MANAGE","MODERATE"]},{"id":2,"name":"Two","access_token":"T2"}],
				"paging":{"cursors":{"after":"C1"},"next":`+strconv.Quote(next)+`}}`)
		case "C1":
			reply(w, 200, `{"data":[{"id":"3","name":"Three","access_token":"T3","tasks":["MESSAGING"]}],"paging":{"cursors":{"before":"C1"}}}`)
		default:
			reply(w, 400, `{"error":{"code":100,"message":"bad cursor"}}`)
		}
	})
	got, err := client(g, appSecret).Accounts(context.Background(), "USER-TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	want := []meta.PageAccount{
		{ID: "1", Name: "One", AccessToken: "T1", Tasks: []string{"MANAGE", "MODERATE"}},
		{ID: "2", Name: "Two", AccessToken: "T2"},
		{ID: "3", Name: "Three", AccessToken: "T3", Tasks: []string{"MESSAGING"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	reqs := g.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests; want 2", len(reqs))
	}
	for _, r := range reqs {
		if r.Path != "/v23.0/me/accounts" || r.Auth != "Bearer USER-TOKEN" || r.Query.Has("access_token") ||
			r.Query.Get("appsecret_proof") != meta.AppSecretProof(appSecret, "USER-TOKEN") {
			t.Errorf("request %+v", r)
		}
	}
}

func TestAccountsPagingLimits(t *testing.T) {
	t.Run("endless paging stops at 20 pages", func(t *testing.T) {
		var g *fakeGraph
		g = newFakeGraph(t, func(w http.ResponseWriter, r graphRequest) {
			n, _ := strconv.Atoi(r.Query.Get("after"))
			next := fmt.Sprintf("%s/v23.0/me/accounts?after=%d", g.srv.URL, n+1)
			reply(w, 200, fmt.Sprintf(`{"data":[{"id":"%d","name":"P","access_token":"T"}],"paging":{"next":%q}}`, n+1, next))
		})
		got, err := client(g, appSecret).Accounts(context.Background(), "USER-TOKEN")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 20 || len(g.requests()) != 20 {
			t.Errorf("%d accounts in %d requests; want 20 in 20", len(got), len(g.requests()))
		}
	})
	t.Run("a link to another host is not followed", func(t *testing.T) {
		other := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) { reply(w, 200, `{"data":[]}`) })
		g := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) {
			reply(w, 200, `{"data":[{"id":"1","name":"P","access_token":"T"}],"paging":{"next":"`+other.srv.URL+`/v23.0/me/accounts?after=x"}}`)
		})
		if _, err := client(g, appSecret).Accounts(context.Background(), "USER-TOKEN"); err == nil {
			t.Error("no error")
		}
		if n := len(other.requests()); n != 0 {
			t.Errorf("the other host got %d requests", n)
		}
	})
}

func TestGraphErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   meta.Error
	}{
		{"190 token", 400, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"BLBz/WZt8dN"}}`,
			meta.Error{HTTPStatus: 400, Code: 190, Subcode: 460, Type: "OAuthException", Message: "Invalid OAuth access token.", FBTraceID: "BLBz/WZt8dN"}},
		{"10/2018278 window", 400, `{"error":{"message":"This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"A1"}}`,
			meta.Error{HTTPStatus: 400, Code: 10, Subcode: 2018278, Type: "OAuthException", Message: "This message is sent outside of allowed window.", FBTraceID: "A1"}},
		{"551/1545041 unavailable", 400, `{"error":{"message":"This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041,"fbtrace_id":"A2"}}`,
			meta.Error{HTTPStatus: 400, Code: 551, Subcode: 1545041, Type: "OAuthException", Message: "This person isn't available right now.", FBTraceID: "A2"}},
		{"613 rate limit", 400, `{"error":{"message":"Calls to this API have exceeded the rate limit.","type":"OAuthException","code":613,"is_transient":true}}`,
			meta.Error{HTTPStatus: 400, Code: 613, Type: "OAuthException", Message: "Calls to this API have exceeded the rate limit.", Transient: true}},
		{"100 invalid parameter", 400, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"error_subcode":2018001}}`,
			meta.Error{HTTPStatus: 400, Code: 100, Subcode: 2018001, Type: "OAuthException", Message: "(#100) Invalid parameter"}},
		{"2 unexpected, transient", 500, `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"A3"}}`,
			meta.Error{HTTPStatus: 500, Code: 2, Type: "OAuthException", Message: "An unexpected error has occurred. Please retry your request later.", FBTraceID: "A3", Transient: true}},
		{"4 app rate limit", 403, `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"is_transient":true}}`,
			meta.Error{HTTPStatus: 403, Code: 4, Type: "OAuthException", Message: "(#4) Application request limit reached", Transient: true}},
		{"1200 temporary send failure", 500, `{"error":{"message":"Temporary send message failure. Please try again later.","type":"OAuthException","code":1200}}`,
			meta.Error{HTTPStatus: 500, Code: 1200, Type: "OAuthException", Message: "Temporary send message failure. Please try again later."}},
		{"codes as strings", 400, `{"error":{"message":"m","code":"190","error_subcode":"463"}}`,
			meta.Error{HTTPStatus: 400, Code: 190, Subcode: 463, Message: "m"}},
		{"not a graph body", 502, `<html>Bad Gateway</html>`,
			meta.Error{HTTPStatus: 502, Message: "Bad Gateway"}},
		{"empty body", 503, ``,
			meta.Error{HTTPStatus: 503, Message: "Service Unavailable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) { reply(w, tc.status, tc.body) })
			_, err := client(g, appSecret).Send(context.Background(), pageToken, map[string]string{})
			var ge *meta.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v (%T); want *meta.Error", err, err)
			}
			if diff := cmp.Diff(tc.want, *ge); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			var ne *meta.NetError
			if errors.As(err, &ne) {
				t.Error("a Graph error is also a NetError")
			}
		})
	}
}

func TestBadSuccessBodies(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"not json", `<html>ok</html>`},
		{"upload without id", `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) { reply(w, 200, tc.body) })
			if _, err := client(g, appSecret).UploadAttachment(context.Background(), pageToken, "image", "https://x.example/a.png"); err == nil {
				t.Error("no error")
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		g := newFakeGraph(t, func(w http.ResponseWriter, _ graphRequest) {
			reply(w, 200, `{"id":"1","name":"`+strings.Repeat("x", 2<<20)+`"}`)
		})
		_, err := client(g, appSecret).Me(context.Background(), pageToken)
		if err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("got %v; want a too-large error", err)
		}
	})
}

func loopbackClient(timeout time.Duration) *http.Client {
	return httpx.NewClient(httpx.ClientOptions{Timeout: timeout, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

// closedURL is a local address where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// hangingGraph reads each request whole and then never answers, until the
// test ends.
func hangingGraph(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: frees the handlers so Close returns
	return srv
}

func TestNetErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("connection refused: not sent", func(t *testing.T) {
		c := meta.New(meta.Options{GraphURL: closedURL(t), AppSecret: appSecret, HTTP: loopbackClient(5 * time.Second)})
		_, err := c.Send(ctx, pageToken, map[string]string{"a": "b"})
		var ne *meta.NetError
		if !errors.As(err, &ne) {
			t.Fatalf("error %v (%T); want *meta.NetError", err, err)
		}
		if ne.WroteRequest || ne.Timeout || ne.Op != "send" {
			t.Errorf("got %+v; want send, not written, no timeout", ne)
		}
	})
	t.Run("server hangs after reading: sent, timeout", func(t *testing.T) {
		srv := hangingGraph(t)
		c := meta.New(meta.Options{GraphURL: srv.URL, AppSecret: appSecret, HTTP: loopbackClient(300 * time.Millisecond)})
		_, err := c.Send(ctx, pageToken, map[string]string{"a": "b"})
		var ne *meta.NetError
		if !errors.As(err, &ne) {
			t.Fatalf("error %v (%T); want *meta.NetError", err, err)
		}
		if !ne.WroteRequest || !ne.Timeout {
			t.Errorf("got %+v; want written, timeout", ne)
		}
	})
	t.Run("context deadline: sent, timeout", func(t *testing.T) {
		srv := hangingGraph(t)
		c := meta.New(meta.Options{GraphURL: srv.URL, AppSecret: appSecret, HTTP: loopbackClient(time.Minute)})
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := c.Me(cctx, pageToken)
		var ne *meta.NetError
		if !errors.As(err, &ne) || !ne.WroteRequest || !ne.Timeout {
			t.Fatalf("got %v; want a written timeout", err)
		}
	})
	t.Run("blocked destination: not sent", func(t *testing.T) {
		srv := hangingGraph(t)
		// A guarded client that does not allow loopback.
		c := meta.New(meta.Options{GraphURL: srv.URL, HTTP: httpx.NewClient(httpx.ClientOptions{})})
		_, err := c.Me(ctx, pageToken)
		var ne *meta.NetError
		if !errors.As(err, &ne) || ne.WroteRequest || !errors.Is(err, httpx.ErrBlocked) {
			t.Fatalf("got %v; want a NetError wrapping ErrBlocked", err)
		}
	})
}

// Security §3.L L-2: whatever fails, no error carries the token, the proof,
// the app secret or the login code, in any usual encoding.
func TestErrorsNeverCarrySecrets(t *testing.T) {
	const (
		token  = "EAAG-CANARY-page/token+42=="
		secret = "CANARY-app-secret"
		code   = "CANARY-login-code"
	)
	proof := meta.AppSecretProof(secret, token)
	canaries := []string{token, url.QueryEscape(token), proof, secret, code}
	// echo answers with everything the request carried.
	echo := func(w http.ResponseWriter, r *http.Request) {
		msg := r.URL.String() + " " + r.Header.Get("Authorization")
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": msg, "code": 1, "fbtrace_id": msg}})
		w.WriteHeader(500)
		w.Write(b)
	}
	echoSrv := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(echoSrv.Close)
	hang := hangingGraph(t)

	clients := map[string]*meta.Client{
		"refused": meta.New(meta.Options{GraphURL: closedURL(t), AppID: appID, AppSecret: secret, HTTP: loopbackClient(5 * time.Second)}),
		"timeout": meta.New(meta.Options{GraphURL: hang.URL, AppID: appID, AppSecret: secret, HTTP: loopbackClient(200 * time.Millisecond)}),
		"echo":    meta.New(meta.Options{GraphURL: echoSrv.URL, AppID: appID, AppSecret: secret}),
		"blocked": meta.New(meta.Options{GraphURL: echoSrv.URL, AppID: appID, AppSecret: secret, HTTP: httpx.NewClient(httpx.ClientOptions{})}),
		"bad url": meta.New(meta.Options{GraphURL: "http://[::1", AppID: appID, AppSecret: secret}),
	}
	ctx := context.Background()
	calls := map[string]func(c *meta.Client) error{
		"send":     func(c *meta.Client) error { _, err := c.Send(ctx, token, map[string]string{}); return err },
		"accounts": func(c *meta.Client) error { _, err := c.Accounts(ctx, token); return err },
		"code": func(c *meta.Client) error {
			_, err := c.ExchangeCode(ctx, code, "https://parley.example/cb")
			return err
		},
		"long": func(c *meta.Client) error { _, err := c.ExchangeLongLived(ctx, token); return err },
	}
	for cn, c := range clients {
		for name, call := range calls {
			err := call(c)
			if err == nil {
				t.Fatalf("%s/%s: no error", cn, name)
			}
			var ge *meta.Error
			errors.As(err, &ge)
			for _, form := range []string{fmt.Sprint(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%#v", ge)} {
				for _, canary := range canaries {
					if strings.Contains(form, canary) {
						t.Errorf("%s/%s: error leaks %q: %s", cn, name, canary, form)
					}
				}
			}
		}
	}
}

func TestLogin(t *testing.T) {
	var g *fakeGraph
	g = newFakeGraph(t, func(w http.ResponseWriter, r graphRequest) {
		switch {
		case r.Query.Get("code") == "good-code":
			reply(w, 200, `{"access_token":"SHORT","token_type":"bearer","expires_in":5183}`)
		case r.Query.Get("fb_exchange_token") == "SHORT":
			reply(w, 200, `{"access_token":"LONG","token_type":"bearer","expires_in":5183944}`)
		default:
			reply(w, 400, `{"error":{"message":"Invalid verification code format.","type":"OAuthException","code":100}}`)
		}
	})
	c := meta.New(meta.Options{GraphURL: g.srv.URL, DialogURL: "https://dialog.example/", AppID: appID, AppSecret: appSecret})
	ctx := context.Background()

	dlg, err := url.Parse(c.DialogURL("https://parley.example/channels/messenger/callback", "st.ate", []string{"pages_show_list", "pages_messaging"}))
	if err != nil {
		t.Fatal(err)
	}
	wantQ := url.Values{"client_id": {appID}, "redirect_uri": {"https://parley.example/channels/messenger/callback"}, "state": {"st.ate"},
		"scope": {"pages_show_list,pages_messaging"}, "response_type": {"code"}}
	if dlg.Scheme+"://"+dlg.Host+dlg.Path != "https://dialog.example/v23.0/dialog/oauth" {
		t.Errorf("dialog %s", dlg)
	}
	if diff := cmp.Diff(wantQ, dlg.Query()); diff != "" {
		t.Errorf("dialog query (-want +got):\n%s", diff)
	}

	short, err := c.ExchangeCode(ctx, "good-code", "https://parley.example/cb")
	if err != nil || short != (meta.Token{AccessToken: "SHORT", TokenType: "bearer", ExpiresIn: 5183}) {
		t.Fatalf("exchange code: %+v, %v", short, err)
	}
	long, err := c.ExchangeLongLived(ctx, short.AccessToken)
	if err != nil || long.AccessToken != "LONG" || long.ExpiresIn != 5183944 {
		t.Fatalf("long-lived: %+v, %v", long, err)
	}
	reqs := g.requests()
	if diff := cmp.Diff(url.Values{"client_id": {appID}, "redirect_uri": {"https://parley.example/cb"}, "client_secret": {appSecret}, "code": {"good-code"}}, reqs[0].Query); diff != "" {
		t.Errorf("code exchange query (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(url.Values{"grant_type": {"fb_exchange_token"}, "client_id": {appID}, "client_secret": {appSecret}, "fb_exchange_token": {"SHORT"}}, reqs[1].Query); diff != "" {
		t.Errorf("long-lived exchange query (-want +got):\n%s", diff)
	}
	for _, r := range reqs {
		if r.Method != "GET" || r.Path != "/v23.0/oauth/access_token" || r.Auth != "" {
			t.Errorf("request %+v", r)
		}
	}
	if _, err := c.ExchangeCode(ctx, "bad", "https://parley.example/cb"); err == nil {
		t.Error("bad code accepted")
	}
	noSecret := meta.New(meta.Options{GraphURL: g.srv.URL, AppID: appID})
	if _, err := noSecret.ExchangeCode(ctx, "good-code", "https://parley.example/cb"); err == nil {
		t.Error("exchange without an app secret")
	}
}

package connect_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const (
	appID       = "4242"
	appSecret   = "connect-test-app-secret"
	redirectURL = "https://parley.example/channels/messenger/callback"
)

// graphCall is one request the fake Graph received.
type graphCall struct {
	Method, Path string // path without the version
	Query        url.Values
	Token        string
	Body         string
}

// fakePage is a Facebook Page in the fake Graph.
type fakePage struct {
	ID, Name, Token string
}

// fakeGraph is a small stateful stand-in for the Graph API: Pages with
// tokens, a Facebook Login user, subscriptions and Messenger profiles. It
// answers 190 for any token it does not know.
type fakeGraph struct {
	srv *httptest.Server

	mu    sync.Mutex
	calls []graphCall
	pages map[string]*fakePage
	// Facebook Login: code → short token → long token → the user's Pages.
	codes     map[string]string
	shorts    map[string]string
	userPages map[string][]string
	// subscribed holds each Page's subscribed fields (absent: none).
	subscribed map[string][]string
	// profiles holds each Page's Messenger profile properties.
	profiles map[string]map[string]json.RawMessage
	// refuse makes these paths answer a Graph error with this code.
	refuse map[string]int
}

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	g := &fakeGraph{
		pages: map[string]*fakePage{
			"1001": {"1001", "Cafe Lotus", "EAAG-PAGE-1001-secret"},
			"1002": {"1002", "Bakery", "EAAG-PAGE-1002-secret"},
			"1003": {"1003", "Books", "EAAG-PAGE-1003-secret"},
		},
		codes:      map[string]string{"code-1": "EAAG-SHORT-user-secret"},
		shorts:     map[string]string{"EAAG-SHORT-user-secret": "EAAG-LONG-user-secret"},
		userPages:  map[string][]string{"EAAG-LONG-user-secret": {"1001", "1002", "1003"}},
		subscribed: map[string][]string{},
		profiles:   map[string]map[string]json.RawMessage{},
		refuse:     map[string]int{},
	}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func graphError(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "T"}})
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c := graphCall{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/v23.0"), Query: r.URL.Query(),
		Token: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), Body: string(b)}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, c)
	w.Header().Set("Content-Type", "application/json")
	if code, ok := g.refuse[c.Path]; ok {
		graphError(w, 400, code, "refused by the test")
		return
	}
	page := g.pageByToken(c.Token)
	write := func(v any) { json.NewEncoder(w).Encode(v) }
	switch {
	case c.Path == "/oauth/access_token":
		if c.Query.Get("client_id") != appID || c.Query.Get("client_secret") != appSecret {
			graphError(w, 400, 1, "bad client")
		} else if short, ok := g.codes[c.Query.Get("code")]; ok && c.Query.Get("redirect_uri") == redirectURL {
			write(map[string]any{"access_token": short, "token_type": "bearer", "expires_in": 5183})
		} else if long, ok := g.shorts[c.Query.Get("fb_exchange_token")]; ok {
			write(map[string]any{"access_token": long, "token_type": "bearer", "expires_in": 5183944})
		} else {
			graphError(w, 400, 100, "Invalid verification code format.")
		}
	case c.Path == "/me" && page != nil:
		write(map[string]string{"id": page.ID, "name": page.Name})
	case c.Path == "/me" && g.userPages[c.Token] != nil:
		write(map[string]string{"id": "777", "name": "A Person"})
	case c.Path == "/me/accounts" && g.userPages[c.Token] != nil:
		var data []map[string]any
		for _, id := range g.userPages[c.Token] {
			p := g.pages[id]
			data = append(data, map[string]any{"id": p.ID, "name": p.Name, "access_token": p.Token, "tasks": []string{"MANAGE", "MODERATE", "MESSAGING"}})
		}
		write(map[string]any{"data": data})
	case strings.HasSuffix(c.Path, "/subscribed_apps") && page != nil && "/"+page.ID+"/subscribed_apps" == c.Path:
		if c.Method == http.MethodDelete {
			delete(g.subscribed, page.ID)
		} else {
			g.subscribed[page.ID] = strings.Split(c.Query.Get("subscribed_fields"), ",")
		}
		write(map[string]any{"success": true})
	case c.Path == "/me/messenger_profile" && page != nil:
		prof := g.profiles[page.ID]
		if prof == nil {
			prof = map[string]json.RawMessage{}
			g.profiles[page.ID] = prof
		}
		if c.Method == http.MethodDelete {
			var del struct{ Fields []string }
			json.Unmarshal(b, &del)
			for _, f := range del.Fields {
				delete(prof, f)
			}
		} else {
			var set map[string]json.RawMessage
			json.Unmarshal(b, &set)
			for k, v := range set {
				prof[k] = v
			}
		}
		write(map[string]string{"result": "success"})
	default:
		graphError(w, 400, 190, "Invalid OAuth access token.")
	}
}

func (g *fakeGraph) pageByToken(tok string) *fakePage {
	for _, p := range g.pages {
		if tok != "" && p.Token == tok {
			return p
		}
	}
	return nil
}

// rotate gives the Page a new token; the old one dies.
func (g *fakeGraph) rotate(pageID, token string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pages[pageID].Token = token
}

func (g *fakeGraph) token(pageID string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pages[pageID].Token
}

func (g *fakeGraph) setRefuse(path string, code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refuse[path] = code
}

func (g *fakeGraph) subscription(pageID string) ([]string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok := g.subscribed[pageID]
	return f, ok
}

func (g *fakeGraph) profile(pageID string) map[string]json.RawMessage {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]json.RawMessage{}
	for k, v := range g.profiles[pageID] {
		out[k] = v
	}
	return out
}

// callsTo returns the calls made to a path (any method when method is "").
func (g *fakeGraph) callsTo(method, path string) []graphCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []graphCall
	for _, c := range g.calls {
		if c.Path == path && (method == "" || c.Method == method) {
			out = append(out, c)
		}
	}
	return out
}

func (g *fakeGraph) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

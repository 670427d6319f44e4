package metasim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTokenErrors(t *testing.T) {
	f := newFixture(t)

	t.Run("missing token", func(t *testing.T) {
		st, b := f.graph(t, req{path: "/me"})
		e := wantError(t, st, b, 400, 2500, 0)
		if e.Message != "An active access token must be used to query information about the current user." || e.Type != "OAuthException" {
			t.Fatalf("error %+v", e)
		}
		// Meta's body: exactly message, type, code, fbtrace_id (no subcode when there is none).
		var raw map[string]map[string]any
		json.Unmarshal(b, &raw)
		if len(raw["error"]) != 4 {
			t.Fatalf("body %s", b)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		st, b := f.graph(t, req{path: "/me", token: "EAAnot-a-token"})
		e := wantError(t, st, b, 400, 190, 0)
		if e.Type != "OAuthException" {
			t.Fatalf("type %q", e.Type)
		}
	})
	t.Run("invalidated token", func(t *testing.T) {
		tok := f.s.UserToken(f.user.ID)
		st, b := f.graph(t, req{path: "/me", token: tok})
		wantOK(t, st, b)
		f.s.InvalidateToken(tok)
		st, b = f.graph(t, req{path: "/me", token: tok})
		wantError(t, st, b, 400, 190, 460)
	})
	t.Run("expired token", func(t *testing.T) {
		tok := f.s.UserToken(f.user.ID)
		f.s.ExpireToken(tok)
		st, b := f.graph(t, req{path: "/me", token: tok})
		e := wantError(t, st, b, 400, 190, 463)
		if !strings.Contains(e.Message, "Session has expired") {
			t.Fatalf("message %q", e.Message)
		}
	})
	t.Run("invalidated page token stops sends", func(t *testing.T) {
		pg := f.s.AddPage(f.user.ID, "Doomed")
		psid := f.s.AddPerson(pg.ID, Person{FirstName: "D"})
		if _, _, err := f.s.SendText(ctx(t), pg.ID, psid, "hi"); err != nil {
			t.Fatal(err)
		}
		f.s.InvalidateToken(pg.Token)
		st, b := f.graph(t, req{method: http.MethodPost, path: "/me/messages", token: pg.Token,
			json: map[string]any{"recipient": map[string]any{"id": psid}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}}})
		wantError(t, st, b, 400, 190, 460)
		if len(f.s.Sent(pg.ID)) != 0 {
			t.Fatal("sent with a dead token")
		}
	})
}

func TestAppSecretProof(t *testing.T) {
	f := newFixture(t)
	tok := f.page.Token

	st, b := f.graph(t, req{path: "/me", token: tok, noProof: true})
	e := wantError(t, st, b, 400, 100, 0)
	if e.Message != "API calls from the server require an appsecret_proof argument" || e.Type != "GraphMethodException" {
		t.Fatalf("missing proof: %+v", e)
	}
	st, b = f.graph(t, req{path: "/me", token: tok, proof: AppSecretProof("other secret", tok)})
	e = wantError(t, st, b, 400, 100, 0)
	if e.Message != "Invalid appsecret_proof provided in the API argument" {
		t.Fatalf("wrong proof: %+v", e)
	}
	st, b = f.graph(t, req{path: "/me", token: tok, proof: "zz-not-hex"})
	wantError(t, st, b, 400, 100, 0)
	// Upper-case hex is the same proof.
	st, b = f.graph(t, req{path: "/me", token: tok, proof: strings.ToUpper(AppSecretProof("test_app_secret", tok))})
	wantOK(t, st, b)

	calls := f.s.Calls()
	if calls[0].ProofOK || !calls[len(calls)-1].ProofOK {
		t.Fatalf("ProofOK not recorded: %+v / %+v", calls[0], calls[len(calls)-1])
	}

	t.Run("NoProof", func(t *testing.T) {
		g := newFixture(t, func(o *Options) { o.NoProof = true })
		st, b := g.graph(t, req{path: "/me", token: g.page.Token, noProof: true})
		wantOK(t, st, b)
		// A wrong proof is refused even when proofs are optional.
		st, b = g.graph(t, req{path: "/me", token: g.page.Token, proof: AppSecretProof("nope", g.page.Token)})
		wantError(t, st, b, 400, 100, 0)
	})
}

func TestTokenSources(t *testing.T) {
	f := newFixture(t)
	f.graph(t, req{path: "/me", token: f.page.Token})
	f.graph(t, req{path: "/me", token: f.page.Token, inQuery: true})
	calls := f.s.Calls()
	if calls[0].TokenSource != "header" || calls[0].Query.Has("access_token") {
		t.Fatalf("header call %+v", calls[0])
	}
	if calls[1].TokenSource != "query" || calls[1].Query.Get("access_token") != f.page.Token {
		t.Fatalf("query call %+v", calls[1])
	}
	for _, c := range calls {
		if c.Status != 200 || c.PageID != f.page.ID || c.Method != http.MethodGet || c.Path != "/v23.0/me" {
			t.Fatalf("call %+v", c)
		}
	}
}

// Short-lived tokens die on the injected clock; the page tokens they
// yield die with them, while a long-lived token's page tokens never do.
func TestTokenLifetimes(t *testing.T) {
	f := newFixture(t)
	short := f.login(t, "pages_show_list,pages_messaging")
	pageTok := f.accounts(t, short)[0]["access_token"].(string)
	long := f.exchange(t, short)
	longPageTok := f.accounts(t, long)[0]["access_token"].(string)

	f.clock.Advance(2*time.Hour + time.Second)
	for _, tok := range []string{short, pageTok} {
		st, b := f.graph(t, req{path: "/me", token: tok})
		wantError(t, st, b, 400, 190, 463)
	}
	f.clock.Advance(30 * 24 * time.Hour)
	for _, tok := range []string{long, longPageTok} {
		st, b := f.graph(t, req{path: "/me", token: tok})
		wantOK(t, st, b)
	}
	f.clock.Advance(31 * 24 * time.Hour)
	st, b := f.graph(t, req{path: "/me", token: long})
	wantError(t, st, b, 400, 190, 463)
	st, b = f.graph(t, req{path: "/me", token: longPageTok})
	wantOK(t, st, b)
}

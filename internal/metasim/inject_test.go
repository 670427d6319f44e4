package metasim

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInjectError(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	other := f.s.AddPage(f.user.ID, "Other")
	otherPSID := f.s.AddPerson(other.ID, Person{})
	if _, _, err := f.s.SendText(ctx(t), other.ID, otherPSID, "hi"); err != nil {
		t.Fatal(err)
	}
	f.s.InjectError(ErrorRule{Path: "/messages", PageID: f.page.ID, Code: 2, Times: 2})
	f.s.InjectError(ErrorRule{Path: "/subscribed_apps", Status: 429, Code: 4, Message: "slow down"})

	for range 2 {
		st, b := f.send(t, text("x"))
		e := wantError(t, st, b, 500, 2, 0)
		if !strings.Contains(string(b), `"is_transient":true`) || e.Message == "" {
			t.Fatalf("injected: %s", b)
		}
	}
	// Another page is not affected; the rule is used up after two calls.
	st, b := f.graph(t, req{method: http.MethodPost, path: "/me/messages", token: other.Token, json: map[string]any{
		"recipient": map[string]any{"id": otherPSID}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}}})
	wantOK(t, st, b)
	st, b = f.send(t, text("x"))
	wantOK(t, st, b)
	if n := len(f.s.Sent(f.page.ID)); n != 1 {
		t.Fatalf("failed calls were sent: %d", n)
	}

	st, b = f.graph(t, req{path: "/me/subscribed_apps", token: f.page.Token})
	if e := wantError(t, st, b, 429, 4, 0); e.Message != "slow down" {
		t.Fatalf("message %q", e.Message)
	}
	st, b = f.graph(t, req{path: "/me/subscribed_apps", token: f.page.Token})
	wantError(t, st, b, 429, 4, 0) // Times 0: forever

	// Authentication comes first: a bad token is a 190 even under a rule.
	st, b = f.graph(t, req{path: "/me/subscribed_apps", token: "EAAbad"})
	wantError(t, st, b, 400, 190, 0)

	f.s.Reset()
	st, b = f.graph(t, req{path: "/me/subscribed_apps", token: f.page.Token})
	wantOK(t, st, b)

	// Injected token errors and send errors by code.
	f.s.InjectError(ErrorRule{Path: "/messages", Code: 190, Subcode: 460, Times: 1})
	f.s.InjectError(ErrorRule{Path: "/messages", Code: 551, Subcode: 1545041, Times: 1})
	st, b = f.send(t, text("x"))
	wantError(t, st, b, 400, 190, 460)
	st, b = f.send(t, text("x"))
	wantError(t, st, b, 400, 551, 1545041)
}

// Latency holds answers, not the server: N concurrent calls are all in
// flight at once. A serialising simulator would never reach N.
func TestLatencyRunsInParallel(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.NoEchoes = true })
	f.openWindow(t)
	f.s.SetLatency("/messages", time.Hour)
	const n = 8
	callCtx, cancel := context.WithCancel(context.Background())
	defer cancel() // on failure too: held handlers end with their clients
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := http.NewRequestWithContext(callCtx, http.MethodPost,
				f.srv.URL+"/v23.0/me/messages?appsecret_proof="+AppSecretProof(f.s.AppSecret(), f.page.Token),
				strings.NewReader(`{"recipient":{"id":"`+f.psid+`"},"messaging_type":"RESPONSE","message":{"text":"slow"}}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+f.page.Token)
			resp, err := http.DefaultClient.Do(r)
			if err == nil {
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	if err := f.s.WaitHeld(ctx(t), n); err != nil {
		t.Fatalf("only %d calls held at once: %v", f.s.Held(), err)
	}
	// They were processed before their answers were held.
	if got := len(f.s.Sent(f.page.ID)); got != n {
		t.Fatalf("sent %d, want %d", got, n)
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil {
			t.Fatal("a held call answered before its latency")
		}
	}
	// Other paths are not delayed, and 0 removes the latency.
	f.s.SetLatency("/messages", 0)
	st, b := f.send(t, text("fast"))
	wantOK(t, st, b)
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	f.s.SetRateLimit(3)
	for range 3 {
		st, b := f.send(t, text("x"))
		wantOK(t, st, b)
	}
	st, b := f.send(t, text("x"))
	e := wantError(t, st, b, 400, 613, 0)
	if e.Message != "(#613) Calls to this API have exceeded the rate limit." {
		t.Fatalf("message %q", e.Message)
	}
	// Other calls are not counted; the next second has a fresh budget.
	st, b = f.graph(t, req{path: "/me", token: f.page.Token})
	wantOK(t, st, b)
	f.clock.Advance(time.Second)
	st, b = f.send(t, text("x"))
	wantOK(t, st, b)
	f.s.Reset()
	for range 10 {
		st, b := f.send(t, text("x"))
		wantOK(t, st, b)
	}
}

package metasim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

// clock is a settable test clock.
type clock = fakeclock.Clock

func newClock() *clock { return fakeclock.New(time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)) }

// delivery is one request a receiver got.
type delivery struct {
	method string
	query  url.Values
	header http.Header
	body   []byte
}

// receiver stands in for Parley's webhook endpoint.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []delivery
	ch  chan struct{} // closed and replaced on every delivery
	// status decides the answer to the n-th POST (0-based); default 200.
	status func(n int) int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{ch: make(chan struct{})}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, delivery{method: r.Method, query: r.URL.Query(), header: r.Header.Clone(), body: b})
		st := http.StatusOK
		if rc.status != nil {
			st = rc.status(n)
		}
		close(rc.ch)
		rc.ch = make(chan struct{})
		rc.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setStatus(fn func(n int) int) {
	rc.mu.Lock()
	rc.status = fn
	rc.mu.Unlock()
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// wait blocks until the receiver has n deliveries.
func (rc *receiver) wait(t *testing.T, n int) []delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		rc.mu.Lock()
		if len(rc.got) >= n {
			out := append([]delivery(nil), rc.got...)
			rc.mu.Unlock()
			return out
		}
		ch := rc.ch
		rc.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("receiver: want %d deliveries, got %d", n, len(rc.deliveries()))
		}
	}
}

// fixture is a simulator served over HTTP with one user, page and person.
type fixture struct {
	s     *Sim
	srv   *httptest.Server
	clock *clock
	rc    *receiver
	user  User
	page  Page
	psid  string
}

func newFixture(t *testing.T, mod ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), rc: newReceiver(t)}
	o := Options{
		AppID: "1517776481860111", AppSecret: "test_app_secret", Now: f.clock.Now,
		WebhookURL:  f.rc.srv.URL + "/webhooks/meta",
		RetryDelays: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond},
	}
	for _, m := range mod {
		m(&o)
	}
	f.s = New(o)
	t.Cleanup(f.s.Close)
	f.srv = httptest.NewServer(f.s.Handler())
	t.Cleanup(f.srv.Close)
	f.user = f.s.AddUser("Pat Owner")
	f.page = f.s.AddPage(f.user.ID, "Coast Clothing")
	f.psid = f.s.AddPerson(f.page.ID, Person{FirstName: "Peter", LastName: "Chang", Locale: "en_US"})
	return f
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// req describes a Graph call.
type req struct {
	method  string
	path    string // after the version, e.g. "/me/messages"
	token   string
	query   url.Values
	json    any
	form    url.Values
	noProof bool   // leave appsecret_proof out
	proof   string // use this proof instead of the right one
	inQuery bool   // send the token as ?access_token= instead of the header
}

// graph performs a Graph call and returns the status and body.
func (f *fixture) graph(t *testing.T, r req) (int, []byte) {
	t.Helper()
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if r.token != "" && r.inQuery {
		q.Set("access_token", r.token)
	}
	if r.token != "" && !r.noProof {
		p := r.proof
		if p == "" {
			p = AppSecretProof(f.s.AppSecret(), r.token)
		}
		q.Set("appsecret_proof", p)
	}
	u := f.srv.URL + "/v23.0" + r.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	ct := ""
	switch {
	case r.json != nil:
		var b []byte
		if raw, ok := r.json.(string); ok {
			b = []byte(raw)
		} else {
			b, _ = json.Marshal(r.json)
		}
		body, ct = bytes.NewReader(b), "application/json"
	case r.form != nil:
		body, ct = strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded"
	}
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx(t), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.token != "" && !r.inQuery {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// graphError is a decoded Graph error body.
type graphError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	FBTraceID string `json:"fbtrace_id"`
}

func decodeError(t *testing.T, body []byte) graphError {
	t.Helper()
	var e struct {
		Error *graphError `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil {
		t.Fatalf("want a Graph error body, got %s", body)
	}
	if e.Error.FBTraceID == "" || e.Error.Type == "" || e.Error.Message == "" {
		t.Fatalf("incomplete Graph error body: %s", body)
	}
	return *e.Error
}

// wantError checks a call failed with the HTTP status, code and subcode.
func wantError(t *testing.T, status int, body []byte, wantStatus, code, subcode int) graphError {
	t.Helper()
	e := decodeError(t, body)
	if status != wantStatus || e.Code != code || e.Subcode != subcode {
		t.Fatalf("want HTTP %d code %d/%d, got HTTP %d %s", wantStatus, code, subcode, status, body)
	}
	return e
}

func wantOK(t *testing.T, status int, body []byte) map[string]any {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("want 200, got %d %s", status, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return m
}

// send calls the Send API for the fixture's page and person.
func (f *fixture) send(t *testing.T, body map[string]any) (int, []byte) {
	t.Helper()
	if _, ok := body["recipient"]; !ok {
		body["recipient"] = map[string]string{"id": f.psid}
	}
	return f.graph(t, req{method: http.MethodPost, path: "/me/messages", token: f.page.Token, json: body})
}

// text is a RESPONSE text message body.
func text(s string) map[string]any {
	return map[string]any{"messaging_type": "RESPONSE", "message": map[string]any{"text": s}}
}

// openWindow plays the person writing to the page now.
func (f *fixture) openWindow(t *testing.T) {
	t.Helper()
	if _, st, err := f.s.SendText(ctx(t), f.page.ID, f.psid, "hi"); err != nil || st != 200 {
		t.Fatalf("open window: %d %v", st, err)
	}
}

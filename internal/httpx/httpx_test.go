package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/httpx"
)

func TestRealIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer's header is ignored", "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"trusted proxy: client from the header", "10.0.0.5:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"right-most untrusted hop wins over a forged left one", "10.0.0.5:4000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"separate header lines are joined (the proxy's line is last)", "10.0.0.5:4000", []string{"6.6.6.6", "198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", "10.0.0.5:4000", []string{"198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{"garbage stops the walk", "10.0.0.5:4000", []string{"not-an-ip"}, "10.0.0.5"},
		{"IPv4-mapped IPv6 peer", "[::ffff:203.0.113.9]:1", nil, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got netip.Addr
			h := httpx.RealIP(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = httpx.ClientIP(r.Context()) }))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got.String() != tc.want {
				t.Fatalf("client = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := httpx.NewLimiter(3, time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, retry := l.Allow("k")
	if ok || retry != 60 {
		t.Fatalf("4th attempt: ok=%v retry=%d", ok, retry)
	}
	if b, _ := l.Blocked("k"); !b {
		t.Fatal("not blocked at the limit")
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("keys are not independent")
	}
	l.Refund("k")
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("refund did not give one attempt back")
	}
	now = now.Add(61 * time.Second)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("window did not end")
	}
	l.Reset("k")
	l.Refund("nothing") // no panic, no effect
}

// Counting is atomic: however many goroutines try at once, exactly Limit
// get through.
func TestLimiterUnderContention(t *testing.T) {
	l := httpx.NewLimiter(10, time.Minute, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := l.Allow("k"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 10 {
		t.Fatalf("allowed %d, want 10", allowed)
	}
}

func TestMethodLabel(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "DELETE": "DELETE", "X1EVIL": "OTHER", "get": "OTHER", "": "OTHER"} {
		if got := httpx.Method(in); got != want {
			t.Errorf("Method(%q) = %q, want %q", in, got, want)
		}
	}
}

// A panic becomes a 500 with the request ID and a generic message; the
// cause and stack go to the log only (security.md D-8).
func TestRecoverHidesThePanic(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := httpx.Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret internal detail") }),
		httpx.RequestIDs, httpx.Recover(log, httpx.WriteError))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret internal detail") {
		t.Fatalf("response %d %s", rec.Code, rec.Body)
	}
	var body struct {
		Error struct{ Code, RequestID string } `json:"error"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	if body.Error.Code != "internal" || rec.Header().Get("X-Request-ID") == "" {
		t.Fatalf("body %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "secret internal detail") {
		t.Fatal("the panic was not logged")
	}
}

func TestRequestIDs(t *testing.T) {
	var got string
	h := httpx.RequestIDs(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = httpx.RequestID(r.Context()) }))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-ID", "proxy-id_123")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != "proxy-id_123" {
		t.Fatalf("kept id = %q", got)
	}
	r.Header.Set("X-Request-ID", "<script>alert(1)</script>")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if strings.Contains(got, "<") || len(got) != 24 || rec.Header().Get("X-Request-ID") != got {
		t.Fatalf("unsafe id kept or not echoed: %q", got)
	}
}

func TestDecodeJSON(t *testing.T) {
	type in struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	for _, tc := range []struct {
		body, ctype string
		status      int
		code        string
	}{
		{`{"name":"a","n":1}`, "application/json", 0, ""},
		{`{"name":"a"}`, "application/json; charset=utf-8", 0, ""},
		{`{"name":"a"}`, "text/plain", 415, "unsupported_media_type"},
		{`{"name":"a"}`, "", 415, "unsupported_media_type"},
		{`{"name":1}`, "application/json", 400, "wrong_type"},
		{`{"nom":"a"}`, "application/json", 400, "unknown_field"},
		{`{"name":"a"} x`, "application/json", 400, "malformed_json"},
		{`{`, "application/json", 400, "malformed_json"},
		{``, "application/json", 400, "empty_body"},
		{`"str"`, "application/json", 400, "malformed_json"},
		{`{"name":"` + strings.Repeat("a", 200) + `"}`, "application/json", 413, "body_too_large"},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		if tc.ctype != "" {
			r.Header.Set("Content-Type", tc.ctype)
		}
		var v in
		err := httpx.DecodeJSON(httptest.NewRecorder(), r, &v, 100)
		if tc.status == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.body, err)
			}
			continue
		}
		e := httpx.AsError(err)
		if err == nil || e.Status != tc.status || e.Code != tc.code || e.Message == "" {
			t.Errorf("%.30s (%s): got %v, want %d %s", tc.body, tc.ctype, err, tc.status, tc.code)
		}
	}
}

package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// Security test G-15: a flood of bad requests from one address earns it
// 429 (before its bodies are even read), while deliveries from other
// addresses go through, and valid deliveries never count against anyone.
func TestFloodLimit(t *testing.T) {
	d := dbtest.SQLite(t)
	const limit = 5
	e := setup(t, d, func(o *webhook.Options) {
		o.Limiter = httpx.NewLimiter(limit, time.Minute, nil)
	})
	const attacker, meta, busy = "203.0.113.9", "198.51.100.7", "198.51.100.8"
	// Valid traffic never counts, however much of it there is.
	for range 3 * limit {
		if c := e.post(asciiBody, busy, asciiSig).Code; c != http.StatusOK {
			t.Fatalf("valid delivery: status %d", c)
		}
	}
	if c := e.post(asciiBody, busy, "sha256="+strings.Repeat("0", 64)).Code; c != http.StatusForbidden {
		t.Errorf("first bad request after valid traffic: status %d, want 403", c)
	}
	for i := range limit {
		if c := e.post(asciiBody, attacker, "sha256="+strings.Repeat("1", 64)).Code; c != http.StatusForbidden {
			t.Fatalf("bad request %d: status %d, want 403", i, c)
		}
	}
	for _, c := range []struct {
		name, ip, sig string
		status        int
	}{
		{"more bad signatures", attacker, "sha256=" + strings.Repeat("1", 64), http.StatusTooManyRequests},
		{"no signature", attacker, "", http.StatusTooManyRequests},
		{"even a valid one", attacker, asciiSig, http.StatusTooManyRequests},
		{"meta from elsewhere", meta, asciiSig, http.StatusOK},
	} {
		var w *httptest.ResponseRecorder
		if c.sig == "" {
			w = e.post(asciiBody, c.ip)
		} else {
			w = e.post(asciiBody, c.ip, c.sig)
		}
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, w.Code, c.status)
		}
		if c.status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", c.name)
		}
	}
	// Guessing the verify token counts against the same address.
	r := httptest.NewRequest(http.MethodGet, webhook.Path+"?"+q("subscribe", verifyToken, "1").Encode(), nil)
	r.RemoteAddr = attacker + ":1"
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("handshake from the flooding address: status %d, want 429", w.Code)
	}
	if got := e.counts.get(webhook.OutcomeRateLimited); got < 3 {
		t.Errorf("rate_limited observed %d times, want at least 3", got)
	}
}

// An IPv6 flood is counted per /64, so rotating addresses inside one
// subscriber's block does not escape the limit.
func TestFloodLimitIPv6(t *testing.T) {
	e := setup(t, dbtest.SQLite(t), func(o *webhook.Options) {
		o.Limiter = httpx.NewLimiter(2, time.Minute, nil)
	})
	bad := "sha256=" + strings.Repeat("2", 64)
	var codes []int
	for _, ip := range []string{"[2001:db8:1:2::1]", "[2001:db8:1:2::2]", "[2001:db8:1:2:ffff::3]"} {
		codes = append(codes, e.post(asciiBody, ip, bad).Code)
	}
	if want := []int{403, 403, 429}; !slices.Equal(codes, want) {
		t.Errorf("statuses %v, want %v", codes, want)
	}
	if c := e.post(asciiBody, "[2001:db8:1:3::1]", asciiSig).Code; c != http.StatusOK {
		t.Errorf("another /64: status %d, want 200", c)
	}
}

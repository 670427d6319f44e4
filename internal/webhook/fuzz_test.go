package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// FuzzIntake throws arbitrary bodies and signature headers at the POST
// handler (security.md §3.K). Properties: it never panics; it answers 200
// only when exactly one X-Hub-Signature-256 header holds the HMAC of the
// body under the app secret (checked by the test's own implementation);
// a 200 stores exactly one delivery and anything else stores nothing.
//
//	go test -run='^$' -fuzz=FuzzIntake -fuzztime=2m -fuzzminimizetime=5s ./internal/webhook
//
// (Every input touches the database, so minimizing a new input with the
// default minimize time shows as minutes of "0/sec".)
func FuzzIntake(f *testing.F) {
	const max = 4096
	d := dbtest.SQLite(f)
	e := setup(f, d, func(o *webhook.Options) {
		o.MaxBody = max
		o.Limiter = httpx.NewLimiter(1<<30, time.Hour, nil) // every input gets judged on its merits
	})
	f.Add([]byte(asciiBody), asciiSig, uint8(0))
	f.Add([]byte(asciiBody), "", uint8(1))
	f.Add([]byte(khmerRaw), khmerEscapedSig, uint8(0))
	f.Add([]byte(khmerEscaped), "", uint8(2))
	f.Add([]byte{}, "sha256=", uint8(0))
	f.Add([]byte(`{"object":"page"}`), asciiSHA1, uint8(4))
	f.Add(bytes.Repeat([]byte("a"), max+1), "", uint8(9))
	f.Fuzz(func(t *testing.T, body []byte, header string, mode uint8) {
		// mode's low bits choose the header: as fuzzed, the body's true
		// signature, the true signature with its case flipped where the
		// fuzzed header has odd bytes, or none at all. Bit 2 adds a second
		// header, bit 3 sends the body chunked.
		want := sign(string(body), appSecret)
		var sigs []string
		switch mode % 4 {
		case 0:
			sigs = []string{header}
		case 1:
			sigs = []string{want}
		case 2:
			b := []byte(want)
			for i := range b {
				if i < len(header) && header[i]%2 == 1 {
					b[i] = flipCase(b[i])
				}
			}
			sigs = []string{string(b)}
		}
		if mode&4 != 0 {
			sigs = append(sigs, header)
		}
		r := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewReader(body))
		if mode&8 != 0 {
			r.ContentLength = -1
		}
		for _, s := range sigs {
			r.Header.Add(webhook.SignatureHeader, s)
		}
		before := deliveries(t, d)
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		valid := len(sigs) == 1 && authentic(body, sigs[0]) && len(body) <= max
		switch {
		case w.Code == http.StatusOK && !valid:
			t.Fatalf("200 for a delivery that is not authentic (headers %q)", sigs)
		case w.Code != http.StatusOK && valid:
			t.Fatalf("status %d for an authentic delivery", w.Code)
		}
		stored := deliveries(t, d) - before
		if (w.Code == http.StatusOK) != (stored == 1) || stored > 1 {
			t.Fatalf("status %d and %d deliveries stored", w.Code, stored)
		}
	})
}

// authentic is the test's own verification: "sha256=" and the hex HMAC in
// either case.
func authentic(body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return strings.EqualFold(hexSig, hex.EncodeToString(m.Sum(nil)))
}

func flipCase(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return c - 'a' + 'A'
	case c >= 'A' && c <= 'Z':
		return c - 'A' + 'a'
	}
	return c
}

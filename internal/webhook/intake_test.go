package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// Promise P-13; security tests G-1 to G-6 and G-9: only a body signed with
// the app secret over its exact bytes is stored, and every refusal stores
// nothing.
func TestSignatures(t *testing.T) {
	// G-5: \u00e9-style escapes, escaped slashes and keys in an unusual
	// order; accepted because the HMAC covers the bytes, not a re-encoding.
	reordered := `{"entry":[{"messaging":[{"message":{"text":"caf\u00e9 \/ 50\u0025","mid":"m.1"},"timestamp":1,"recipient":{"id":"PAGE_ID"},"sender":{"id":"P"}}],"time":1,"id":"PAGE_ID"}],"object":"page"}`
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(asciiSig, "sha256="))
	cases := []struct {
		name   string
		body   string
		sigs   []string
		sha1   string // legacy X-Hub-Signature
		status int
	}{
		{"ascii vector", asciiBody, []string{asciiSig}, "", http.StatusOK},
		{"G-6 uppercase hex", asciiBody, []string{upper}, "", http.StatusOK},
		{"G-5 khmer escaped, its signature", khmerEscaped, []string{khmerEscapedSig}, "", http.StatusOK},
		{"G-5 khmer raw UTF-8, its signature", khmerRaw, []string{khmerRawSig}, "", http.StatusOK},
		{"G-5 escapes and reordered keys", reordered, []string{sign(reordered, appSecret)}, "", http.StatusOK},
		{"G-5 khmer escaped, the raw body's signature", khmerEscaped, []string{khmerRawSig}, "", http.StatusForbidden},
		{"G-5 khmer raw, the escaped body's signature", khmerRaw, []string{khmerEscapedSig}, "", http.StatusForbidden},
		{"G-1 no signature", asciiBody, nil, "", http.StatusForbidden},
		{"G-2 wrong signature", asciiBody, []string{"sha256=" + strings.Repeat("0", 64)}, "", http.StatusForbidden},
		{"G-2 another body's signature", asciiBody, []string{khmerEscapedSig}, "", http.StatusForbidden},
		{"G-2 another app's secret", asciiBody, []string{sign(asciiBody, "other_app_secret")}, "", http.StatusForbidden},
		{"G-2 keyed with the verify token", asciiBody, []string{sign(asciiBody, verifyToken)}, "", http.StatusForbidden},
		{"G-2 one byte changed", strings.Replace(asciiBody, "hello", "hellO", 1), []string{asciiSig}, "", http.StatusForbidden},
		{"G-2 trailing newline added", asciiBody + "\n", []string{asciiSig}, "", http.StatusForbidden},
		{"G-3 legacy sha1 only", asciiBody, nil, asciiSHA1, http.StatusForbidden},
		{"G-3 sha1 value in the sha256 header", asciiBody, []string{asciiSHA1}, "", http.StatusForbidden},
		{"G-4 no prefix", asciiBody, []string{strings.TrimPrefix(asciiSig, "sha256=")}, "", http.StatusForbidden},
		{"G-4 upper-case prefix", asciiBody, []string{"SHA256=" + strings.TrimPrefix(asciiSig, "sha256=")}, "", http.StatusForbidden},
		{"G-4 truncated", asciiBody, []string{asciiSig[:len(asciiSig)-2]}, "", http.StatusForbidden},
		{"G-4 too long", asciiBody, []string{asciiSig + "00"}, "", http.StatusForbidden},
		{"G-4 non-hex", asciiBody, []string{"sha256=" + strings.Repeat("zz", 32)}, "", http.StatusForbidden},
		{"G-4 two headers", asciiBody, []string{asciiSig, asciiSig}, "", http.StatusForbidden},
		{"G-4 leading space", asciiBody, []string{" " + asciiSig}, "", http.StatusForbidden},
		{"G-4 trailing space", asciiBody, []string{asciiSig + " "}, "", http.StatusForbidden},
		{"G-4 empty", asciiBody, []string{""}, "", http.StatusForbidden},
		{"G-4 prefix only", asciiBody, []string{"sha256="}, "", http.StatusForbidden},
		{"empty body, wrong signature", "", []string{asciiSig}, "", http.StatusForbidden},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, func(o *webhook.Options) {
			o.Limiter = httpx.NewLimiter(1000, time.Minute, nil) // this test is not about the limit
		})
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := deliveries(t, d)
				r := httptest.NewRequest(http.MethodPost, webhook.Path, strings.NewReader(c.body))
				for _, s := range c.sigs {
					r.Header.Add(webhook.SignatureHeader, s)
				}
				if c.sha1 != "" {
					r.Header.Set("X-Hub-Signature", c.sha1)
				}
				w := httptest.NewRecorder()
				e.handler.ServeHTTP(w, r)
				if w.Code != c.status {
					t.Fatalf("status %d, want %d (body %q)", w.Code, c.status, w.Body)
				}
				wantStored := 0
				if c.status == http.StatusOK {
					wantStored = 1
				}
				if n := deliveries(t, d) - before; n != wantStored {
					t.Errorf("%d deliveries stored, want %d", n, wantStored)
				}
				if n := processJobs(t, d); n != 0 {
					t.Errorf("%d processing jobs enqueued, want none: the deliveries table is the queue", n)
				}
				if wantStored == 1 {
					// What is stored is the body exactly as received.
					rows := storedRows(t, d)
					last := rows[len(rows)-1]
					raw, err := e.master.OpenPlatform(last.Body, keyring.AAD{Table: "webhook_deliveries", Column: "body", Row: last.ID})
					if err != nil {
						t.Fatal(err)
					}
					if string(raw) != c.body {
						t.Errorf("stored body differs from the one received")
					}
				}
				if strings.Contains(w.Body.String(), "sha256=") {
					t.Errorf("response echoes the signature: %q", w.Body)
				}
			})
		}
		if got, want := e.counts.get(webhook.OutcomeAccepted), 5; got != want {
			t.Errorf("accepted observed %d times, want %d", got, want)
		}
		if got, want := e.counts.get(webhook.OutcomeBadSignature), len(cases)-5; got != want {
			t.Errorf("bad_signature observed %d times, want %d", got, want)
		}
	})
}

// Security tests G-9 and G-10: no secret means nothing verifies (an empty
// key is never tried), and during a rotation both secrets verify.
func TestSecrets(t *testing.T) {
	d := dbtest.SQLite(t)
	for _, c := range []struct {
		name    string
		secrets []string
		sig     string
		status  int
	}{
		{"none configured", nil, asciiSig, http.StatusForbidden},
		{"only an empty one, signed with empty key", []string{""}, sign(asciiBody, ""), http.StatusForbidden},
		{"rotation: old secret", []string{"new_secret", appSecret}, asciiSig, http.StatusOK},
		{"rotation: new secret", []string{"new_secret", appSecret}, sign(asciiBody, "new_secret"), http.StatusOK},
		{"after rotation: old secret", []string{"new_secret"}, asciiSig, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t, d, func(o *webhook.Options) { o.AppSecrets = c.secrets })
			before := deliveries(t, d)
			w := e.post(asciiBody, "", c.sig)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d", w.Code, c.status)
			}
			if c.status != http.StatusOK && deliveries(t, d) != before {
				t.Error("a refused delivery was stored")
			}
		})
	}
}

// Security test G-11: bodies over the limit are refused with 413 before
// they are read in full, with Content-Length or chunked, and nothing is
// stored; a chunked body within the limit is accepted.
func TestBodyLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		const max = 1024
		e := setup(t, d, func(o *webhook.Options) { o.MaxBody = max })
		srv := httptest.NewServer(e.handler)
		defer srv.Close()

		exact := `{"object":"page","entry":[],"pad":"` + strings.Repeat("x", max-len(`{"object":"page","entry":[],"pad":""}`)) + `"}`
		if len(exact) != max {
			t.Fatalf("fixture is %d bytes", len(exact))
		}
		t.Run("exactly the limit", func(t *testing.T) {
			resp := send(t, srv.URL, strings.NewReader(exact), int64(len(exact)), sign(exact, appSecret))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
		})
		t.Run("chunked within the limit", func(t *testing.T) {
			resp := send(t, srv.URL, io.MultiReader(strings.NewReader(asciiBody)), -1, asciiSig)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
		})
		before := deliveries(t, d)
		// The body is a pipe that delivers only part of what is announced
		// and then blocks: an answer proves the handler did not wait for
		// the rest.
		t.Run("content-length over the limit", func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			go pw.Write([]byte(strings.Repeat("a", 100)))
			resp := send(t, srv.URL, pr, 10*max, sign(strings.Repeat("a", 10*max), appSecret))
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", resp.StatusCode)
			}
		})
		t.Run("chunked over the limit", func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			go pw.Write([]byte(strings.Repeat("a", 2*max)))
			resp := send(t, srv.URL, pr, -1, sign(strings.Repeat("a", 2*max), appSecret))
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", resp.StatusCode)
			}
		})
		if deliveries(t, d) != before {
			t.Error("an oversized body was stored")
		}
		if got := e.counts.get(webhook.OutcomeTooLarge); got != 2 {
			t.Errorf("too_large observed %d times, want 2", got)
		}
	})
}

// send POSTs body to url; size -1 sends it chunked.
func send(t *testing.T, url string, body io.Reader, size int64, sig string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+webhook.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	if size < 0 {
		req.TransferEncoding = []string{"chunked"}
	}
	req.Header.Set(webhook.SignatureHeader, sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// Security test M-1, from the intake's side: every 200 means the delivery
// is committed, pending (the table is processing's durable queue); and
// once processing runs, every acknowledged delivery is applied exactly
// once.
func TestEveryOKIsStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, nil)
		const n = 120
		var wg sync.WaitGroup
		codes := make([]int, n)
		for i := range n {
			wg.Go(func() {
				body := messageBody(pageID, fmt.Sprintf("m.ok.%d", i))
				codes[i] = e.post(body, "", sign(body, appSecret)).Code
			})
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("request %d: status %d", i, c)
			}
		}
		rows := storedRows(t, d)
		if len(rows) != n {
			t.Fatalf("%d deliveries stored, want %d", len(rows), n)
		}
		for _, r := range rows {
			if r.State != "pending" || r.Source != "meta" || !r.ReceivedAt.Equal(e.now) {
				t.Errorf("delivery %s: state %q source %q received %v", r.ID, r.State, r.Source, r.ReceivedAt)
			}
		}
		if j := processJobs(t, d); j != 0 {
			t.Errorf("%d processing jobs enqueued, want none", j)
		}
		if e.counts.get(webhook.OutcomeAccepted) != n {
			t.Errorf("accepted observed %d times, want %d", e.counts.get(webhook.OutcomeAccepted), n)
		}

		e.process(t)
		settle(t, d)
		got := appliedCounts(t, d)
		for i := range n {
			if mid := fmt.Sprintf("m.ok.%d", i); got[mid] != 1 {
				t.Errorf("%s applied %d times, want once", mid, got[mid])
			}
		}
		if len(got) != n {
			t.Errorf("%d messages applied, want %d", len(got), n)
		}
	})
}

// Busy says whether the webhook path has work (the search indexer keeps to
// a small share of the writer while it does): yes while processing is held
// and has not caught up; then no, until a delivery is stored; no again once
// its window has passed and it was processed. A refused delivery does not
// count.
func TestBusyWhileDeliveriesArrive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, nil)
		if !e.in.Busy() {
			t.Fatal("not busy while processing is held")
		}
		e.caughtUp(t)
		if e.in.Busy() {
			t.Fatal("busy before any delivery")
		}
		body := messageBody(pageID, "m.busy.1")
		if c := e.post(body, "", sign(body, "not the secret")).Code; c == http.StatusOK {
			t.Fatalf("a badly signed delivery was accepted (%d)", c)
		}
		if e.in.Busy() {
			t.Fatal("busy after a refused delivery")
		}
		if c := e.post(body, "", sign(body, appSecret)).Code; c != http.StatusOK {
			t.Fatalf("status %d", c)
		}
		if !e.in.Busy() {
			t.Fatal("not busy right after a stored delivery")
		}
		settle(t, d)
		waitFor(t, "the delivery to be processed", func() bool { return len(appliedCounts(t, d)) == 1 })
		e.in.AgeBusy(time.Minute)
		waitFor(t, "processing to find nothing waiting", func() bool { return !e.in.Busy() })
	})
}

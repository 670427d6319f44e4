package meta_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/meta"
)

// Security §3.K: verify(sign(b)) holds; changing any one byte of the body
// or any one hex digit of the signature breaks it; nothing panics.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(messengerBody), testSecret, uint(0), byte(1), "sha256=00")
	f.Add([]byte(khmerEscaped), testSecret, uint(100), byte(0x80), messengerSHA1)
	f.Add([]byte(khmerRaw()), "s", uint(7), byte(0xff), "")
	f.Add([]byte{}, "k", uint(0), byte(0), "sha256=")
	f.Fuzz(func(t *testing.T, body []byte, secret string, pos uint, flip byte, header string) {
		// Arbitrary headers: no panic, and never a pass without the secret.
		_ = meta.VerifySignature(body, header, secret)
		if meta.VerifySignature(body, header) {
			t.Fatal("verified with no secret")
		}
		if secret == "" {
			if meta.VerifySignature(body, meta.Sign(body, ""), "") {
				t.Fatal("verified under an empty secret")
			}
			return
		}
		sig := meta.Sign(body, secret)
		if !meta.VerifySignature(body, sig, secret) {
			t.Fatalf("verify(sign(b)) failed for %q", body)
		}
		if len(body) > 0 {
			changed := append([]byte(nil), body...)
			changed[pos%uint(len(changed))] ^= flip | 1 // never a no-op
			if meta.VerifySignature(changed, sig, secret) {
				t.Fatal("a changed body verified")
			}
		}
		// Change one hex digit to another value (not just its case).
		hexPart := []byte(strings.TrimPrefix(sig, "sha256="))
		i := pos % uint(len(hexPart))
		const digits = "0123456789abcdef"
		hexPart[i] = digits[(strings.IndexByte(digits, hexPart[i])+1+int(flip%15))%16]
		if meta.VerifySignature(body, "sha256="+string(hexPart), secret) {
			t.Fatal("a changed signature verified")
		}
	})
}

// Security §3.K: no panic, and only correctly signed input yields a user
// ID (checked with an independent HMAC).
func FuzzParseSignedRequest(f *testing.F) {
	for _, s := range []string{srDeletion, srTampered, srWrongAlg, srDeauthorize, srPHP, srPerl, "fake_signature.e30=", "", ".", "a.b.c",
		signedRequest(`{"algorithm":"HMAC-SHA256","user_id":99}`, testSecret)} {
		f.Add(s, testSecret)
	}
	f.Add(srPHP, "foo_app_secret")
	f.Fuzz(func(t *testing.T, sr, secret string) {
		got, err := meta.ParseSignedRequest(sr, secret)
		if err != nil {
			if got.UserID != "" || got.Raw != nil {
				t.Fatalf("refused input yielded %+v", got)
			}
			return
		}
		sigPart, payloadPart, ok := strings.Cut(sr, ".")
		if !ok || secret == "" {
			t.Fatalf("accepted %q without a signature or secret", sr)
		}
		sig, derr := base64.RawURLEncoding.DecodeString(strings.TrimRight(sigPart, "="))
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(payloadPart))
		if derr != nil || !hmac.Equal(sig, m.Sum(nil)) {
			t.Fatalf("accepted %q with a wrong signature (user %q)", sr, got.UserID)
		}
	})
}

package metacallback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// sign builds a signed_request over a raw payload string with secret,
// unpadded as Meta sends it.
func sign(secret, payload string) string {
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)) + "." + p
}

// Promise P-32, security.md §3.H H-1: the signed_request cases (valid,
// tampered payload, tampered signature, wrong algorithm, missing field,
// non-JSON payload, huge input, padding variants), with Meta's worked
// examples (meta-platform.md §6.4).
func TestParseSignedRequest(t *testing.T) {
	const secret = "test_app_secret"
	valid := "MgChNJTM9CJ75wlk7iDsf-5_LH4rMfst5fvUhiJRiqg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjEyOTE4NDA0MDAsImlzc3VlZF9hdCI6MTI5MTgzNjgwMCwidXNlcl9pZCI6IjIxODQ3MSJ9"
	sigPart, payloadPart, _ := strings.Cut(valid, ".")
	tests := []struct {
		name, sr, secret string
		wantUser         string
		wantErr          error
	}{
		{name: "Meta's deletion example", sr: valid, secret: secret, wantUser: "218471"},
		{name: "Meta's deauthorize example", secret: secret, wantUser: "10000123456789",
			sr: "ldfMKlGYX6x9z7kR0FLW-rzmKUkL361mNfk0G1bKP-A.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImlzc3VlZF9hdCI6MTMzMjE1MzQ4NywidXNlciI6eyJjb3VudHJ5IjoiZGUiLCJsb2NhbGUiOiJkZV9ERSJ9LCJ1c2VyX2lkIjoiMTAwMDAxMjM0NTY3ODkifQ"},
		{name: "PHP SDK vector: padded segments, numeric user_id", secret: "foo_app_secret", wantUser: "123",
			sr: "U0_O1MqqNKUt32633zAkdd2Ce-jGVgRgJeRauyx_zC8=.eyJvYXV0aF90b2tlbiI6ImZvb190b2tlbiIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjozMjEsImNvZGUiOiJmb29fY29kZSIsInN0YXRlIjoiZm9vX3N0YXRlIiwidXNlcl9pZCI6MTIzLCJmb28iOiJiYXIifQ=="},
		{name: "padding added to the signature segment", sr: sigPart + "=." + payloadPart, secret: secret, wantUser: "218471"},
		{name: "lower-case algorithm", sr: sign(secret, `{"algorithm":"hmac-sha256","user_id":"5"}`), secret: secret, wantUser: "5"},
		{name: "tampered payload (user_id 218472, old signature)", secret: secret, wantErr: ErrSignature,
			sr: "MgChNJTM9CJ75wlk7iDsf-5_LH4rMfst5fvUhiJRiqg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjEyOTE4NDA0MDAsImlzc3VlZF9hdCI6MTI5MTgzNjgwMCwidXNlcl9pZCI6IjIxODQ3MiJ9"},
		{name: "tampered signature", sr: "NgChNJTM9CJ75wlk7iDsf-5_LH4rMfst5fvUhiJRiqg." + payloadPart, secret: secret, wantErr: ErrSignature},
		{name: "another app's secret", sr: valid, secret: "other_secret", wantErr: ErrSignature},
		{name: "no secret configured (fail closed)", sr: valid, secret: "", wantErr: ErrSignature},
		{name: "padding added to the payload segment changes what is signed", sr: sigPart + "." + payloadPart + "=", secret: secret, wantErr: ErrSignature},
		{name: "wrong algorithm, correctly signed", secret: secret, wantErr: ErrMalformed,
			sr: "3Z5-ETrhGiWtXNfSgyzsQ3DSHtV81FZu8ZSeSDEtDVU.eyJhbGdvcml0aG0iOiJITUFDLVNIQTEiLCJpc3N1ZWRfYXQiOjEyOTE4MzY4MDAsInVzZXJfaWQiOiIyMTg0NzEifQ"},
		{name: "no algorithm", sr: sign(secret, `{"user_id":"5"}`), secret: secret, wantErr: ErrMalformed},
		{name: "missing user_id", sr: sign(secret, `{"algorithm":"HMAC-SHA256"}`), secret: secret, wantErr: ErrMalformed},
		{name: "user_id not digits", sr: sign(secret, `{"algorithm":"HMAC-SHA256","user_id":"12a"}`), secret: secret, wantErr: ErrMalformed},
		{name: "user_id an object", sr: sign(secret, `{"algorithm":"HMAC-SHA256","user_id":{"id":"1"}}`), secret: secret, wantErr: ErrMalformed},
		{name: "user_id too long", sr: sign(secret, `{"algorithm":"HMAC-SHA256","user_id":"`+strings.Repeat("1", 33)+`"}`), secret: secret, wantErr: ErrMalformed},
		{name: "issued_at not a number", sr: sign(secret, `{"algorithm":"HMAC-SHA256","user_id":"5","issued_at":"x"}`), secret: secret, wantErr: ErrMalformed},
		{name: "non-JSON payload, correctly signed", sr: sign(secret, `not json`), secret: secret, wantErr: ErrMalformed},
		{name: "JSON array payload", sr: sign(secret, `["HMAC-SHA256"]`), secret: secret, wantErr: ErrMalformed},
		{name: "JSON null payload", sr: sign(secret, `null`), secret: secret, wantErr: ErrMalformed},
		{name: "data after the object", sr: sign(secret, `{"algorithm":"HMAC-SHA256","user_id":"5"} {}`), secret: secret, wantErr: ErrMalformed},
		{name: "empty", sr: "", secret: secret, wantErr: ErrMalformed},
		{name: "no dot", sr: sigPart + payloadPart, secret: secret, wantErr: ErrMalformed},
		{name: "extra dot", sr: valid + ".x", secret: secret, wantErr: ErrMalformed},
		{name: "dot only", sr: ".", secret: secret, wantErr: ErrMalformed},
		{name: "empty payload", sr: sigPart + ".", secret: secret, wantErr: ErrMalformed},
		{name: "empty signature", sr: "." + payloadPart, secret: secret, wantErr: ErrMalformed},
		{name: "PHP SDK fake signature", sr: "fake_signature.e30=", secret: secret, wantErr: ErrMalformed},
		{name: "bad base64 in the payload", sr: sigPart + ".e30*", secret: secret, wantErr: ErrMalformed},
		{name: "standard-alphabet base64", sr: strings.NewReplacer("-", "+", "_", "/").Replace(sigPart) + "." + payloadPart, secret: secret, wantErr: ErrMalformed},
		{name: "three padding characters", sr: sigPart + "===." + payloadPart, secret: secret, wantErr: ErrMalformed},
		{name: "huge input", sr: sigPart + "." + strings.Repeat("A", MaxSignedRequest), secret: secret, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSignedRequest(tt.sr, tt.secret)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != (Signed{}) {
					t.Errorf("a refused request yielded %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.UserID != tt.wantUser {
				t.Errorf("user = %q, want %q", got.UserID, tt.wantUser)
			}
		})
	}
}

// security.md §3.K: no input panics the parser, and only correctly signed
// inputs yield a user ID; a signed payload round-trips.
func FuzzParseSignedRequest(f *testing.F) {
	const secret = "test_app_secret"
	f.Add("MgChNJTM9CJ75wlk7iDsf-5_LH4rMfst5fvUhiJRiqg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjEyOTE4NDA0MDAsImlzc3VlZF9hdCI6MTI5MTgzNjgwMCwidXNlcl9pZCI6IjIxODQ3MSJ9", `{"algorithm":"HMAC-SHA256","user_id":"218471"}`)
	f.Add("3Z5-ETrhGiWtXNfSgyzsQ3DSHtV81FZu8ZSeSDEtDVU.eyJhbGdvcml0aG0iOiJITUFDLVNIQTEiLCJpc3N1ZWRfYXQiOjEyOTE4MzY4MDAsInVzZXJfaWQiOiIyMTg0NzEifQ", `{"algorithm":"HMAC-SHA1","user_id":"1"}`)
	f.Add("fake_signature.e30=", `{}`)
	f.Add("a.b.c", `[]`)
	f.Add("", `{"algorithm":"HMAC-SHA256","user_id":123,"issued_at":1e400}`)
	f.Fuzz(func(t *testing.T, sr, payload string) {
		got, err := ParseSignedRequest(sr, secret)
		if err == nil {
			sigPart, payloadPart, _ := strings.Cut(sr, ".")
			sig, derr := decodeSegment(sigPart)
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(payloadPart))
			if derr != nil || !hmac.Equal(sig, m.Sum(nil)) {
				t.Fatalf("accepted an input whose signature does not verify: %q", sr)
			}
			if !validASID(got.UserID) {
				t.Fatalf("accepted user_id %q", got.UserID)
			}
		}
		// Signing any payload verifies; whether it parses depends on it.
		signed := sign(secret, payload)
		if _, err := ParseSignedRequest(signed, secret); errors.Is(err, ErrSignature) && len(signed) <= MaxSignedRequest {
			t.Fatalf("a correctly signed request failed its signature: %v", err)
		}
		if _, err := ParseSignedRequest(signed, "another secret"); err == nil {
			t.Fatal("a request signed with another secret was accepted")
		}
	})
}

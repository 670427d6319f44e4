package meta_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/parleyhq/parley/internal/meta"
)

// meta-platform.md §6.4 vectors (VERIFIED).
const (
	srDeletion    = "MgChNJTM9CJ75wlk7iDsf-5_LH4rMfst5fvUhiJRiqg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjEyOTE4NDA0MDAsImlzc3VlZF9hdCI6MTI5MTgzNjgwMCwidXNlcl9pZCI6IjIxODQ3MSJ9"
	srTampered    = "MgChNJTM9CJ75wlk7iDsf-5_LH4rMfst5fvUhiJRiqg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjEyOTE4NDA0MDAsImlzc3VlZF9hdCI6MTI5MTgzNjgwMCwidXNlcl9pZCI6IjIxODQ3MiJ9"
	srWrongAlg    = "3Z5-ETrhGiWtXNfSgyzsQ3DSHtV81FZu8ZSeSDEtDVU.eyJhbGdvcml0aG0iOiJITUFDLVNIQTEiLCJpc3N1ZWRfYXQiOjEyOTE4MzY4MDAsInVzZXJfaWQiOiIyMTg0NzEifQ"
	srDeauthorize = "ldfMKlGYX6x9z7kR0FLW-rzmKUkL361mNfk0G1bKP-A.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImlzc3VlZF9hdCI6MTMzMjE1MzQ4NywidXNlciI6eyJjb3VudHJ5IjoiZGUiLCJsb2NhbGUiOiJkZV9ERSJ9LCJ1c2VyX2lkIjoiMTAwMDAxMjM0NTY3ODkifQ"
	// PHP SDK vector: padded base64, numeric user_id, secret foo_app_secret.
	srPHP = "U0_O1MqqNKUt32633zAkdd2Ce-jGVgRgJeRauyx_zC8=.eyJvYXV0aF90b2tlbiI6ImZvb190b2tlbiIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjozMjEsImNvZGUiOiJmb29fY29kZSIsInN0YXRlIjoiZm9vX3N0YXRlIiwidXNlcl9pZCI6MTIzLCJmb28iOiJiYXIifQ=="
	// Perl Facebook::OpenGraph vector, secret "secret": no user.
	srPerl = "vlXgu64BQGFSQrY0ZcJBZASMvYvTHu9GQ0YM9rjPSso.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsIjAiOiJwYXlsb2FkIn0"
)

func TestParseSignedRequestVectors(t *testing.T) {
	for _, tc := range []struct {
		name, sr, secret string
		user             string
		issued, expires  int64
		raw              map[string]string // string fields of the payload to check
	}{
		{"deletion", srDeletion, testSecret, "218471", 1291836800, 1291840400, nil},
		{"deauthorize", srDeauthorize, testSecret, "10000123456789", 1332153487, 0, nil},
		{"php padded, numeric user id", srPHP, "foo_app_secret", "123", 321, 0,
			map[string]string{"oauth_token": "foo_token", "code": "foo_code", "state": "foo_state", "foo": "bar"}},
		{"perl, no user", srPerl, "secret", "", 0, 0, map[string]string{"0": "payload"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := meta.ParseSignedRequest(tc.sr, tc.secret)
			if err != nil {
				t.Fatal(err)
			}
			if got.UserID != tc.user || got.IssuedAt != tc.issued || got.Expires != tc.expires || got.Algorithm != "HMAC-SHA256" {
				t.Errorf("got %+v; want user %q issued %d expires %d", got, tc.user, tc.issued, tc.expires)
			}
			for k, v := range tc.raw {
				if got.Raw[k] != v {
					t.Errorf("Raw[%q] = %v; want %q", k, got.Raw[k], v)
				}
			}
		})
	}
}

func TestParseSignedRequestRefusals(t *testing.T) {
	sign := func(payload string) string { return signedRequest(payload, testSecret) }
	for _, tc := range []struct{ name, sr, secret string }{
		{"tampered payload", srTampered, testSecret},
		{"wrong algorithm", srWrongAlg, testSecret},
		{"wrong secret", srDeletion, "other_secret"},
		{"empty secret", srDeletion, ""},
		{"fake signature", "fake_signature.e30=", "foo_app_secret"},
		{"padding stripped from a padded vector", srPHP[:len(srPHP)-2], "foo_app_secret"},
		{"no dot", "abc", testSecret},
		{"empty", "", testSecret},
		{"bad base64 signature", "!!!." + srDeletion[44:], testSecret},
		{"bad base64 payload", signSegment("@@@@", testSecret), testSecret},
		{"payload not json", sign("not json"), testSecret},
		{"payload an array", sign(`[1,2]`), testSecret},
		{"payload null", sign(`null`), testSecret},
		{"trailing data", sign(`{"algorithm":"HMAC-SHA256"} {}`), testSecret},
		{"no algorithm", sign(`{"user_id":"1"}`), testSecret},
		{"algorithm not a string", sign(`{"algorithm":1}`), testSecret},
		{"user id an object", sign(`{"algorithm":"HMAC-SHA256","user_id":{}}`), testSecret},
		{"user id negative", sign(`{"algorithm":"HMAC-SHA256","user_id":-1}`), testSecret},
		{"issued_at not a number", sign(`{"algorithm":"HMAC-SHA256","issued_at":"soon"}`), testSecret},
		{"signature of another payload", srDeletion[:43] + "." + encodeSegment(`{"algorithm":"HMAC-SHA256","user_id":"1"}`), testSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := meta.ParseSignedRequest(tc.sr, tc.secret)
			if !errors.Is(err, meta.ErrSignedRequest) {
				t.Fatalf("got %+v, %v; want ErrSignedRequest", got, err)
			}
			if got.UserID != "" {
				t.Errorf("a refused request yielded user %q", got.UserID)
			}
		})
	}
}

func TestParseSignedRequestAlgorithmCase(t *testing.T) {
	sr := signedRequest(`{"algorithm":"hmac-sha256","user_id":"42"}`, testSecret)
	got, err := meta.ParseSignedRequest(sr, testSecret)
	if err != nil || got.UserID != "42" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, ok := got.Raw["user_id"].(string); !ok {
		t.Errorf("Raw keeps %T", got.Raw["user_id"])
	}
	n := signedRequest(`{"algorithm":"HMAC-SHA256","issued_at":1700000000}`, testSecret)
	got, err = meta.ParseSignedRequest(n, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Raw["issued_at"].(json.Number); !ok {
		t.Errorf("numbers in Raw are %T; want json.Number", got.Raw["issued_at"])
	}
}

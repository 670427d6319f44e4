package meta_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// The signed_request builder of meta-platform.md §6.4, written
// independently of the package under test.

func encodeSegment(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signedRequest signs a JSON payload.
func signedRequest(payload, secret string) string {
	return signSegment(encodeSegment(payload), secret)
}

// signSegment signs a payload segment as given, base64 or not.
func signSegment(p, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)) + "." + p
}

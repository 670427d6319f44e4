package metasim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	mrand "math/rand/v2"
)

// randDigits returns n decimal digits without a leading zero: Meta's
// object IDs (pages, PSIDs, apps) are strings of digits.
func randDigits(n int) string {
	b := make([]byte, n)
	b[0] = '1' + byte(mrand.N(9))
	for i := 1; i < n; i++ {
		b[i] = '0' + byte(mrand.N(10))
	}
	return string(b)
}

// randHex returns 2n lowercase hex digits from the system's CSPRNG.
func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randToken returns an access token shaped like Meta's: "EAA" and a long
// alphanumeric tail.
func randToken() string {
	b := make([]byte, 96)
	rand.Read(b)
	out := make([]byte, 0, 3+len(b))
	out = append(out, "EAA"...)
	for _, c := range b {
		out = append(out, base62[int(c)%len(base62)])
	}
	return string(out)
}

// randMID returns a message ID in Meta's current "m_…" form.
func randMID() string {
	b := make([]byte, 48)
	rand.Read(b)
	return "m_" + base64.RawURLEncoding.EncodeToString(b)
}

// randCode returns an OAuth authorization code ("AQ…", as Meta's are).
func randCode() string {
	b := make([]byte, 96)
	rand.Read(b)
	return "AQ" + base64.RawURLEncoding.EncodeToString(b)
}

// randTrace returns an fbtrace_id.
func randTrace() string {
	b := make([]byte, 8)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

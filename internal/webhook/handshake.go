package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"net/http"

	"github.com/parleyhq/parley/internal/httpx"
)

// maxChallenge bounds the echoed challenge. Meta's are ten-digit numbers.
const maxChallenge = 64

var (
	errBadVerifyToken = httpx.Forbidden("The verify token does not match.")
	errBadChallenge   = httpx.BadRequest("invalid_challenge", "hub.challenge must be 1 to 64 digits.")
)

// handshake answers Meta's subscription request (meta-platform.md §1.1,
// security.md G-14): hub.mode=subscribe with our verify token gets the
// challenge back as text/plain. The challenge is echoed only when it is
// digits, so this endpoint cannot be made to serve anything a browser would
// interpret.
func (in *Intake) handshake(w http.ResponseWriter, r *http.Request) error {
	ip := clientKey(r)
	if blocked, after := in.limiter.Blocked(ip); blocked {
		in.observe(OutcomeRateLimited)
		return httpx.TooManyRequests(after)
	}
	q := r.URL.Query()
	if in.opt.VerifyToken == "" || q.Get("hub.mode") != "subscribe" || !sameToken(q.Get("hub.verify_token"), in.opt.VerifyToken) {
		// A wrong token counts against the address like a bad signature:
		// guessing the token is the only thing to gain here.
		if ok, after := in.limiter.Allow(ip); !ok {
			in.observe(OutcomeRateLimited)
			return httpx.TooManyRequests(after)
		}
		return errBadVerifyToken
	}
	challenge := q.Get("hub.challenge")
	if !digits(challenge) {
		return errBadChallenge
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, err := io.WriteString(w, challenge)
	return err
}

// sameToken compares in constant time. Hashing first makes the time
// independent of the lengths too.
func sameToken(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// digits reports a non-empty string of at most maxChallenge ASCII digits.
func digits(s string) bool {
	if s == "" || len(s) > maxChallenge {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

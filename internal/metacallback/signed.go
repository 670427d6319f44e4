package metacallback

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Refusals of ParseSignedRequest. ErrMalformed answers 400, ErrSignature
// 403 (security.md §3.H H-1).
var (
	ErrMalformed = errors.New("metacallback: malformed signed_request")
	ErrSignature = errors.New("metacallback: signed_request signature does not verify")
)

// MaxSignedRequest bounds a signed_request: real ones are a few hundred
// bytes.
const MaxSignedRequest = 8 << 10

// maxASID bounds the user_id: Facebook IDs are up to 20 digits.
const maxASID = 32

// Signed is the verified payload of a signed_request.
type Signed struct {
	// UserID is the app-scoped user ID (a string in Meta's docs, a number
	// in some SDKs' vectors); never empty.
	UserID string
	// IssuedAt is Unix seconds, 0 when absent.
	IssuedAt int64
}

// ParseSignedRequest verifies and decodes sr = base64url(signature) "."
// base64url(payload), the signature being HMAC-SHA256 under secret of the
// payload segment exactly as received (meta-platform.md §6.1). Either
// segment may carry base64 padding or not (Meta omits it, the PHP SDK's
// vectors keep it). Checked in this order, so that nothing is decoded
// before the signature holds: shape (one dot, both segments valid base64url,
// a 32-byte signature) else ErrMalformed; signature (constant time) else
// ErrSignature; then the payload must be one JSON object with algorithm
// HMAC-SHA256 (any case) and a user_id of digits, else ErrMalformed. An
// empty secret refuses everything with ErrSignature (fail closed).
func ParseSignedRequest(sr, secret string) (Signed, error) {
	if len(sr) == 0 || len(sr) > MaxSignedRequest {
		return Signed{}, fmt.Errorf("%w: empty or too long", ErrMalformed)
	}
	if strings.Count(sr, ".") != 1 {
		return Signed{}, fmt.Errorf("%w: want exactly one '.'", ErrMalformed)
	}
	sigPart, payloadPart, _ := strings.Cut(sr, ".")
	sig, err := decodeSegment(sigPart)
	if err != nil || len(sig) != sha256.Size {
		return Signed{}, fmt.Errorf("%w: bad signature segment", ErrMalformed)
	}
	raw, err := decodeSegment(payloadPart)
	if err != nil || len(raw) == 0 {
		return Signed{}, fmt.Errorf("%w: bad payload segment", ErrMalformed)
	}
	if secret == "" {
		return Signed{}, fmt.Errorf("%w: no app secret configured", ErrSignature)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payloadPart))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return Signed{}, ErrSignature
	}
	return decodePayload(raw)
}

// decodeSegment decodes URL-safe base64 with or without its padding (at
// most two '='). Standard-alphabet characters are refused.
func decodeSegment(s string) ([]byte, error) {
	t := strings.TrimRight(s, "=")
	if len(s)-len(t) > 2 || t == "" {
		return nil, errors.New("bad padding")
	}
	return base64.RawURLEncoding.DecodeString(t)
}

// decodePayload reads the signed JSON object.
func decodePayload(raw []byte) (Signed, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var p map[string]any
	if err := dec.Decode(&p); err != nil || p == nil {
		return Signed{}, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Signed{}, fmt.Errorf("%w: data after the payload", ErrMalformed)
	}
	if alg, _ := p["algorithm"].(string); !strings.EqualFold(alg, "HMAC-SHA256") {
		return Signed{}, fmt.Errorf("%w: unsupported algorithm", ErrMalformed)
	}
	var out Signed
	switch v := p["user_id"].(type) {
	case string:
		out.UserID = v
	case json.Number:
		out.UserID = v.String()
	}
	if !validASID(out.UserID) {
		return Signed{}, fmt.Errorf("%w: missing or bad user_id", ErrMalformed)
	}
	switch v := p["issued_at"].(type) {
	case nil:
	case json.Number:
		n, err := strconv.ParseInt(v.String(), 10, 64)
		if err != nil {
			return Signed{}, fmt.Errorf("%w: bad issued_at", ErrMalformed)
		}
		out.IssuedAt = n
	default:
		return Signed{}, fmt.Errorf("%w: bad issued_at", ErrMalformed)
	}
	return out, nil
}

// validASID accepts an app-scoped user ID: 1 to 32 digits.
func validASID(s string) bool {
	if s == "" || len(s) > maxASID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

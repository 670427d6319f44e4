package meta

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrSignedRequest is the cause of every refused signed_request.
var ErrSignedRequest = errors.New("meta: invalid signed request")

// maxSignedRequest bounds the input: real ones are a few hundred bytes.
const maxSignedRequest = 16 << 10

// SignedRequest is the verified payload of a signed_request (the
// data-deletion and deauthorize callbacks, meta-platform.md §6).
type SignedRequest struct {
	// UserID is the app-scoped ID of the person who logged into our app
	// (written as a string by Meta, as a number by some SDKs); "" if absent.
	UserID    string
	Algorithm string
	// IssuedAt and Expires are Unix seconds; 0 when absent.
	IssuedAt int64
	Expires  int64
	// Raw is the whole payload, numbers as json.Number.
	Raw map[string]any
}

// ParseSignedRequest verifies and decodes sr, "base64url(signature) '.'
// base64url(payload)", where the signature is HMAC-SHA256 under the app
// secret of the payload segment exactly as received (padding included when
// present). It refuses a missing '.', bad base64, a wrong signature, a
// payload that is not a JSON object and an algorithm other than HMAC-SHA256
// (any case); every refusal wraps ErrSignedRequest. Freshness (issued_at)
// is the caller's to judge.
func ParseSignedRequest(sr, secret string) (SignedRequest, error) {
	if len(secret) == 0 {
		return SignedRequest{}, fmt.Errorf("%w: no app secret", ErrSignedRequest)
	}
	if len(sr) > maxSignedRequest {
		return SignedRequest{}, fmt.Errorf("%w: too long", ErrSignedRequest)
	}
	sigPart, payloadPart, ok := strings.Cut(sr, ".")
	if !ok {
		return SignedRequest{}, fmt.Errorf("%w: malformed", ErrSignedRequest)
	}
	sig, err := decodeSegment(sigPart)
	if err != nil {
		return SignedRequest{}, fmt.Errorf("%w: bad signature encoding", ErrSignedRequest)
	}
	if !hmac.Equal(sig, mac([]byte(secret), []byte(payloadPart))) {
		return SignedRequest{}, fmt.Errorf("%w: signature mismatch", ErrSignedRequest)
	}
	raw, err := decodeSegment(payloadPart)
	if err != nil {
		return SignedRequest{}, fmt.Errorf("%w: bad payload encoding", ErrSignedRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var payload map[string]any
	if err := dec.Decode(&payload); err != nil || payload == nil {
		return SignedRequest{}, fmt.Errorf("%w: payload is not a JSON object", ErrSignedRequest)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return SignedRequest{}, fmt.Errorf("%w: data after the payload object", ErrSignedRequest)
	}
	alg, _ := payload["algorithm"].(string)
	if !strings.EqualFold(alg, "HMAC-SHA256") {
		return SignedRequest{}, fmt.Errorf("%w: unsupported algorithm", ErrSignedRequest)
	}
	out := SignedRequest{Algorithm: alg, Raw: payload}
	if out.UserID, ok = idField(payload["user_id"]); !ok {
		return SignedRequest{}, fmt.Errorf("%w: bad user_id", ErrSignedRequest)
	}
	if out.IssuedAt, ok = intField(payload["issued_at"]); !ok {
		return SignedRequest{}, fmt.Errorf("%w: bad issued_at", ErrSignedRequest)
	}
	if out.Expires, ok = intField(payload["expires"]); !ok {
		return SignedRequest{}, fmt.Errorf("%w: bad expires", ErrSignedRequest)
	}
	return out, nil
}

// decodeSegment decodes URL-safe base64 with or without padding (Facebook
// omits it; the PHP SDK's vectors keep it).
func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// idField reads an ID written as a string or a number; absent is "".
func idField(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		if _, err := strconv.ParseUint(v.String(), 10, 64); err != nil {
			return "", false
		}
		return v.String(), true
	default:
		return "", false
	}
}

// intField reads a Unix time written as a number or a numeric string;
// absent is 0.
func intField(v any) (int64, bool) {
	var s string
	switch v := v.(type) {
	case nil:
		return 0, true
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

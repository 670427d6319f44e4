package metasim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// SignedRequest builds a Facebook signed_request for payload:
// base64url(HMAC-SHA256(app secret, p)) + "." + p, where p is the
// unpadded base64url of payload's JSON (a map's keys sorted, as
// encoding/json writes them).
func (s *Sim) SignedRequest(payload any) (string, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("metasim: signed request: %w", err)
	}
	p := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, []byte(s.appSecret))
	m.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)) + "." + p, nil
}

// PostSignedRequest POSTs signed_request as a form to callbackURL, as
// Meta calls the data-deletion and deauthorize callbacks, and returns the
// status and (at most 64 KiB of) the body Parley answered.
func (s *Sim) PostSignedRequest(ctx context.Context, callbackURL, signedRequest string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.hookTimeout)
	defer cancel()
	form := url.Values{"signed_request": {signedRequest}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, strings.NewReader(form))
	if err != nil {
		return 0, nil, fmt.Errorf("metasim: signed request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("metasim: signed request: %w", err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	io.Copy(&buf, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, buf.Bytes(), nil
}

// DataDeletion plays a user asking Meta to delete the data the app holds
// about them: a data-deletion callback for the app-scoped userID.
func (s *Sim) DataDeletion(ctx context.Context, callbackURL, userID string) (int, []byte, error) {
	now := s.now().Unix()
	sr, err := s.SignedRequest(map[string]any{
		"algorithm": "HMAC-SHA256", "expires": now + 3600, "issued_at": now, "user_id": userID,
	})
	if err != nil {
		return 0, nil, err
	}
	return s.PostSignedRequest(ctx, callbackURL, sr)
}

// Deauthorize plays a user removing the app: a deauthorize callback for
// the app-scoped userID.
func (s *Sim) Deauthorize(ctx context.Context, callbackURL, userID string) (int, []byte, error) {
	sr, err := s.SignedRequest(map[string]any{
		"algorithm": "HMAC-SHA256", "issued_at": s.now().Unix(),
		"user": map[string]string{"country": "us", "locale": "en_US"}, "user_id": userID,
	})
	if err != nil {
		return 0, nil, err
	}
	return s.PostSignedRequest(ctx, callbackURL, sr)
}

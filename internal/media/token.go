package media

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/db"
)

// A token names one object until an expiry, unguessably: the object ID, the
// expiry (Unix seconds, base 36) and an HMAC-SHA256 under Options.URLKey of
// both and the object's workspace, truncated to 192 bits. It is the path
// of the URL the platform fetches a reply's attachment from (the Send API
// fetches media by URL); knowing an object ID alone gives nothing, and an
// altered ID or expiry fails the MAC (security.md A-10).
const tokenMACBytes = 24

// errNoURLKey reports a Store built without Options.URLKey.
var errNoURLKey = errors.New("media: no URL key configured")

func (s *Store) mac(workspaceID, id, exp string) ([]byte, error) {
	if len(s.opt.URLKey) == 0 {
		return nil, errNoURLKey
	}
	m := hmac.New(sha256.New, s.opt.URLKey)
	for _, f := range []string{"media-url", workspaceID, id, exp} {
		m.Write([]byte(strconv.Itoa(len(f))))
		m.Write([]byte{':'})
		m.Write([]byte(f))
	}
	return m.Sum(nil)[:tokenMACBytes], nil
}

// Token returns a token for o valid until exp.
func (s *Store) Token(o Object, exp time.Time) (string, error) {
	e := strconv.FormatInt(exp.Unix(), 36)
	m, err := s.mac(o.WorkspaceID, o.ID, e)
	if err != nil {
		return "", err
	}
	return o.ID + "." + e + "." + base64.RawURLEncoding.EncodeToString(m), nil
}

// ObjectIDOf returns the object ID a token names, without checking it
// (for pages that show an attachment through their own authorised route).
func ObjectIDOf(token string) (string, bool) {
	id, _, ok := strings.Cut(token, ".")
	return id, ok && id != "" && checkKey(id) == nil
}

// OpenToken checks a token and returns its object and content.
// db.ErrNotFound for any token that is malformed, altered, expired or names
// an object that no longer exists or whose workspace is being deleted, all
// alike; ErrUnreadable when the object
// exists but cannot be opened.
func (s *Store) OpenToken(ctx context.Context, token string) (Object, []byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || checkKey(parts[0]) != nil {
		return Object{}, nil, fmt.Errorf("media: open token: %w", db.ErrNotFound)
	}
	exp, err := strconv.ParseInt(parts[1], 36, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return Object{}, nil, fmt.Errorf("media: open token: %w", db.ErrNotFound)
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(got) != tokenMACBytes {
		return Object{}, nil, fmt.Errorf("media: open token: %w", db.ErrNotFound)
	}
	// A workspace being deleted is gone for everyone at once (P-33),
	// also for whoever holds a token.
	o, err := s.get(ctx, s.d.R, `id = ? AND workspace_id IN (SELECT id FROM workspaces WHERE deletion_requested_at IS NULL)`, parts[0])
	if err != nil {
		return Object{}, nil, fmt.Errorf("media: open token: %w", err)
	}
	want, err := s.mac(o.WorkspaceID, o.ID, parts[1])
	if err != nil {
		return Object{}, nil, fmt.Errorf("media: open token: %w", err)
	}
	if !hmac.Equal(got, want) {
		return Object{}, nil, fmt.Errorf("media: open token: %w", db.ErrNotFound)
	}
	data, err := s.content(ctx, o)
	if err != nil {
		return Object{}, nil, fmt.Errorf("media: open token: %w", err)
	}
	return o, data, nil
}

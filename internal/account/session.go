package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Session token constants.
const (
	// Audience is the "aud" claim of session tokens: the dashboard cookie.
	Audience = "parley-dashboard"
	// TokenType is the "typ" claim that marks a token as a session, so a
	// token minted for another purpose with the same key is refused.
	TokenType = "session"
	// MaxTokenLen bounds what VerifySession will parse; a cookie cannot be
	// longer than 4096 bytes anyway (security.md §3.C C-12).
	MaxTokenLen = 4096
	// lastSeenEvery is how stale last_seen_at may get before a request
	// writes it again.
	lastSeenEvery = time.Minute
)

// Session is one signed-in browser: what the session cookie points at.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// sessionRow is a sessions row.
type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`

	ID         string     `bun:"id,pk"`
	UserID     string     `bun:"user_id"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	LastSeenAt time.Time  `bun:"last_seen_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

func (r *sessionRow) session() *Session {
	return &Session{ID: r.ID, UserID: r.UserID, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), LastSeenAt: r.LastSeenAt.UTC()}
}

// claims are a session token's claims.
type claims struct {
	jwt.RegisteredClaims
	SID string `json:"sid"`
	Typ string `json:"typ"`
}

// newSessionID returns 160 random bits, URL-safe: unguessable, and new for
// every login so a session planted before login is never the one after it.
func newSessionID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session for a user who has just authenticated and
// returns the signed token for the session cookie (promise P-02).
func (s *Service) CreateSession(ctx context.Context, userID string) (string, *Session, error) {
	now := s.now()
	r := &sessionRow{ID: newSessionID(), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.opt.SessionTTL), LastSeenAt: now}
	if _, err := s.d.W.NewInsert().Model(r).Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("account: create session: %w", err)
	}
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.opt.Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(r.ExpiresAt),
		},
		SID: r.ID,
		Typ: TokenType,
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.jwtKey)
	if err != nil {
		return "", nil, fmt.Errorf("account: sign session token: %w", err)
	}
	return token, r.session(), nil
}

// parseToken checks a token's signature and claims and returns them.
func (s *Service) parseToken(token string) (*claims, error) {
	if len(token) > MaxTokenLen {
		return nil, ErrInvalidSession
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.jwtKey, nil },
		// Only HS256: refuses "none" and algorithm confusion (§3.C C-1, C-2).
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(s.opt.Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.opt.Now),
		// Refuses non-canonical base64, so one token has one spelling.
		jwt.WithStrictDecoding(),
	)
	if err != nil || c.Typ != TokenType || c.SID == "" || c.Subject == "" {
		return nil, ErrInvalidSession
	}
	return &c, nil
}

// VerifySession checks a session token and returns its user and session.
// Anything wrong with the token, the session (revoked, past its lifetime,
// idle too long) or the user (gone) gives ErrInvalidSession; only a
// database failure gives another error. A valid session's last_seen_at is
// moved forward at most once a minute.
func (s *Service) VerifySession(ctx context.Context, token string) (*User, *Session, error) {
	c, err := s.parseToken(token)
	if err != nil {
		return nil, nil, err
	}
	var r sessionRow
	if err := s.d.R.NewSelect().Model(&r).Where("id = ?", c.SID).Scan(ctx); err != nil {
		if err = db.NoRows(err); errors.Is(err, db.ErrNotFound) {
			return nil, nil, ErrInvalidSession
		}
		return nil, nil, fmt.Errorf("account: verify session: %w", err)
	}
	now := s.now()
	switch {
	case r.UserID != c.Subject, r.RevokedAt != nil,
		!now.Before(r.ExpiresAt.UTC()),
		now.Sub(r.LastSeenAt.UTC()) >= s.opt.IdleTimeout:
		return nil, nil, ErrInvalidSession
	}
	u, err := s.loadUser(ctx, s.d.R, r.UserID)
	if isNotFound(err) {
		return nil, nil, ErrInvalidSession
	}
	if err != nil {
		return nil, nil, fmt.Errorf("account: verify session: %w", err)
	}
	if now.Sub(r.LastSeenAt.UTC()) >= lastSeenEvery {
		// Best effort: a failed write only makes the idle timer run early.
		_, err := s.d.W.NewUpdate().Table("sessions").Set("last_seen_at = ?", now).
			Where("id = ?", r.ID).Where("revoked_at IS NULL").Exec(ctx)
		if err != nil {
			s.opt.Logger.WarnContext(ctx, "account: update session last seen", "err", err)
		} else {
			r.LastSeenAt = now
		}
	}
	return u.user(), r.session(), nil
}

// revokeSessions revokes a user's live sessions except keep ("" keeps none).
func revokeSessions(ctx context.Context, idb bun.IDB, now time.Time, userID, keep string) error {
	q := idb.NewUpdate().Table("sessions").Set("revoked_at = ?", now).
		Where("user_id = ?", userID).Where("revoked_at IS NULL")
	if keep != "" {
		q = q.Where("id <> ?", keep)
	}
	_, err := q.Exec(ctx)
	return err
}

// RevokeSession ends one session (logout). Revoking an unknown or already
// revoked session is not an error, so logout is idempotent. The caller must
// make sure the session belongs to whoever asks.
func (s *Service) RevokeSession(ctx context.Context, sessionID string) error {
	_, err := s.d.W.NewUpdate().Table("sessions").Set("revoked_at = ?", s.now()).
		Where("id = ?", sessionID).Where("revoked_at IS NULL").Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: revoke session: %w", err)
	}
	return nil
}

// RevokeOtherSessions ends every session of the user except keepSessionID
// ("sign out everywhere else").
func (s *Service) RevokeOtherSessions(ctx context.Context, userID, keepSessionID string) error {
	if err := revokeSessions(ctx, s.d.W, s.now(), userID, keepSessionID); err != nil {
		return fmt.Errorf("account: revoke other sessions: %w", err)
	}
	return nil
}

// RevokeAllSessions ends every session of the user, for when an account is
// disabled or its second factor reset by an administrator
// (security.md §3.C C-7).
func (s *Service) RevokeAllSessions(ctx context.Context, userID string) error {
	if err := revokeSessions(ctx, s.d.W, s.now(), userID, ""); err != nil {
		return fmt.Errorf("account: revoke all sessions: %w", err)
	}
	return nil
}

// ListSessions returns the user's live sessions (not revoked, expired or
// idle), newest first, for an "active sessions" page.
func (s *Service) ListSessions(ctx context.Context, userID string) ([]Session, error) {
	var rows []sessionRow
	err := s.d.R.NewSelect().Model(&rows).Where("user_id = ?", userID).Where("revoked_at IS NULL").
		OrderExpr("created_at DESC, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: list sessions: %w", err)
	}
	now := s.now()
	out := make([]Session, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if now.Before(r.ExpiresAt.UTC()) && now.Sub(r.LastSeenAt.UTC()) < s.opt.IdleTimeout {
			out = append(out, *r.session())
		}
	}
	return out, nil
}

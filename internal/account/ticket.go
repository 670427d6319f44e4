package account

import (
	"context"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A login ticket carries "this person got the password right" from the
// first step of a two-step sign-in to the second, so a form can ask for the
// 2FA code without holding on to the password. It is a short-lived token
// signed with the session key but with its own audience and type, so it can
// never pass as a session (and a session never as a ticket).
const (
	ticketAudience = "parley-login"
	ticketType     = "login_ticket"
	// TicketTTL is how long the second step may take.
	TicketTTL = 5 * time.Minute
)

type ticketClaims struct {
	jwt.RegisteredClaims
	Typ string `json:"typ"`
	// Pwd is when the password last changed: a password change voids
	// tickets issued before it.
	Pwd int64 `json:"pwd"`
}

// IssueLoginTicket returns a ticket for a user whose password was just
// checked and who must now give a second factor.
func (s *Service) IssueLoginTicket(ctx context.Context, userID string) (string, error) {
	now := s.now()
	u, err := s.loadUser(ctx, s.d.R, userID)
	if err != nil {
		return "", fmt.Errorf("account: issue login ticket: %w", err)
	}
	c := ticketClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opt.Issuer, Subject: userID, Audience: jwt.ClaimStrings{ticketAudience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(TicketTTL)),
		},
		Typ: ticketType, Pwd: u.PasswordChangedAt.UnixMicro(),
	}
	t, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.jwtKey)
	if err != nil {
		return "", fmt.Errorf("account: sign login ticket: %w", err)
	}
	return t, nil
}

// LoginTicketUser returns the user a valid, unexpired ticket is for, so the
// caller can count wrong codes per person rather than per ticket (a new
// ticket must not mean new guesses).
func (s *Service) LoginTicketUser(ticket string) (string, error) {
	c, err := s.parseTicket(ticket)
	if err != nil {
		return "", err
	}
	return c.Subject, nil
}

func (s *Service) parseTicket(ticket string) (*ticketClaims, error) {
	if len(ticket) > MaxTokenLen {
		return nil, ErrInvalidSession
	}
	var c ticketClaims
	_, err := jwt.ParseWithClaims(ticket, &c, func(*jwt.Token) (any, error) { return s.jwtKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(s.opt.Issuer), jwt.WithAudience(ticketAudience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opt.Now), jwt.WithStrictDecoding(),
	)
	if err != nil || c.Typ != ticketType || c.Subject == "" {
		return nil, ErrInvalidSession
	}
	return &c, nil
}

// RedeemLoginTicket completes a two-step sign-in: the ticket must be valid
// and the code a current TOTP code or an unused recovery code. It returns
// ErrInvalidSession for a bad or expired ticket and ErrTOTPInvalid for a
// wrong code.
func (s *Service) RedeemLoginTicket(ctx context.Context, ticket, code string) (*User, error) {
	c, err := s.parseTicket(ticket)
	if err != nil {
		return nil, err
	}
	r, err := s.loadUser(ctx, s.d.R, c.Subject)
	if isNotFound(err) {
		return nil, ErrInvalidSession
	}
	if err != nil {
		return nil, fmt.Errorf("account: redeem login ticket: %w", err)
	}
	if r.PasswordChangedAt.UnixMicro() != c.Pwd || !r.TOTPEnabled {
		return nil, ErrInvalidSession
	}
	if err := s.checkSecondFactor(ctx, r, code); err != nil {
		return nil, err
	}
	return r.user(), nil
}

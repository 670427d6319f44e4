package access

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// Limits are the brute-force brakes on authentication (security.md §3.F).
// Failed logins count per client address and per account; sign-ups count
// per address; wrong second-factor codes count per account. A throttled
// caller is refused even with the right password, and gets 429 with
// Retry-After. No account is ever locked for good: limits are windows.
type Limits struct {
	LoginPerIP      *httpx.Limiter
	LoginPerAccount *httpx.Limiter
	SignupPerIP     *httpx.Limiter
	TwoFactor       *httpx.Limiter
}

// DefaultLimits are the production values.
func DefaultLimits(now func() time.Time) Limits {
	return Limits{
		LoginPerIP:      httpx.NewLimiter(20, 5*time.Minute, now),
		LoginPerAccount: httpx.NewLimiter(10, 15*time.Minute, now),
		SignupPerIP:     httpx.NewLimiter(10, 30*time.Minute, now),
		TwoFactor:       httpx.NewLimiter(5, 5*time.Minute, now),
	}
}

// Accounts is what the sign-in flows need of account.Service.
type Accounts interface {
	SignUp(ctx context.Context, in account.SignUp) (*account.User, error)
	Authenticate(ctx context.Context, email, password, totpCode string) (*account.User, error)
	GetByEmail(ctx context.Context, email string) (*account.User, error)
	CreateSession(ctx context.Context, userID string) (string, *account.Session, error)
	RevokeSession(ctx context.Context, sessionID string) error
	IssueLoginTicket(ctx context.Context, userID string) (string, error)
	LoginTicketUser(ticket string) (string, error)
	RedeemLoginTicket(ctx context.Context, ticket, code string) (*account.User, error)
}

// Auth runs sign-up, sign-in and sign-out for both the API and the
// dashboard, so the two cannot drift apart in their checks.
type Auth struct {
	Accounts Accounts
	Guard    *Guard
	Limits   Limits
	DB       *db.DB
	Now      func() time.Time

	background sync.WaitGroup
}

// Errors of the sign-in flows, with the stable codes the API documents.
var (
	ErrInvalidCredentials = httpx.Unauthorized("invalid_credentials", "The e-mail or password is not right.")
	ErrTOTPRequired       = httpx.Unauthorized("totp_required", "Enter the 6-digit code from your authenticator app, or a recovery code.")
	ErrTOTPInvalid        = httpx.Unauthorized("totp_invalid", "That code is not right, or was already used. Try the current code.")
	// ErrLoginExpired means the two-step sign-in's ticket ran out: start
	// again from the password.
	ErrLoginExpired = httpx.Unauthorized("login_expired", "The sign-in took too long. Enter your e-mail and password again.")
)

// clientKey is the rate-limit key of the caller's address. IPv6 addresses
// count per /64, the block one subscriber usually gets, so rotating through
// it buys no fresh attempts.
func clientKey(r *http.Request) string {
	ip := httpx.ClientIP(r.Context())
	switch {
	case !ip.IsValid():
		return "ip:unknown"
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + ip.String()
}

// SignUp creates the user, signs them in and records it.
func (a *Auth) SignUp(w http.ResponseWriter, r *http.Request, in account.SignUp) (*account.User, error) {
	if ok, retry := a.Limits.SignupPerIP.Allow(clientKey(r)); !ok {
		return nil, httpx.TooManyRequests(retry)
	}
	u, err := a.Accounts.SignUp(r.Context(), in)
	if err != nil {
		return nil, DomainError(err)
	}
	a.audit(r, u.ID, "auth.signup")
	if err := a.startSession(w, r, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Login checks the password (and the second factor when given). When the
// user has 2FA on and no code was given it returns ErrTOTPRequired together
// with a short-lived ticket, so a form can ask for the code without keeping
// the password.
//
// Every attempt is counted before the password is checked and refunded
// when it turns out right, so a burst of parallel guesses cannot slip past
// the limits while bcrypt runs.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request, email, password, code string) (u *account.User, ticket string, err error) {
	ipKey, acctKey := clientKey(r), "email:"+strings.ToLower(strings.TrimSpace(email))
	var taken []counted
	defer func() { refundAll(taken) }()
	if err := take(&taken, a.Limits.LoginPerIP, ipKey); err != nil {
		return nil, "", err
	}
	if err := take(&taken, a.Limits.LoginPerAccount, acctKey); err != nil {
		return nil, "", err
	}
	var known *account.User
	if code != "" {
		// Wrong codes count per person, whichever way they are sent.
		known, _ = a.Accounts.GetByEmail(r.Context(), email)
		tfKey := acctKey
		if known != nil {
			tfKey = "user:" + known.ID
		}
		if err := take(&taken, a.Limits.TwoFactor, tfKey); err != nil {
			return nil, "", err
		}
	}
	u, err = a.Accounts.Authenticate(r.Context(), email, password, code)
	switch {
	case errors.Is(err, account.ErrTOTPRequired):
		if known == nil {
			known, _ = a.Accounts.GetByEmail(r.Context(), email)
		}
		if known == nil {
			return nil, "", ErrInvalidCredentials
		}
		ticket, err := a.Accounts.IssueLoginTicket(r.Context(), known.ID)
		if err != nil {
			return nil, "", httpx.Internal(err)
		}
		return nil, ticket, ErrTOTPRequired
	case errors.Is(err, account.ErrTOTPInvalid):
		keep(taken, a.Limits.TwoFactor)
		a.failed(r, email, "auth.2fa_failed")
		return nil, "", ErrTOTPInvalid
	case errors.Is(err, account.ErrInvalidCredentials):
		keep(taken, a.Limits.LoginPerIP, a.Limits.LoginPerAccount)
		a.failed(r, email, "auth.login_failed")
		return nil, "", ErrInvalidCredentials
	case err != nil:
		return nil, "", DomainError(err)
	}
	a.Limits.LoginPerAccount.Reset(acctKey)
	a.audit(r, u.ID, "auth.login")
	return u, "", a.startSession(w, r, u)
}

// CompleteLogin finishes a two-step sign-in with the ticket from Login and
// a TOTP or recovery code.
func (a *Auth) CompleteLogin(w http.ResponseWriter, r *http.Request, ticket, code string) (*account.User, error) {
	uid, err := a.Accounts.LoginTicketUser(ticket)
	if err != nil {
		return nil, ErrLoginExpired
	}
	var taken []counted
	defer func() { refundAll(taken) }()
	if err := take(&taken, a.Limits.TwoFactor, "user:"+uid); err != nil {
		return nil, err
	}
	u, err := a.Accounts.RedeemLoginTicket(r.Context(), ticket, code)
	switch {
	case errors.Is(err, account.ErrTOTPInvalid):
		keep(taken, a.Limits.TwoFactor)
		a.audit(r, uid, "auth.2fa_failed")
		return nil, ErrTOTPInvalid
	case errors.Is(err, account.ErrInvalidSession), errors.Is(err, account.ErrInvalidCredentials):
		return nil, ErrLoginExpired
	case err != nil:
		return nil, DomainError(err)
	}
	a.audit(r, u.ID, "auth.login")
	return u, a.startSession(w, r, u)
}

// Reauthenticate runs check — a service call that verifies the signed-in
// caller's password before changing their account (password change, 2FA on
// or off, new recovery codes) — under the per-account limit, so a stolen
// session cannot guess the password at will. A wrong password counts; any
// other outcome is refunded.
func (a *Auth) Reauthenticate(r *http.Request, check func() error) error {
	p := PrincipalFrom(r.Context())
	if p == nil || p.User == nil {
		return errSignIn
	}
	var taken []counted
	defer func() { refundAll(taken) }()
	if err := take(&taken, a.Limits.LoginPerAccount, "user:"+p.User.ID); err != nil {
		return err
	}
	err := check()
	if errors.Is(err, account.ErrInvalidCredentials) {
		keep(taken, a.Limits.LoginPerAccount)
		a.audit(r, p.User.ID, "auth.reauth_failed")
	}
	return err
}

// counted is one event taken from a limiter and not yet kept.
type counted struct {
	l    *httpx.Limiter
	key  string
	kept bool
}

// take counts one event for key, or answers 429 when the limit is reached.
func take(taken *[]counted, l *httpx.Limiter, key string) error {
	if ok, retry := l.Allow(key); !ok {
		return httpx.TooManyRequests(retry)
	}
	*taken = append(*taken, counted{l: l, key: key})
	return nil
}

// keep marks the events taken from the given limiters as deserved (a
// failure), so refundAll leaves them counted.
func keep(taken []counted, ls ...*httpx.Limiter) {
	for i := range taken {
		for _, l := range ls {
			if taken[i].l == l {
				taken[i].kept = true
			}
		}
	}
}

func refundAll(taken []counted) {
	for _, c := range taken {
		if !c.kept {
			c.l.Refund(c.key)
		}
	}
}

// Logout revokes the caller's session server-side and clears the cookie, so
// a copy of the old cookie no longer works. An administrator signing out
// while impersonating someone stops that first, so the end is in the audit
// logs like a "stop impersonating" (the session's end would end it
// anyway, without a word in them).
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	if p == nil || p.Session == nil {
		a.Guard.ClearSessionCookie(w)
		return nil
	}
	act := Actor(r)
	if p.Impersonator != nil && a.Guard.Impersonation != nil {
		// Signing out must work even when the entry cannot be written:
		// revoking the session ends the impersonation regardless.
		if err := a.Guard.Impersonation.StopImpersonating(r.Context(), act, p.Session.ID); err != nil && a.Guard.Log != nil {
			a.Guard.Log.ErrorContext(r.Context(), "impersonation not stopped at sign-out", "err", err)
		}
	}
	if err := a.Accounts.RevokeSession(r.Context(), p.Session.ID); err != nil {
		return httpx.Internal(err)
	}
	a.Guard.ClearSessionCookie(w)
	// The person signing out is the one really signed in: the
	// administrator, not the user they acted as.
	act.UserID, act.ImpersonatorID = p.Real().ID, ""
	a.record(r, act, "auth.logout")
	return nil
}

func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, u *account.User) error {
	token, _, err := a.Accounts.CreateSession(r.Context(), u.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	a.Guard.SetSessionCookie(w, token)
	return nil
}

// AuditUser records an account-level event (password change, 2FA on or
// off …) by the signed-in caller of r.
func (a *Auth) AuditUser(r *http.Request, action string) {
	a.audit(r, Actor(r).UserID, action)
}

// audit records an account-level event; a failure to write it is logged,
// not shown to the person signing in.
func (a *Auth) audit(r *http.Request, userID, action string) {
	act := Actor(r)
	act.UserID = userID
	a.record(r, act, action)
}

// record writes an account-level entry by act about act.UserID.
func (a *Auth) record(r *http.Request, act audit.Actor, action string) {
	if err := audit.Record(r.Context(), a.DB.W, a.Now(), "", act, action, "user", act.UserID, nil); err != nil && a.Guard.Log != nil {
		a.Guard.Log.ErrorContext(r.Context(), "audit write failed", "action", action, "err", err)
	}
}

// failed audits a failed attempt against a known account (unknown e-mails
// are not recorded: that would store addresses of people who never signed
// up). It runs after the response, so that known and unknown e-mails take
// the same time to answer (security.md §3.F F-3).
func (a *Auth) failed(r *http.Request, email, action string) {
	act := Actor(r)
	ctx := context.WithoutCancel(r.Context())
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		if u, err := a.Accounts.GetByEmail(ctx, email); err == nil && u != nil {
			act.UserID = u.ID
			if err := audit.Record(ctx, a.DB.W, a.Now(), "", act, action, "user", u.ID, nil); err != nil && a.Guard.Log != nil {
				a.Guard.Log.ErrorContext(ctx, "audit write failed", "action", action, "err", err)
			}
		}
	}()
}

// Wait waits for audit entries still being written after their responses
// (for a clean shutdown and for tests).
func (a *Auth) Wait() { a.background.Wait() }

// DomainError maps errors from the domain packages to HTTP errors:
// validation to 422 naming the field, not-found to 404, conflicts to 409.
func DomainError(err error) error {
	if err == nil {
		return nil
	}
	var he *httpx.Error
	if errors.As(err, &he) {
		return he
	}
	if v, ok := validate.As(err); ok {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + v.Field, Field: v.Field, Message: v.Message}
	}
	if e := accountError(err); e != nil {
		return e
	}
	if e := workspaceError(err); e != nil {
		return e
	}
	switch {
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("item")
	case errors.Is(err, db.ErrConflict):
		return httpx.Conflict("conflict", "That clashes with something that already exists.")
	}
	return httpx.Internal(err)
}

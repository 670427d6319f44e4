package api

import (
	"errors"
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/httpx"
)

type signupRequest struct {
	Email        string `json:"email"`
	Password     string `json:"password"`
	Name         string `json:"name"`
	AgeConfirmed bool   `json:"age_confirmed"`
}

func (a *API) signup(w http.ResponseWriter, r *http.Request) error {
	var in signupRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	u, err := a.Auth.SignUp(w, r, account.SignUp{Email: in.Email, Password: in.Password, Name: in.Name, AgeConfirmed: in.AgeConfirmed})
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"user": u})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTPCode string `json:"totp_code"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	u, _, err := a.Auth.Login(w, r, in.Email, in.Password, in.TOTPCode)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"user": u})
}

type ticketRequest struct {
	Ticket string `json:"ticket"`
	Code   string `json:"code"`
}

// loginSecondFactor completes a two-step sign-in (the dashboard's flow; API
// clients may instead send totp_code with the password).
func (a *API) loginSecondFactor(w http.ResponseWriter, r *http.Request) error {
	var in ticketRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	u, err := a.Auth.CompleteLogin(w, r, in.Ticket, in.Code)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	if err := a.Auth.Logout(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	p := access.PrincipalFrom(r.Context())
	ms, err := a.Workspaces.ListForUser(r.Context(), p.User.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	left, err := a.Accounts.RecoveryCodesLeft(r.Context(), p.User.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"user": p.User, "workspaces": nonNil(ms), "recovery_codes_left": left,
		"session": map[string]any{"expires_at": p.Session.ExpiresAt},
	})
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword re-hashes the password and ends every other session of the
// user (P-02); the caller's own session goes on.
func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	p := access.PrincipalFrom(r.Context())
	if err := a.Auth.Reauthenticate(r, func() error {
		return a.Accounts.ChangePassword(r.Context(), p.User.ID, in.CurrentPassword, in.NewPassword, p.Session.ID)
	}); err != nil {
		return passwordError(err, "current_password")
	}
	a.Auth.AuditUser(r, "auth.password_change")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// beginTOTP starts enrolment; it needs the password, so a stolen session
// cannot enrol another authenticator.
func (a *API) beginTOTP(w http.ResponseWriter, r *http.Request) error {
	var in passwordOnly
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	p := access.PrincipalFrom(r.Context())
	var secret, url string
	if err := a.Auth.Reauthenticate(r, func() (err error) {
		secret, url, err = a.Accounts.BeginTOTP(r.Context(), p.User.ID, in.Password)
		return err
	}); err != nil {
		return passwordError(err, "password")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"secret": secret, "otpauth_url": url})
}

type codeRequest struct {
	Code string `json:"code"`
}

func (a *API) enableTOTP(w http.ResponseWriter, r *http.Request) error {
	var in codeRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	p := access.PrincipalFrom(r.Context())
	codes, err := a.Accounts.EnableTOTP(r.Context(), p.User.ID, in.Code, p.Session.ID)
	if err != nil {
		return access.DomainError(err)
	}
	a.Auth.AuditUser(r, "auth.2fa_enable")
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

type passwordOnly struct {
	Password string `json:"password"`
}

func (a *API) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	var in passwordOnly
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	p := access.PrincipalFrom(r.Context())
	if err := a.Auth.Reauthenticate(r, func() error { return a.Accounts.DisableTOTP(r.Context(), p.User.ID, in.Password, p.Session.ID) }); err != nil {
		return passwordError(err, "password")
	}
	a.Auth.AuditUser(r, "auth.2fa_disable")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	var in passwordOnly
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	p := access.PrincipalFrom(r.Context())
	var codes []string
	if err := a.Auth.Reauthenticate(r, func() (err error) {
		codes, err = a.Accounts.RegenerateRecoveryCodes(r.Context(), p.User.ID, in.Password)
		return err
	}); err != nil {
		return passwordError(err, "password")
	}
	a.Auth.AuditUser(r, "auth.recovery_codes_regenerate")
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

// passwordError reports a wrong confirmation password as a 422 on the
// field, not a 401: the caller is signed in, and a 401 would tell clients
// to drop the session.
func passwordError(err error, field string) error {
	if errors.Is(err, account.ErrInvalidCredentials) {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + field, Field: field, Message: "That password is not right."}
	}
	return access.DomainError(err)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"
	"strings"

	"github.com/pquerna/otp"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/validate"
)

// securityView is the account security page.
type securityView struct {
	TOTPEnabled  bool
	RecoveryLeft int
	MinPassword  int
	// Setup is a two-factor setup in progress.
	Setup *totpSetup
	// RecoveryCodes are new recovery codes, shown this once.
	RecoveryCodes []string
}

// totpSetup is what a person needs to add Parley to an authenticator app.
type totpSetup struct {
	Secret string
	URL    string
	// QR is the otpauth URL as a QR code (a data: URL, which the CSP's
	// img-src allows); empty if it could not be drawn.
	QR template.URL
}

const securityPath = "/account/security"

func (d *Dashboard) securityPage(r *http.Request) (*page, *securityView, error) {
	p, err := d.newPage(r, "Sign-in and security")
	if err != nil {
		return nil, nil, err
	}
	p.Nav, p.Form = "security", newForm(r)
	// Read the user again: the principal was loaded before this request
	// changed anything.
	u, err := d.Accounts.Get(r.Context(), p.User.ID)
	if err != nil {
		return nil, nil, err
	}
	p.User = u
	v := &securityView{TOTPEnabled: u.TOTPEnabled, MinPassword: account.MinPasswordLen}
	if u.TOTPEnabled {
		if v.RecoveryLeft, err = d.Accounts.RecoveryCodesLeft(r.Context(), u.ID); err != nil {
			return nil, nil, err
		}
	}
	p.Data = v
	return p, v, nil
}

func (d *Dashboard) security(w http.ResponseWriter, r *http.Request) error {
	p, _, err := d.securityPage(r)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "security", p)
}

// showSecurity answers a security form's post with the page.
func (d *Dashboard) showSecurity(w http.ResponseWriter, status int, p *page) error {
	pushURL(w, securityPath)
	return d.render(w, status, "security", p)
}

// changePassword changes the password; every other session of the user
// ends, this one goes on (promise P-02). The new password is typed twice so
// a typo cannot lock the person out.
func (d *Dashboard) changePassword(w http.ResponseWriter, r *http.Request) error {
	pr := access.PrincipalFrom(r.Context())
	next := r.PostFormValue("new_password")
	var err error
	if next != r.PostFormValue("new_password_confirm") {
		err = validate.Field("new_password_confirm", "The two new passwords are not the same.")
	} else {
		err = d.Auth.Reauthenticate(r, func() error {
			return d.Accounts.ChangePassword(r.Context(), pr.User.ID, r.PostFormValue("current_password"), next, pr.Session.ID)
		})
	}
	p, _, lerr := d.securityPage(r)
	if lerr != nil {
		return lerr
	}
	if err != nil {
		status, ierr := p.Form.fail(w, err, "new_password", "new_password_confirm")
		if ierr != nil {
			return ierr
		}
		if errors.Is(err, account.ErrInvalidCredentials) {
			p.Form.Errors["current_password"], p.Form.Error = "That is not your current password.", ""
		}
		return d.showSecurity(w, status, p)
	}
	d.Auth.AuditUser(r, "auth.password_change")
	p.Notice = "Your password has been changed. Any other devices signed in to your account were signed out."
	return d.showSecurity(w, http.StatusOK, p)
}

// beginTOTP starts a two-factor setup and shows the secret to scan. It
// asks for the password first: a stolen session must not be able to enrol
// another authenticator.
func (d *Dashboard) beginTOTP(w http.ResponseWriter, r *http.Request) error {
	pr := access.PrincipalFrom(r.Context())
	var secret, url string
	err := d.Auth.Reauthenticate(r, func() (err error) {
		secret, url, err = d.Accounts.BeginTOTP(r.Context(), pr.User.ID, r.PostFormValue("password"))
		return err
	})
	p, v, lerr := d.securityPage(r)
	if lerr != nil {
		return lerr
	}
	if err != nil {
		status, ierr := p.Form.fail(w, err)
		if ierr != nil {
			return ierr
		}
		if errors.Is(err, account.ErrInvalidCredentials) {
			p.Form.Errors["setup_password"], p.Form.Error = "That is not your password.", ""
		}
		return d.showSecurity(w, status, p)
	}
	v.Setup = newSetup(secret, url)
	return d.showSecurity(w, http.StatusOK, p)
}

// enableTOTP checks the first code from the app, turns two-factor on and
// shows the recovery codes once.
func (d *Dashboard) enableTOTP(w http.ResponseWriter, r *http.Request) error {
	pr := access.PrincipalFrom(r.Context())
	codes, err := d.Accounts.EnableTOTP(r.Context(), pr.User.ID, strings.TrimSpace(r.PostFormValue("code")), pr.Session.ID)
	p, v, lerr := d.securityPage(r)
	if lerr != nil {
		return lerr
	}
	if err != nil {
		status, ierr := p.Form.fail(w, err, "code")
		if ierr != nil {
			return ierr
		}
		if errors.Is(err, account.ErrTOTPInvalid) {
			// Show the same secret again (it comes back from the form only
			// to be displayed; the service keeps the real pending one).
			v.Setup = newSetup(r.PostFormValue("secret"), r.PostFormValue("otpauth_url"))
		}
		return d.showSecurity(w, status, p)
	}
	d.Auth.AuditUser(r, "auth.2fa_enable")
	v.RecoveryCodes = codes
	p.Notice = "Two-factor authentication is on."
	return d.showSecurity(w, http.StatusOK, p)
}

func (d *Dashboard) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	pr := access.PrincipalFrom(r.Context())
	err := d.Auth.Reauthenticate(r, func() error {
		return d.Accounts.DisableTOTP(r.Context(), pr.User.ID, r.PostFormValue("password"), pr.Session.ID)
	})
	p, _, lerr := d.securityPage(r)
	if lerr != nil {
		return lerr
	}
	if err != nil {
		status, ierr := p.Form.fail(w, err, "password")
		if ierr != nil {
			return ierr
		}
		return d.showSecurity(w, status, p)
	}
	d.Auth.AuditUser(r, "auth.2fa_disable")
	p.Notice = "Two-factor authentication is off. You can turn it on again at any time."
	return d.showSecurity(w, http.StatusOK, p)
}

func (d *Dashboard) regenerateCodes(w http.ResponseWriter, r *http.Request) error {
	pr := access.PrincipalFrom(r.Context())
	var codes []string
	err := d.Auth.Reauthenticate(r, func() (err error) {
		codes, err = d.Accounts.RegenerateRecoveryCodes(r.Context(), pr.User.ID, r.PostFormValue("password"))
		return err
	})
	p, v, lerr := d.securityPage(r)
	if lerr != nil {
		return lerr
	}
	if err != nil {
		status, ierr := p.Form.fail(w, err, "password")
		if ierr != nil {
			return ierr
		}
		return d.showSecurity(w, status, p)
	}
	d.Auth.AuditUser(r, "auth.recovery_codes_regenerate")
	v.RecoveryCodes = codes
	p.Notice = "New recovery codes are ready. The old ones no longer work."
	return d.showSecurity(w, http.StatusOK, p)
}

// newSetup draws the QR code of an otpauth URL. Only the user's own
// secret is drawn, in their own page.
func newSetup(secret, url string) *totpSetup {
	s := &totpSetup{Secret: secret, URL: url}
	key, err := otp.NewKeyFromURL(url)
	if err != nil || key.Secret() != secret {
		return s
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return s
	}
	var buf bytes.Buffer
	if png.Encode(&buf, img) == nil {
		s.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
	}
	return s
}

package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/httpx"
)

// authView is what the sign-up and sign-in pages show besides the form.
type authView struct {
	// Next is where to go after signing in (a local path).
	Next string
	// Ticket carries a half-finished two-step sign-in to the code form.
	Ticket string
	// MinPassword is the password policy's minimum length, shown as a hint.
	MinPassword int
}

// safeNext keeps next only when it is a path on this site, so a crafted
// link cannot send someone elsewhere after they sign in.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

func signedIn(r *http.Request) bool {
	p := access.PrincipalFrom(r.Context())
	return p != nil && p.User != nil
}

func (d *Dashboard) signupForm(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if signedIn(r) {
		return redirect(w, r, next)
	}
	return d.render(w, http.StatusOK, "signup", &page{Title: "Create your account", Form: newForm(r),
		Data: authView{Next: next, MinPassword: account.MinPasswordLen}})
}

func (d *Dashboard) signup(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.PostFormValue("next"))
	f := newForm(r, "email", "name", "age_confirmed")
	_, err := d.Auth.SignUp(w, r, account.SignUp{
		Email:        r.PostFormValue("email"),
		Password:     r.PostFormValue("password"),
		Name:         r.PostFormValue("name"),
		AgeConfirmed: r.PostFormValue("age_confirmed") == "yes",
	})
	if err != nil {
		status, ierr := f.fail(w, err, "email", "password", "name", "age_confirmed")
		if ierr != nil {
			return ierr
		}
		return d.render(w, status, "signup", &page{Title: "Create your account", Form: f,
			Data: authView{Next: next, MinPassword: account.MinPasswordLen}})
	}
	return redirect(w, r, next)
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if signedIn(r) {
		return redirect(w, r, next)
	}
	return d.render(w, http.StatusOK, "login", &page{Title: "Sign in", Form: newForm(r), Data: authView{Next: next}})
}

// login checks the e-mail and password. With two-factor authentication on,
// it answers the code form carrying a short-lived ticket instead of the
// password, which is never sent back to the browser.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.PostFormValue("next"))
	f := newForm(r, "email")
	_, ticket, err := d.Auth.Login(w, r, r.PostFormValue("email"), r.PostFormValue("password"), "")
	switch {
	case errors.Is(err, access.ErrTOTPRequired) && ticket != "":
		pushURL(w, "/login")
		return d.render(w, http.StatusOK, "login_code", &page{Title: "Enter your code", Form: newForm(r),
			Data: authView{Next: next, Ticket: ticket}})
	case err != nil:
		status, ierr := f.fail(w, err)
		if ierr != nil {
			return ierr
		}
		return d.render(w, status, "login", &page{Title: "Sign in", Form: f, Data: authView{Next: next}})
	}
	return redirect(w, r, next)
}

// loginCode finishes a two-step sign-in with a 6-digit or recovery code.
func (d *Dashboard) loginCode(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.PostFormValue("next"))
	ticket := r.PostFormValue("ticket")
	_, err := d.Auth.CompleteLogin(w, r, ticket, strings.TrimSpace(r.PostFormValue("code")))
	if err == nil {
		return redirect(w, r, next)
	}
	pushURL(w, "/login")
	f := newForm(r)
	if e := httpx.AsError(err); e == access.ErrLoginExpired {
		// The ticket ran out: start again from the password.
		f.Error = e.Message
		return d.render(w, formStatus(e), "login", &page{Title: "Sign in", Form: f, Data: authView{Next: next}})
	}
	status, ierr := f.fail(w, err, "code")
	if ierr != nil {
		return ierr
	}
	if f.Error != "" && status != http.StatusTooManyRequests { // a wrong code belongs next to the field
		f.Errors["code"], f.Error = f.Error, ""
	}
	return d.render(w, status, "login_code", &page{Title: "Enter your code", Form: f, Data: authView{Next: next, Ticket: ticket}})
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) error {
	if err := d.Auth.Logout(w, r); err != nil {
		return err
	}
	return redirect(w, r, "/login")
}

// equalFoldTrim compares two e-mail addresses as the services do.
func equalFoldTrim(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

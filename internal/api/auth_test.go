package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

func countRows(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw("SELECT count(*) FROM "+table).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Promise P-01, P-02: sign-up sets one HttpOnly, SameSite=Lax session cookie;
// /me shows the user; logout revokes the session so the old cookie fails.
func TestSignupLoginLogout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		c := a.Client(t)
		res := c.Do("POST", "/api/v1/auth/signup", map[string]any{"email": "Dara@Example.com", "password": apptest.Password, "name": "Dara", "age_confirmed": true}).Must(t, 201)
		cookies := res.Header.Values("Set-Cookie")
		if len(cookies) != 1 || !strings.HasPrefix(cookies[0], "parley_session=") || !strings.Contains(cookies[0], "HttpOnly") || !strings.Contains(cookies[0], "SameSite=Lax") || strings.Contains(cookies[0], "Secure") {
			t.Fatalf("Set-Cookie = %q", cookies)
		}
		old := c.Cookie("parley_session").Value

		var me struct {
			User       struct{ Email, Name string }
			Workspaces []any
		}
		c.Do("GET", "/api/v1/me", nil).Must(t, 200).JSON(t, &me)
		if me.User.Email != "Dara@Example.com" || me.User.Name != "Dara" || me.Workspaces == nil || len(me.Workspaces) != 0 {
			t.Fatalf("me = %+v", me)
		}

		c.Do("POST", "/api/v1/auth/logout", nil).Must(t, 204)
		c.Do("GET", "/api/v1/me", nil).Must(t, 401)

		// The copied old cookie no longer works (C-6).
		stale := a.Client(t)
		req, _ := http.NewRequest("GET", a.Server.URL+"/api/v1/me", nil)
		req.AddCookie(&http.Cookie{Name: "parley_session", Value: old})
		if r := stale.Send(req); r.Status != 401 {
			t.Fatalf("old cookie after logout: %d", r.Status)
		}

		// Log in again, by any case of the e-mail.
		c.Do("POST", "/api/v1/auth/login", map[string]string{"email": "dara@example.com", "password": "wrong password here"}).Must(t, 401)
		if code := c.Do("POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": apptest.Password}).Must(t, 401).ErrorCode(); code != "invalid_credentials" {
			t.Fatalf("unknown e-mail code %q", code)
		}
		c.Do("POST", "/api/v1/auth/login", map[string]string{"email": "dara@example.com", "password": apptest.Password}).Must(t, 200)
		c.Do("GET", "/api/v1/me", nil).Must(t, 200)
		if c.Cookie("parley_session").Value == old {
			t.Fatal("login reused the old session token (session fixation)")
		}
	})
}

// Promise P-02: over https the cookie is Secure and __Host- prefixed.
func TestSecureCookieOverHTTPS(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t), apptest.WithConfig(func(c *config.Config) {
		c.BaseURL.Scheme = "https"
	}))
	res := a.Client(t).Do("POST", "/api/v1/auth/signup", map[string]any{"email": "s@example.com", "password": apptest.Password, "age_confirmed": true}).Must(t, 201)
	ck := res.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-parley_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age="} {
		if !strings.Contains(ck, want) {
			t.Errorf("Set-Cookie %q lacks %q", ck, want)
		}
	}
	if strings.Contains(ck, "Domain=") {
		t.Errorf("Set-Cookie %q has a Domain", ck)
	}
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over https")
	}
}

// Promise P-02 (C-7): changing the password ends every other session but
// keeps the one that changed it.
func TestPasswordChangeRevokesOtherSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		u := a.SignUp(t, "kim")
		other := a.Client(t)
		other.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": apptest.Password}).Must(t, 200)
		other.Do("GET", "/api/v1/me", nil).Must(t, 200)

		u.Do("POST", "/api/v1/me/password", map[string]string{"current_password": "not it at all", "new_password": "a whole new passphrase"}).Must(t, 422)
		u.Do("POST", "/api/v1/me/password", map[string]string{"current_password": apptest.Password, "new_password": "short"}).Must(t, 422)
		u.Do("POST", "/api/v1/me/password", map[string]string{"current_password": apptest.Password, "new_password": "a whole new passphrase"}).Must(t, 204)

		u.Do("GET", "/api/v1/me", nil).Must(t, 200)
		other.Do("GET", "/api/v1/me", nil).Must(t, 401)
		a.Client(t).Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": apptest.Password}).Must(t, 401)
		a.Client(t).Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "a whole new passphrase"}).Must(t, 200)
	})
}

// Promise P-05: TOTP 2FA through the API, with the login answering
// totp_required, codes working once and recovery codes as a fallback.
func TestTwoFactorLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		u := a.SignUp(t, "sina")
		var setup struct {
			Secret     string `json:"secret"`
			OtpauthURL string `json:"otpauth_url"`
		}
		u.Do("POST", "/api/v1/me/2fa/setup", map[string]string{"password": apptest.Password}).Must(t, 200).JSON(t, &setup)
		if setup.Secret == "" || !strings.HasPrefix(setup.OtpauthURL, "otpauth://totp/") {
			t.Fatalf("setup = %+v", setup)
		}
		u.Do("POST", "/api/v1/me/2fa/enable", map[string]string{"code": "000000"}).Must(t, 422)
		code, _ := totp.GenerateCode(setup.Secret, a.Clock.Now())
		var enabled struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		u.Do("POST", "/api/v1/me/2fa/enable", map[string]string{"code": code}).Must(t, 200).JSON(t, &enabled)
		if len(enabled.RecoveryCodes) != 10 {
			t.Fatalf("recovery codes = %v", enabled.RecoveryCodes)
		}

		c := a.Client(t)
		login := map[string]string{"email": u.Email, "password": apptest.Password}
		if got := c.Do("POST", "/api/v1/auth/login", login).Must(t, 401).ErrorCode(); got != "totp_required" {
			t.Fatalf("code = %q, want totp_required", got)
		}
		c.Do("GET", "/api/v1/me", nil).Must(t, 401)

		a.Clock.Advance(30 * time.Second)
		code, _ = totp.GenerateCode(setup.Secret, a.Clock.Now())
		login["totp_code"] = code
		c.Do("POST", "/api/v1/auth/login", login).Must(t, 200)
		// The same code a second time is refused (F-6).
		if got := a.Client(t).Do("POST", "/api/v1/auth/login", login).Must(t, 401).ErrorCode(); got != "totp_invalid" {
			t.Fatalf("replayed code: %q", got)
		}
		login["totp_code"] = enabled.RecoveryCodes[0]
		a.Client(t).Do("POST", "/api/v1/auth/login", login).Must(t, 200)
		a.Client(t).Do("POST", "/api/v1/auth/login", login).Must(t, 401)
	})
}

// Security §3.F F-1: too many failed logins answer 429 with Retry-After, and
// then even the right password is refused until the window passes.
func TestLoginRateLimit(t *testing.T) {
	d := dbtest.SQLite(t)
	var a *apptest.App
	clock := func() time.Time { return a.Clock.Now() }
	a = apptest.New(t, d, apptest.WithLimits(access.Limits{
		LoginPerIP:      httpx.NewLimiter(100, 5*time.Minute, clock),
		LoginPerAccount: httpx.NewLimiter(3, 15*time.Minute, clock),
		SignupPerIP:     httpx.NewLimiter(2, 30*time.Minute, clock),
		TwoFactor:       httpx.NewLimiter(5, 5*time.Minute, clock),
	}))
	u := a.SignUp(t, "vann")
	c := a.Client(t)
	for i := 0; i < 3; i++ {
		c.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "guess number " + string(rune('a'+i))}).Must(t, 401)
	}
	res := c.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": apptest.Password}).Must(t, 429)
	if res.Header.Get("Retry-After") == "" || res.ErrorCode() != "rate_limited" {
		t.Fatalf("429 without Retry-After: %v %s", res.Header, res.Body)
	}
	a.Clock.Advance(16 * time.Minute)
	c.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": apptest.Password}).Must(t, 200)

	// Sign-ups per address: the limit here is 2 and one was used above.
	a.Client(t).Do("POST", "/api/v1/auth/signup", map[string]any{"email": "x1@example.com", "password": apptest.Password, "age_confirmed": true}).Must(t, 201)
	res = a.Client(t).Do("POST", "/api/v1/auth/signup", map[string]any{"email": "x2@example.com", "password": apptest.Password, "age_confirmed": true}).Must(t, 429)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("signup 429 without Retry-After")
	}
	if n := countRows(t, d, "users"); n != 2 {
		t.Fatalf("users = %d, want 2 (throttled sign-up must create nothing)", n)
	}
}

// Security §3.F F-10: X-Forwarded-For from an untrusted peer does not
// change the rate-limit key.
func TestForwardedForIsIgnoredFromUntrustedPeers(t *testing.T) {
	var a *apptest.App
	clock := func() time.Time { return a.Clock.Now() }
	a = apptest.New(t, dbtest.SQLite(t), apptest.WithLimits(access.Limits{
		LoginPerIP:      httpx.NewLimiter(2, 5*time.Minute, clock),
		LoginPerAccount: httpx.NewLimiter(100, 15*time.Minute, clock),
		SignupPerIP:     httpx.NewLimiter(100, 30*time.Minute, clock),
		TwoFactor:       httpx.NewLimiter(5, 5*time.Minute, clock),
	}))
	c := a.Client(t)
	for i := 0; i < 2; i++ {
		c.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
		c.Do("POST", "/api/v1/auth/login", map[string]string{"email": "a@example.com", "password": "whatever it is"}).Must(t, 401)
	}
	c.Header.Set("X-Forwarded-For", "203.0.113.9")
	c.Do("POST", "/api/v1/auth/login", map[string]string{"email": "a@example.com", "password": "whatever it is"}).Must(t, 429)
}

// Security review: guesses sent in parallel are counted before bcrypt runs,
// so exactly the limit of them is checked and the rest get 429.
func TestParallelGuessesCannotSlipPastTheLimit(t *testing.T) {
	var a *apptest.App
	clock := func() time.Time { return a.Clock.Now() }
	a = apptest.New(t, dbtest.SQLite(t), apptest.WithLimits(access.Limits{
		LoginPerIP:      httpx.NewLimiter(1000, 5*time.Minute, clock),
		LoginPerAccount: httpx.NewLimiter(5, 15*time.Minute, clock),
		SignupPerIP:     httpx.NewLimiter(100, 30*time.Minute, clock),
		TwoFactor:       httpx.NewLimiter(5, 5*time.Minute, clock),
	}))
	u := a.SignUp(t, "burst")
	statuses := make(chan int, 40)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- a.Client(t).Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "a wrong guess here"}).Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[401] != 5 || count[429] != 35 {
		t.Fatalf("statuses = %v, want 5×401 and 35×429", count)
	}

	// A signed-in session cannot guess the password either: re-authentication
	// (here, starting 2FA) shares the per-account budget.
	a.Clock.Advance(16 * time.Minute)
	u.Login(t)
	for i := 0; i < 5; i++ {
		u.Do("POST", "/api/v1/me/2fa/setup", map[string]string{"password": "guess " + string(rune('a'+i))}).Must(t, 422)
	}
	u.Do("POST", "/api/v1/me/2fa/setup", map[string]string{"password": apptest.Password}).Must(t, 429)
	u.Do("POST", "/api/v1/me/password", map[string]string{"current_password": apptest.Password, "new_password": "brand new passphrase"}).Must(t, 429)
}

// Security review: turning two-factor on ends the user's other sessions.
func TestEnablingTwoFactorEndsOtherSessions(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	u := a.SignUp(t, "phone")
	other := a.Client(t)
	other.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": apptest.Password}).Must(t, 200)
	var setup struct{ Secret string }
	u.Do("POST", "/api/v1/me/2fa/setup", map[string]string{"password": apptest.Password}).Must(t, 200).JSON(t, &setup)
	code, _ := totp.GenerateCode(setup.Secret, a.Clock.Now())
	u.Do("POST", "/api/v1/me/2fa/enable", map[string]string{"code": code}).Must(t, 200)
	u.Do("GET", "/api/v1/me", nil).Must(t, 200)
	other.Do("GET", "/api/v1/me", nil).Must(t, 401)
}

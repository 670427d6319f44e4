package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-01: sign-up asks for an e-mail, a password that passes the
// policy, an optional name and the 18+ attestation; bad input shows the
// error next to its field and creates nothing.
func TestSignUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		c := s.client(t)
		c.get("/signup").want(t, http.StatusOK, `name="email"`, `name="password"`, "At least 8 characters", "I am 18 or older")

		addr := email("ana")
		good := url.Values{"email": {addr}, "password": {password}, "name": {"Ana"}, "age_confirmed": {"yes"}}
		for _, tc := range []struct {
			name, field, value, msg string
		}{
			{"bad e-mail", "email", "ana-at-example", "Enter a valid e-mail address"},
			{"short password", "password", "short", "Use at least 8 characters."},
			{"common password", "password", "password123", "one of the most common"},
			{"not 18", "age_confirmed", "", "You must be 18 or older"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range good {
					form[k] = v
				}
				form.Set(tc.field, tc.value)
				p := c.post("/signup", form).want(t, http.StatusUnprocessableEntity, tc.msg, `id="`+tc.field)
				p.lacks(t, password) // the password is never echoed back
				if c.signedIn() {
					t.Error("a refused sign-up set a session cookie")
				}
				if _, err := s.Accounts.GetByEmail(context.Background(), addr); !errors.Is(err, db.ErrNotFound) {
					t.Errorf("a refused sign-up created the account (err %v)", err)
				}
			})
		}

		c.post("/signup", good).redirectsTo(t, "/")
		if !c.signedIn() {
			t.Fatal("sign-up did not sign in")
		}
		// Same address again, in other letters: refused, with a way forward.
		c2 := s.client(t)
		good.Set("email", strings.ToUpper(addr))
		c2.post("/signup", good).want(t, http.StatusConflict, "already exists")
	})
}

// A first visit leads to creating a workspace, whose home page lists the
// next steps and the trial; a bad name shows an error and creates nothing.
func TestFirstWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		c, addr := s.signUp(t, "Bo")
		c.get("/").redirectsTo(t, "/workspaces/new")
		c.get("/workspaces/new").want(t, http.StatusOK, "Welcome to Parley, Bo!")

		c.post("/workspaces/new", url.Values{"name": {"   "}}).want(t, http.StatusUnprocessableEntity, "Enter a name.")
		ms, err := s.Workspaces.ListForUser(context.Background(), s.userID(t, addr))
		if err != nil || len(ms) != 0 {
			t.Fatalf("a refused workspace was created: %v %v", ms, err)
		}

		ws := c.createWorkspace("Sunrise Bakery")
		c.get("/").redirectsTo(t, "/w/"+ws)
		c.get("/w/"+ws).want(t, http.StatusOK,
			"Sunrise Bakery", "Connect your first channel", "Connect a Facebook Page", "Connect a Page",
			"Invite your team", "Create an API key", "14 days left")
	})
}

func TestLogInAndOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, addr := s.signUp(t, "Cy")
		ws := owner.createWorkspace("Cy's Shop")

		c := s.client(t)
		c.get("/w/"+ws).redirectsTo(t, "/login?next=%2Fw%2F"+ws)
		c.get("/login?next=/w/"+ws).want(t, http.StatusOK, `name="next" value="/w/`+ws+`"`)

		p := c.post("/login", url.Values{"email": {addr}, "password": {"wrong password!"}, "next": {"/w/" + ws}})
		p.want(t, http.StatusUnprocessableEntity, "The e-mail or password is not right.").lacks(t, "wrong password!")
		if c.signedIn() {
			t.Fatal("a wrong password signed in")
		}
		// An open redirect is not possible through next.
		c.post("/login", url.Values{"email": {addr}, "password": {password}, "next": {"//evil.example/"}}).redirectsTo(t, "/")
		c.get("/w/"+ws).want(t, http.StatusOK, "Cy&#39;s Shop")

		c.post("/logout", nil).redirectsTo(t, "/login")
		c.get("/w/"+ws).redirectsTo(t, "/login")
	})
}

// Rate-limited sign-ins say how long to wait.
func TestLoginRateLimit(t *testing.T) {
	d := dbtest.SQLite(t)
	var s *site
	now := func() time.Time { return s.Clock.Now() }
	limits := apptest.Generous(now)
	limits.LoginPerAccount = httpx.NewLimiter(2, 15*time.Minute, now)
	s = start(t, d, apptest.WithLimits(limits))
	_, addr := s.signUp(t, "Di")
	c := s.client(t)
	for range 2 {
		c.post("/login", url.Values{"email": {addr}, "password": {"not it at all"}}).want(t, http.StatusUnprocessableEntity)
	}
	p := c.post("/login", url.Values{"email": {addr}, "password": {password}})
	p.want(t, http.StatusTooManyRequests, "Too many attempts, try again in 900 seconds.")
	if p.Header.Get("Retry-After") != "900" {
		t.Errorf("Retry-After = %q, want 900", p.Header.Get("Retry-After"))
	}
	if c.signedIn() {
		t.Error("a throttled login signed in")
	}
}

// Promise P-05: with two-factor on, the password alone does not sign in;
// the second step carries a ticket, never the password.
func TestLoginWithTwoFactor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		c, addr := s.signUp(t, "Ed")
		c.post("/account/2fa/setup", url.Values{"password": {"not my password"}}).want(t, http.StatusUnprocessableEntity, "That is not your password.")
		p := c.post("/account/2fa/setup", url.Values{"password": {password}}).want(t, http.StatusOK, "Enter the 6-digit code", `src="data:image/png;base64,`)
		secret := regexp.MustCompile(`id="totp-secret"[^>]*value="([A-Z2-7]+)"`).FindStringSubmatch(p.Body)
		if secret == nil {
			t.Fatalf("no secret on the setup page:\n%s", excerpt(p.Body))
		}
		c.post("/account/2fa/enable", url.Values{"code": {"000000"}, "secret": {secret[1]}}).
			want(t, http.StatusUnprocessableEntity, "That code is not right", secret[1])
		code, _ := totp.GenerateCode(secret[1], s.Clock.Now())
		c.post("/account/2fa/enable", url.Values{"code": {code}}).want(t, http.StatusOK, "Save your recovery codes", "Two-factor authentication is on.")

		s.Clock.Advance(time.Minute) // a fresh code for the login
		c2 := s.client(t)
		p = c2.post("/login", url.Values{"email": {addr}, "password": {password}, "next": {"/account/security"}})
		p.want(t, http.StatusOK, "Enter your code", `name="ticket"`).lacks(t, password)
		if c2.signedIn() {
			t.Fatal("the password alone signed in")
		}
		ticket := regexp.MustCompile(`name="ticket" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]
		c2.post("/login/code", url.Values{"ticket": {ticket}, "code": {"123456"}, "next": {"/account/security"}}).
			want(t, http.StatusUnprocessableEntity, "code-error")
		code, _ = totp.GenerateCode(secret[1], s.Clock.Now())
		c2.post("/login/code", url.Values{"ticket": {ticket}, "code": {code}, "next": {"/account/security"}}).redirectsTo(t, "/account/security")
		c2.get("/account/security").want(t, http.StatusOK, "On", "unused recovery codes")
	})
}

// Promise P-04: agents and viewers never see API keys, and the team page
// hides what their role cannot do.
func TestRolesLimitPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Fay")
		ws := owner.createWorkspace("Fay's Flowers")
		viewer, vaddr := s.signUp(t, "Gus")
		s.join(t, owner, ws, viewer, vaddr, "viewer")

		viewer.get("/w/"+ws).want(t, http.StatusOK, "Fay&#39;s Flowers").lacks(t, "Create an API key", "/settings/api-keys")
		viewer.get("/w/"+ws+"/settings/api-keys").want(t, http.StatusForbidden, "You don&#39;t have access to this")
		viewer.post("/w/"+ws+"/settings/api-keys", url.Values{"name": {"sneaky"}, "role": {"admin"}}).want(t, http.StatusForbidden)
		viewer.get("/w/"+ws+"/settings/team").want(t, http.StatusOK, "Only owners and admins can invite").
			lacks(t, "Create invitation", "/role\"")
		viewer.post("/w/"+ws+"/settings/team/invitations", url.Values{"email": {email("x")}, "role": {"owner"}}).want(t, http.StatusForbidden)

		keys, err := s.Workspaces.APIKeys(context.Background(), ws)
		if err != nil || len(keys) != 0 {
			t.Errorf("a viewer created an API key: %v %v", keys, err)
		}
		invs, err := s.Workspaces.Invitations(context.Background(), ws)
		if err != nil || len(invs) != 0 {
			t.Errorf("a viewer created an invitation: %v %v", invs, err)
		}
	})
}

// Promise P-03: another workspace's pages answer 404, as if they did not
// exist, and say so kindly.
func TestOtherWorkspaceIsNotFound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		a, _ := s.signUp(t, "Hal")
		ws := a.createWorkspace("Hal's")
		b, _ := s.signUp(t, "Ida")
		b.createWorkspace("Ida's")
		for _, path := range []string{"/w/" + ws, "/w/" + ws + "/settings/team", "/w/" + ws + "/settings/api-keys", "/w/not-a-real-id"} {
			b.get(path).want(t, http.StatusNotFound, "We can&#39;t find that page").lacks(t, "Hal&#39;s")
		}
		b.post("/w/"+ws+"/settings/general", url.Values{"name": {"Mine now"}}).want(t, http.StatusNotFound)
		w, err := s.Workspaces.Get(context.Background(), ws)
		if err != nil || w.Name != "Hal's" {
			t.Errorf("workspace changed by a stranger: %v %v", w, err)
		}
		b.get("/no/such/page").want(t, http.StatusNotFound, "We can&#39;t find that page")
	})
}

func TestTeamInvitations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Jo")
		ws := owner.createWorkspace("Jo's Jams")
		team := "/w/" + ws + "/settings/team"

		owner.post(team+"/invitations", url.Values{"email": {"not an address"}, "role": {"agent"}}).
			want(t, http.StatusUnprocessableEntity, "Enter a valid e-mail address", "invite-email-error")
		owner.post(team+"/invitations", url.Values{"email": {email("kim")}, "role": {"emperor"}}).
			want(t, http.StatusUnprocessableEntity, "Choose owner, admin, agent or viewer.")
		if invs, _ := s.Workspaces.Invitations(context.Background(), ws); len(invs) != 0 {
			t.Fatalf("refused invitations were created: %v", invs)
		}

		guest, gaddr := s.signUp(t, "Kim")
		p := owner.post(team+"/invitations", url.Values{"email": {gaddr}, "role": {"agent"}}).want(t, http.StatusOK, "Invitation ready for "+gaddr, "Copy link")
		if p.Header.Get("HX-Push-Url") != team {
			t.Errorf("HX-Push-Url = %q, want the team page", p.Header.Get("HX-Push-Url"))
		}
		token := regexp.MustCompile(`/invitations/([A-Za-z0-9]+)"`).FindStringSubmatch(p.Body)[1]
		owner.get(team).want(t, http.StatusOK, gaddr, "Cancel invitation").lacks(t, token) // the link is shown once

		// Someone signed out sees where the link leads and how to accept.
		s.client(t).get("/invitations/"+token).want(t, http.StatusOK, "Join Jo&#39;s Jams", "Agent", "Create an account", "next=%2Finvitations%2F"+token)
		// Someone signed in with another address is told why they cannot.
		other, _ := s.signUp(t, "Lu")
		other.get("/invitations/"+token).want(t, http.StatusOK, "this invitation is for "+gaddr).lacks(t, "Accept and join")
		other.post("/invitations/"+token+"/accept", nil).want(t, http.StatusForbidden, "different e-mail address")

		guest.get("/invitations/"+token).want(t, http.StatusOK, "Accept and join")
		guest.post("/invitations/"+token+"/accept", nil).redirectsTo(t, "/w/"+ws)
		guest.get("/w/"+ws).want(t, http.StatusOK, "Jo&#39;s Jams")
		guest.get("/invitations/"+token).want(t, http.StatusGone, "This link can&#39;t be used any more")
		owner.get(team).want(t, http.StatusOK, "No pending invitations")

		// The last owner cannot leave; the page says why and nothing changes.
		ownerID := s.userID(t, owner.email(t))
		owner.post(team+"/members/"+ownerID+"/remove", nil).want(t, http.StatusConflict, "at least one owner")
		if role, err := s.Workspaces.MemberRole(context.Background(), ws, ownerID); err != nil || role != "owner" {
			t.Errorf("owner's role is %q, %v", role, err)
		}
	})
}

// Promise P-08: an API key's secret is shown once, then only its prefix.
func TestAPIKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Mo")
		ws := owner.createWorkspace("Mo's")
		keys := "/w/" + ws + "/settings/api-keys"
		owner.get(keys).want(t, http.StatusOK, "No API keys yet")

		owner.post(keys, url.Values{"name": {""}, "role": {"agent"}}).want(t, http.StatusUnprocessableEntity, "Enter a name.", "key-name-error")
		owner.post(keys, url.Values{"name": {"Shop"}, "role": {"owner"}}).want(t, http.StatusForbidden)
		if ks, _ := s.Workspaces.APIKeys(context.Background(), ws); len(ks) != 0 {
			t.Fatalf("refused keys were created: %v", ks)
		}

		p := owner.post(keys, url.Values{"name": {"Shop"}, "role": {"agent"}}).want(t, http.StatusOK, "Copy your new key", "shows it only this once")
		secret := regexp.MustCompile(`prly_[A-Za-z0-9]+`).FindString(p.Body)
		if len(secret) < 40 {
			t.Fatalf("no secret shown: %q", secret)
		}
		list := owner.get(keys).want(t, http.StatusOK, "Shop", secret[:12], "never used")
		list.lacks(t, secret)

		ks, _ := s.Workspaces.APIKeys(context.Background(), ws)
		owner.post(keys+"/"+ks[0].ID+"/revoke", nil).redirectsTo(t, keys)
		owner.get(keys).want(t, http.StatusOK, "No API keys yet")
	})
}

func TestRenameWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Ned")
		ws := owner.createWorkspace("Old name")
		general := "/w/" + ws + "/settings/general"
		owner.post(general, url.Values{"name": {strings.Repeat("x", 101)}}).want(t, http.StatusUnprocessableEntity, "Use at most 100 characters.")
		if w, _ := s.Workspaces.Get(context.Background(), ws); w.Name != "Old name" {
			t.Fatalf("refused rename changed the name to %q", w.Name)
		}
		owner.post(general, url.Values{"name": {"New name"}}).want(t, http.StatusOK, "The workspace is now called “New name”.")
		owner.get("/w/"+ws).want(t, http.StatusOK, "New name")
	})
}

// Promise P-07: after the trial the workspace is read-only, says so, and
// refuses changes with the 402 page; nothing is lost.
func TestExpiredTrialIsReadOnly(t *testing.T) {
	d := dbtest.SQLite(t)
	s := start(t, d)
	owner, addr := s.signUp(t, "Ola")
	ws := owner.createWorkspace("Ola's")
	s.Clock.Advance(15 * 24 * time.Hour)
	// The session has ended meanwhile; sign in again.
	owner.post("/login", url.Values{"email": {addr}, "password": {password}}).redirectsTo(t, "/")
	owner.get("/w/"+ws).want(t, http.StatusOK, "This workspace is read-only.")
	owner.get("/w/"+ws+"/settings/general").want(t, http.StatusOK, "read-only while it has no plan").lacks(t, `name="name"`)
	owner.post("/w/"+ws+"/settings/general", url.Values{"name": {"Changed"}}).want(t, http.StatusPaymentRequired, "This workspace is read-only", "Nothing has been deleted")
	if w, _ := s.Workspaces.Get(context.Background(), ws); w.Name != "Ola's" {
		t.Errorf("a read-only workspace was renamed to %q", w.Name)
	}
}

func TestChangePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		c, addr := s.signUp(t, "Pia")
		other := s.client(t)
		other.post("/login", url.Values{"email": {addr}, "password": {password}}).redirectsTo(t, "/")

		const next = "a brand new passphrase"
		c.post("/account/password", url.Values{"current_password": {"not my password"}, "new_password": {next}, "new_password_confirm": {next}}).
			want(t, http.StatusUnprocessableEntity, "That is not your current password.")
		c.post("/account/password", url.Values{"current_password": {password}, "new_password": {next}, "new_password_confirm": {next + "!"}}).
			want(t, http.StatusUnprocessableEntity, "The two new passwords are not the same.")
		c.post("/account/password", url.Values{"current_password": {password}, "new_password": {"short"}, "new_password_confirm": {"short"}}).
			want(t, http.StatusUnprocessableEntity, "Use at least 8 characters.")
		// Nothing changed yet: the old password still works.
		if _, err := s.Accounts.Authenticate(context.Background(), addr, password, ""); err != nil {
			t.Fatalf("refused changes changed the password: %v", err)
		}

		c.post("/account/password", url.Values{"current_password": {password}, "new_password": {next}, "new_password_confirm": {next}}).
			want(t, http.StatusOK, "Your password has been changed.")
		c.get("/account/security").want(t, http.StatusOK)       // this session goes on
		other.get("/account/security").redirectsTo(t, "/login") // the other one ended (P-02)
		if _, err := s.Accounts.Authenticate(context.Background(), addr, next, ""); err != nil {
			t.Errorf("new password does not work: %v", err)
		}
	})
}

func TestStaticFiles(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c := s.client(t)
	p := c.get("/signup").want(t, http.StatusOK)
	css := regexp.MustCompile(`href="(/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(p.Body)
	if css == nil {
		t.Fatal("no versioned stylesheet link on the page")
	}
	res := c.get(css[1]).want(t, http.StatusOK, ".button")
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("versioned asset Cache-Control = %q", cc)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := c.get("/static/app.css?v=old").Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("stale-version Cache-Control = %q, want no-cache", cc)
	}
	c.get("/static/nope.js").want(t, http.StatusNotFound)
	c.get("/static/vendor/htmx.min.js").want(t, http.StatusOK, "htmx")
	// Pages carry personal data: never cached.
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("page Cache-Control = %q, want no-store", cc)
	}
}

// email returns the address the client signed up with (from its page).
func (c *client) email(t *testing.T) string {
	t.Helper()
	p := c.get("/account/security").want(t, http.StatusOK)
	m := regexp.MustCompile(`Signed in as ([^<]+)\.`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no address on the security page")
	}
	return m[1]
}

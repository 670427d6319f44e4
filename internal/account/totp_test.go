package account_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

const step = 30 * time.Second

// code returns the TOTP code of secret at t, as an authenticator app would.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var recoveryCodeShape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{2}$`)

// enrol turns 2FA on for a user and returns the secret and recovery codes.
func enrol(t *testing.T, f *fixture, userID string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	secret, _, err := f.svc.BeginTOTP(ctx, userID, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.EnableTOTP(ctx, userID, code(t, secret, f.clock.Now()), "")
	if err != nil {
		t.Fatal(err)
	}
	return secret, codes
}

// Promise P-05, security.md §3.F F-6, F-7: the whole two-factor life cycle
// on a fake clock.
func TestTOTPFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "twofa@example.com")
		const email = "twofa@example.com"
		login := func(c string) error {
			t.Helper()
			_, err := f.svc.Authenticate(ctx, email, testPassword, c)
			return err
		}

		if _, err := f.svc.EnableTOTP(ctx, u.ID, "123456", ""); !errors.Is(err, account.ErrTOTPNotPending) {
			t.Errorf("enable before begin: %v", err)
		}

		secret, otpURL, err := f.svc.BeginTOTP(ctx, u.ID, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		pu, err := url.Parse(otpURL)
		if err != nil || pu.Scheme != "otpauth" || pu.Host != "totp" || pu.Query().Get("secret") != secret ||
			pu.Query().Get("issuer") != "parley" || !strings.Contains(pu.Path, email) {
			t.Errorf("otpauth URL = %q", otpURL)
		}
		// Pending: login does not ask for a code yet.
		if err := login(""); err != nil {
			t.Fatalf("login while 2FA is pending: %v", err)
		}
		// A second Begin replaces the pending secret.
		secret2, _, err := f.svc.BeginTOTP(ctx, u.ID, testPassword)
		if err != nil || secret2 == secret {
			t.Fatalf("second begin: %v (same secret: %v)", err, secret2 == secret)
		}
		secret = secret2

		now := f.clock.Now()
		if _, err := f.svc.EnableTOTP(ctx, u.ID, code(t, secret, now.Add(5*step)), ""); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("enable with a wrong code: %v", err)
		}
		enableCode := code(t, secret, now)
		codes, err := f.svc.EnableTOTP(ctx, u.ID, enableCode, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(ctx, u.ID); !got.TOTPEnabled {
			t.Error("TOTPEnabled is false after EnableTOTP")
		}
		if _, err := f.svc.EnableTOTP(ctx, u.ID, enableCode, ""); !errors.Is(err, account.ErrTOTPAlreadyEnabled) {
			t.Errorf("enable twice: %v", err)
		}
		if _, _, err := f.svc.BeginTOTP(ctx, u.ID, testPassword); !errors.Is(err, account.ErrTOTPAlreadyEnabled) {
			t.Errorf("begin while enabled: %v", err)
		}

		// Recovery codes: ten, distinct, well-formed, stored only hashed.
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes", len(codes))
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if !recoveryCodeShape.MatchString(c) || seen[c] {
				t.Errorf("recovery code %q malformed or repeated", c)
			}
			seen[c] = true
			plain := strings.ReplaceAll(c, "-", "")
			sum := sha256.Sum256([]byte(plain))
			if count(t, d, "recovery_codes", "user_id = ? AND code_hash = ?", u.ID, hex.EncodeToString(sum[:])) != 1 {
				t.Errorf("recovery code %q not stored as its SHA-256", c)
			}
			if count(t, d, "recovery_codes", "code_hash = ? OR code_hash = ?", c, plain) != 0 {
				t.Errorf("recovery code %q stored in clear", c)
			}
		}
		if n, err := f.svc.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 10 {
			t.Errorf("RecoveryCodesLeft = %d, %v", n, err)
		}

		// Login now needs the second factor, checked after the password.
		if err := login(""); !errors.Is(err, account.ErrTOTPRequired) {
			t.Errorf("no code: %v, want ErrTOTPRequired", err)
		}
		if err := login("   "); !errors.Is(err, account.ErrTOTPRequired) {
			t.Errorf("blank code: %v, want ErrTOTPRequired", err)
		}
		if _, err := f.svc.Authenticate(ctx, email, "wrong password", ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("wrong password, no code: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, email, "wrong password", code(t, secret, now)); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("wrong password, right code: %v", err)
		}
		// The code that enabled 2FA has been used.
		if err := login(enableCode); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("enable code replayed at login: %v", err)
		}

		// Next step: the right code works once.
		f.clock.Advance(step)
		now = f.clock.Now()
		c := code(t, secret, now)
		if err := login(c[:3] + " " + c[3:]); err != nil {
			t.Fatalf("right code (with a space): %v", err)
		}
		if err := login(c); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("same code replayed: %v", err)
		}
		wrong := code(t, secret, now.Add(10*step))
		if wrong != code(t, secret, now.Add(step)) { // a one-in-a-million collision would make it right
			if err := login(wrong); !errors.Is(err, account.ErrTOTPInvalid) {
				t.Errorf("wrong code: %v", err)
			}
		}
		if err := login("not-a-code"); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("garbage code: %v", err)
		}

		// One step of skew either way is accepted, two are not.
		f.clock.Advance(3 * step) // last used step is now-3
		now = f.clock.Now()
		if err := login(code(t, secret, now.Add(-step))); err != nil {
			t.Errorf("code one step old: %v", err)
		}
		if err := login(code(t, secret, now.Add(step))); err != nil {
			t.Errorf("code one step ahead: %v", err)
		}
		f.clock.Advance(5 * step) // last used step is now-4
		now = f.clock.Now()
		if err := login(code(t, secret, now.Add(-2*step))); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("code two steps old: %v", err)
		}
		if err := login(code(t, secret, now.Add(2*step))); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("code two steps ahead: %v", err)
		}
		// An older step than the last one used is refused even within the
		// window: accepting now+1 burns now and now-1.
		if err := login(code(t, secret, now.Add(step))); err != nil {
			t.Fatal(err)
		}
		if err := login(code(t, secret, now)); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("code older than the last one used: %v", err)
		}

		// A recovery code works once, typed any way.
		typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
		if err := login(typed); err != nil {
			t.Fatalf("recovery code %q: %v", typed, err)
		}
		if err := login(codes[0]); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("recovery code reused: %v", err)
		}
		if n, _ := f.svc.RecoveryCodesLeft(ctx, u.ID); n != 9 {
			t.Errorf("RecoveryCodesLeft = %d, want 9", n)
		}

		// Regenerating needs the password and invalidates the old set.
		if _, err := f.svc.RegenerateRecoveryCodes(ctx, u.ID, "wrong password"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("regenerate with a wrong password: %v", err)
		}
		if err := login(codes[1]); err != nil {
			t.Fatalf("old code before regenerating: %v", err)
		}
		fresh, err := f.svc.RegenerateRecoveryCodes(ctx, u.ID, testPassword)
		if err != nil || len(fresh) != 10 {
			t.Fatalf("regenerate: %d codes, %v", len(fresh), err)
		}
		if err := login(codes[2]); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("old code after regenerating: %v", err)
		}
		if n, _ := f.svc.RecoveryCodesLeft(ctx, u.ID); n != 10 {
			t.Errorf("RecoveryCodesLeft after regenerating = %d, want 10", n)
		}
		if err := login(fresh[9]); err != nil {
			t.Errorf("new recovery code: %v", err)
		}

		// Disabling needs the password, then login needs no code.
		if err := f.svc.DisableTOTP(ctx, u.ID, "wrong password", ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("disable with a wrong password: %v", err)
		}
		if err := f.svc.DisableTOTP(ctx, u.ID, testPassword, ""); err != nil {
			t.Fatal(err)
		}
		if err := login(""); err != nil {
			t.Errorf("login after disabling: %v", err)
		}
		if count(t, d, "users", "id = ? AND totp_secret IS NULL AND totp_last_step = 0", u.ID) != 1 || count(t, d, "recovery_codes", "user_id = ?", u.ID) != 0 {
			t.Error("secret or recovery codes left behind after disabling")
		}
		if _, err := f.svc.RegenerateRecoveryCodes(ctx, u.ID, testPassword); !errors.Is(err, account.ErrTOTPNotEnabled) {
			t.Errorf("regenerate while disabled: %v", err)
		}
	})
}

// Security.md §2.6: the TOTP seed is stored sealed under the platform key,
// bound to its user's row.
func TestTOTPSecretSealed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "sealed@example.com")
		other := f.signUp(t, "neighbour@example.com")
		secret, _, err := f.svc.BeginTOTP(ctx, u.ID, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := d.R.NewRaw("SELECT totp_secret FROM users WHERE id = ?", u.ID).Scan(ctx, &raw); err != nil {
			t.Fatal(err)
		}
		if _, err := keyring.ParseHeader(raw); err != nil {
			t.Fatalf("stored value is not an envelope: %v", err)
		}
		if bytes.Contains(bytes.ToUpper(raw), []byte(secret)) {
			t.Fatal("TOTP secret stored in clear")
		}
		aad := keyring.AAD{Table: "users", Column: "totp_secret", Row: u.ID}
		if pt, err := f.m.OpenPlatform(raw, aad); err != nil || string(pt) != secret {
			t.Errorf("envelope opens to %q, %v; want the secret", pt, err)
		}
		aad.Row = other.ID
		if _, err := f.m.OpenPlatform(raw, aad); err == nil {
			t.Error("envelope opens for another row")
		}

		// Copied onto another user's row, it does not open: enabling fails
		// instead of accepting the first user's codes.
		if _, err := d.W.NewRaw("UPDATE users SET totp_secret = ? WHERE id = ?", raw, other.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.EnableTOTP(ctx, other.ID, code(t, secret, f.clock.Now()), ""); err == nil {
			t.Error("a secret copied from another row was accepted")
		}
	})
}

// Promise P-05: platform administrators cannot turn 2FA off.
func TestTOTPEnforcedForPlatformAdmins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "admin@example.com")
		if err := f.svc.SetPlatformAdmin(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(ctx, u.ID); !got.IsPlatformAdmin {
			t.Fatal("IsPlatformAdmin not set")
		}
		enrol(t, f, u.ID)
		if err := f.svc.DisableTOTP(ctx, u.ID, testPassword, ""); !errors.Is(err, account.ErrTOTPEnforced) {
			t.Errorf("admin disabling 2FA: %v", err)
		}
		if got, _ := f.svc.Get(ctx, u.ID); !got.TOTPEnabled {
			t.Error("2FA turned off for an admin")
		}
		if err := f.svc.SetPlatformAdmin(ctx, "no-such-user", true); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
	})
}

// Security.md §3.F F-6: two logins racing with the same code (or recovery
// code) cannot both succeed.
func TestSecondFactorSingleUseUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "race@example.com")
		secret, codes := enrol(t, f, u.ID)
		f.clock.Advance(step)
		for _, c := range []string{code(t, secret, f.clock.Now()), codes[0]} {
			const n = 8
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := f.svc.Authenticate(ctx, "race@example.com", testPassword, c)
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			ok := 0
			for err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, account.ErrTOTPInvalid):
					t.Errorf("unexpected error: %v", err)
				}
			}
			if ok != 1 {
				t.Errorf("code %q accepted %d times, want once", c, ok)
			}
		}
	})
}

// Security review: starting 2FA enrolment needs the password, so a stolen
// session cannot enrol the thief's authenticator.
func TestBeginTOTPNeedsThePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		u := f.signUp(t, "reauth@example.com")
		if _, _, err := f.svc.BeginTOTP(context.Background(), u.ID, "not the password"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		if n := count(t, d, "users", "id = ? AND totp_secret IS NOT NULL", u.ID); n != 0 {
			t.Fatal("a pending secret was stored without the password")
		}
	})
}

// Security §3.C C-7: turning two-factor on or off ends every other session
// of the user, in the same transaction, and keeps the one that did it.
func TestFactorChangesEndOtherSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "factors@example.com")
		mine, mySession, err := f.svc.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := f.svc.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := f.svc.BeginTOTP(ctx, u.ID, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, other); err != nil {
			t.Fatalf("starting setup ended a session: %v", err)
		}
		if _, err := f.svc.EnableTOTP(ctx, u.ID, "000000", mySession.ID); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, other); err != nil {
			t.Fatalf("a refused enable ended a session: %v", err)
		}
		if _, err := f.svc.EnableTOTP(ctx, u.ID, code(t, secret, f.clock.Now()), mySession.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, other); !errors.Is(err, account.ErrInvalidSession) {
			t.Fatalf("other session after enable: %v", err)
		}
		if _, _, err := f.svc.VerifySession(ctx, mine); err != nil {
			t.Fatalf("own session after enable: %v", err)
		}
		other, _, _ = f.svc.CreateSession(ctx, u.ID)
		if err := f.svc.DisableTOTP(ctx, u.ID, "wrong password", mySession.ID); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, other); err != nil {
			t.Fatalf("a refused disable ended a session: %v", err)
		}
		if err := f.svc.DisableTOTP(ctx, u.ID, testPassword, mySession.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, other); !errors.Is(err, account.ErrInvalidSession) {
			t.Fatalf("other session after disable: %v", err)
		}
		if _, _, err := f.svc.VerifySession(ctx, mine); err != nil {
			t.Fatalf("own session after disable: %v", err)
		}
	})
}

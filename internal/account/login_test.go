package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

// Security.md §3.F F-3: an unknown e-mail and a wrong password give the same
// error, and both run exactly one bcrypt comparison (the unknown one against
// a dummy hash), so neither the answer nor its timing tells them apart.
func TestAuthenticate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		compares := account.CountCompares(f.svc)
		u := f.signUp(t, "Sokha@Example.com")

		for _, tc := range []struct {
			name, email, password string
			wantErr               error
		}{
			{"right", "sokha@example.com", testPassword, nil},
			{"right, other case and spaces", "  SOKHA@example.com ", testPassword, nil},
			{"wrong password", "sokha@example.com", testPassword + "!", account.ErrInvalidCredentials},
			{"password in other case", "sokha@example.com", strings.ToUpper(testPassword), account.ErrInvalidCredentials},
			{"empty password", "sokha@example.com", "", account.ErrInvalidCredentials},
			{"unknown email", "nobody@example.com", testPassword, account.ErrInvalidCredentials},
			{"malformed email", "not an address", testPassword, account.ErrInvalidCredentials},
			{"oversized password", "nobody@example.com", strings.Repeat("x", 100_000), account.ErrInvalidCredentials},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := compares.Load()
				got, err := f.svc.Authenticate(ctx, tc.email, tc.password, "")
				if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if err == nil && got.ID != u.ID {
					t.Errorf("user = %+v", got)
				}
				if err != nil && got != nil {
					t.Errorf("user returned with an error")
				}
				if n := compares.Load() - before; n != 1 {
					t.Errorf("%d bcrypt comparisons, want exactly 1", n)
				}
			})
		}
	})
}

// Security.md §2.6: a hash below the configured cost is upgraded at the
// next successful login, and only then.
func TestRehashOnLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d) // cost 4
		u := f.signUp(t, "rehash@example.com")
		old := storedHash(t, d, u.ID)

		stronger := account.NewService(d, f.m, account.Options{Now: f.clock.Now, BcryptCost: bcrypt.MinCost + 1})
		if _, err := stronger.Authenticate(ctx, "rehash@example.com", "wrong password!", ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		if h := storedHash(t, d, u.ID); h != old {
			t.Error("hash changed after a failed login")
		}
		if _, err := stronger.Authenticate(ctx, "rehash@example.com", testPassword, ""); err != nil {
			t.Fatal(err)
		}
		h := storedHash(t, d, u.ID)
		if cost, _ := bcrypt.Cost([]byte(strings.TrimPrefix(h, "v1$"))); cost != bcrypt.MinCost+1 || !strings.HasPrefix(h, "v1$") {
			t.Errorf("hash after login = %q (cost %d), want v1 at cost %d", h, cost, bcrypt.MinCost+1)
		}
		if _, err := f.svc.Authenticate(ctx, "rehash@example.com", testPassword, ""); err != nil {
			t.Errorf("login after re-hash: %v", err)
		}
		if h2 := storedHash(t, d, u.ID); h2 != h {
			t.Error("a weaker service downgraded the hash")
		}
	})
}

// The pepper is part of the hash: the same database under another master
// key accepts no password (so a stolen database alone is not enough).
func TestPepperFromMasterKey(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	f.signUp(t, "pepper@example.com")
	other := masterOf(t, "o")
	svc := account.NewService(d, other, f.opt)
	if _, err := svc.Authenticate(context.Background(), "pepper@example.com", testPassword, ""); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Errorf("err = %v, want ErrInvalidCredentials under another pepper", err)
	}
}

// A corrupt hash is reported as an error, not as a wrong password.
func TestUnknownHashScheme(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	u := f.signUp(t, "scheme@example.com")
	if _, err := d.W.NewRaw("UPDATE users SET password_hash = ? WHERE id = ?", "$2a$04$abcdefghijklmnopqrstuu", u.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(context.Background(), "scheme@example.com", testPassword, "")
	if err == nil || errors.Is(err, account.ErrInvalidCredentials) {
		t.Errorf("err = %v, want an internal error", err)
	}
}

// Promise P-02, security.md §3.C C-7: a password change checks the current
// password, applies the policy, and revokes every other session.
func TestChangePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "change@example.com")
		other := f.signUp(t, "other@example.com")
		tokA, _ := mustSession(t, f, u.ID)
		tokB, sessB := mustSession(t, f, u.ID)
		tokC, _ := mustSession(t, f, u.ID)
		tokOther, _ := mustSession(t, f, other.ID)
		const next = "a much better passphrase"

		// Wrong current password: nothing changes.
		if err := f.svc.ChangePassword(ctx, u.ID, "not my password", next, sessB.ID); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("wrong current: %v", err)
		}
		// New password against the policy: nothing changes.
		for _, bad := range []string{"short", "password1", "change@example.com", testPassword} {
			err := f.svc.ChangePassword(ctx, u.ID, testPassword, bad, sessB.ID)
			if v, ok := validate.As(err); !ok || v.Field != "new_password" {
				t.Errorf("new password %q: err = %v, want validation error on new_password", bad, err)
			}
		}
		for _, tok := range []string{tokA, tokB, tokC} {
			if _, _, err := f.svc.VerifySession(ctx, tok); err != nil {
				t.Fatalf("a refused change revoked a session: %v", err)
			}
		}
		if _, err := f.svc.Authenticate(ctx, "change@example.com", testPassword, ""); err != nil {
			t.Fatalf("a refused change changed the password: %v", err)
		}

		f.clock.Advance(time.Minute)
		if err := f.svc.ChangePassword(ctx, u.ID, testPassword, next, sessB.ID); err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			tok  string
			want error
		}{"A": {tokA, account.ErrInvalidSession}, "B (kept)": {tokB, nil}, "C": {tokC, account.ErrInvalidSession}, "other user": {tokOther, nil}} {
			if _, _, err := f.svc.VerifySession(ctx, tc.tok); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("session %s after change: err = %v, want %v", name, err, tc.want)
			}
		}
		if _, err := f.svc.Authenticate(ctx, "change@example.com", testPassword, ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("old password still works: %v", err)
		}
		got, err := f.svc.Authenticate(ctx, "change@example.com", next, "")
		if err != nil {
			t.Fatalf("new password: %v", err)
		}
		if !got.PasswordChangedAt.Equal(f.clock.Now()) {
			t.Errorf("password_changed_at = %v, want %v", got.PasswordChangedAt, f.clock.Now())
		}

		// Keeping no session revokes them all.
		if err := f.svc.ChangePassword(ctx, u.ID, next, next+" again", ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, tokB); !errors.Is(err, account.ErrInvalidSession) {
			t.Errorf("kept session survived a change keeping none: %v", err)
		}
		if err := f.svc.ChangePassword(ctx, "no-such-user", next, next+"!", ""); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
	})
}

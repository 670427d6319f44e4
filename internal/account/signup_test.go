package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

// Promise P-01: sign-up with e-mail, password, optional display name and an
// 18+ attestation; the password is stored only as a bcrypt hash.
func TestSignUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u, err := f.svc.SignUp(ctx, account.SignUp{Email: " Sokha@Example.com ", Password: testPassword, Name: " Sokha Chan ", AgeConfirmed: true})
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == "" || u.Email != "Sokha@Example.com" || u.Name != "Sokha Chan" || u.TOTPEnabled || u.IsPlatformAdmin {
			t.Errorf("user = %+v", u)
		}
		if !u.CreatedAt.Equal(f.clock.Now()) || !u.PasswordChangedAt.Equal(f.clock.Now()) {
			t.Errorf("times = %v, %v; want %v", u.CreatedAt, u.PasswordChangedAt, f.clock.Now())
		}
		got, err := f.svc.Get(ctx, u.ID)
		if err != nil || *got != *u {
			t.Errorf("Get = %+v, %v; want %+v", got, err, u)
		}
		byEmail, err := f.svc.GetByEmail(ctx, "SOKHA@example.COM")
		if err != nil || byEmail.ID != u.ID {
			t.Errorf("GetByEmail = %+v, %v", byEmail, err)
		}
		if n := count(t, d, "users", "id = ? AND email_key = ? AND age_confirmed_at IS NOT NULL", u.ID, "sokha@example.com"); n != 1 {
			t.Error("email_key or age_confirmed_at not stored")
		}
		h := storedHash(t, d, u.ID)
		if !strings.HasPrefix(h, "v1$$2a$") || strings.Contains(h, testPassword) {
			t.Errorf("stored hash %q is not a v1 bcrypt hash", h)
		}

		// The JSON form carries no secret and no admin flag.
		b, _ := json.Marshal(u)
		var m map[string]any
		json.Unmarshal(b, &m)
		for _, k := range []string{"id", "email", "name", "totp_enabled", "created_at"} {
			if _, ok := m[k]; !ok {
				t.Errorf("JSON lacks %q: %s", k, b)
			}
		}
		if len(m) != 5 {
			t.Errorf("JSON has extra fields: %s", b)
		}

		if _, err := f.svc.Get(ctx, "no-such-user"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
		}
		if _, err := f.svc.GetByEmail(ctx, "nobody@example.com"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("GetByEmail(unknown) = %v, want ErrNotFound", err)
		}
	})
}

// Promise P-01: every invalid input names its field and writes nothing.
func TestSignUpRejects(t *testing.T) {
	valid := account.SignUp{Email: "dara@example.com", Password: testPassword, Name: "Dara", AgeConfirmed: true}
	with := func(change func(*account.SignUp)) account.SignUp { in := valid; change(&in); return in }
	cases := []struct {
		name  string
		in    account.SignUp
		field string
	}{
		{"blank email", with(func(s *account.SignUp) { s.Email = "  " }), "email"},
		{"bad email", with(func(s *account.SignUp) { s.Email = "dara.example.com" }), "email"},
		{"email with display name", with(func(s *account.SignUp) { s.Email = "Dara <dara@example.com>" }), "email"},
		{"overlong email", with(func(s *account.SignUp) { s.Email = strings.Repeat("d", 250) + "@example.com" }), "email"},
		{"empty password", with(func(s *account.SignUp) { s.Password = "" }), "password"},
		{"7-character password", with(func(s *account.SignUp) { s.Password = "abcdefg" }), "password"},
		{"common password", with(func(s *account.SignUp) { s.Password = "password" }), "password"},
		{"common password in capitals", with(func(s *account.SignUp) { s.Password = "QwertyUIOP" }), "password"},
		{"common digits", with(func(s *account.SignUp) { s.Password = "12345678" }), "password"},
		{"common iloveyou", with(func(s *account.SignUp) { s.Password = "iloveyou" }), "password"},
		{"1000-character password", with(func(s *account.SignUp) { s.Password = strings.Repeat("x7Q!", 250) }), "password"},
		{"257-character password", with(func(s *account.SignUp) { s.Password = strings.Repeat("a", 257) }), "password"},
		{"password equals email", with(func(s *account.SignUp) { s.Password = "DARA@example.com" }), "password"},
		{"password equals local part", with(func(s *account.SignUp) {
			s.Email = "chanthavy@example.com"
			s.Password = "Chanthavy"
		}), "password"},
		{"invalid UTF-8 password", with(func(s *account.SignUp) { s.Password = "abcdefgh\xff" }), "password"},
		{"name too long", with(func(s *account.SignUp) { s.Name = strings.Repeat("ក", 101) }), "name"},
		{"name with control character", with(func(s *account.SignUp) { s.Name = "Dara\x00" }), "name"},
		{"age not confirmed", with(func(s *account.SignUp) { s.AgeConfirmed = false }), "age_confirmed"},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u, err := f.svc.SignUp(context.Background(), tc.in)
				v, ok := validate.As(err)
				if u != nil || !ok || v.Field != tc.field || v.Message == "" {
					t.Fatalf("SignUp = %+v, %v; want a validation error on %q", u, err, tc.field)
				}
				if n := count(t, d, "users", ""); n != 0 {
					t.Errorf("%d users written after a failed sign-up", n)
				}
			})
		}
	})
}

// Promise P-01: the 18+ attestation has its own message.
func TestSignUpAgeMessage(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	_, err := f.svc.SignUp(context.Background(), account.SignUp{Email: "a@example.com", Password: testPassword})
	if v, ok := validate.As(err); !ok || v.Message != "You must be 18 or older to use Parley." {
		t.Errorf("err = %v", err)
	}
}

// Promise P-01: an e-mail address is one account in any letter case.
func TestSignUpDuplicateEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.signUp(t, "sokha@example.com")
		_, err := f.svc.SignUp(context.Background(), account.SignUp{Email: "Sokha@EXAMPLE.com", Password: "another good passphrase", AgeConfirmed: true})
		if !errors.Is(err, account.ErrEmailTaken) || !errors.Is(err, db.ErrConflict) {
			t.Fatalf("err = %v, want ErrEmailTaken (a conflict)", err)
		}
		if n := count(t, d, "users", ""); n != 1 {
			t.Errorf("%d users, want 1", n)
		}
	})
}

// Promise P-01: passwords longer than bcrypt's 72 bytes work in full; they
// are neither refused nor truncated (security.md §2.6, §3.F F-4).
func TestLongPasswords(t *testing.T) {
	khmer := strings.Repeat("ក", 100) // 100 characters, 300 bytes
	cases := []struct {
		name, password, sameFirst72 string
	}{
		{"200 ASCII characters", strings.Repeat("a", 150) + strings.Repeat("b", 50), strings.Repeat("a", 150) + strings.Repeat("c", 50)},
		{"100 Khmer characters", khmer, strings.Repeat("ក", 99) + "ខ"},
		{"exactly 256 characters", strings.Repeat("z", 255) + "1", strings.Repeat("z", 255) + "2"},
		{"64-character passphrase", strings.Repeat("pass phrase ", 5) + "done", strings.Repeat("pass phrase ", 5) + "dune"},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if len(tc.password) > 72 && tc.password[:72] != tc.sameFirst72[:72] {
					t.Fatal("bad fixture: the two passwords must share their first 72 bytes")
				}
				email := string(rune('a'+i)) + "@example.com"
				u, err := f.svc.SignUp(ctx, account.SignUp{Email: email, Password: tc.password, AgeConfirmed: true})
				if err != nil {
					t.Fatal(err)
				}
				if got, err := f.svc.Authenticate(ctx, email, tc.password, ""); err != nil || got.ID != u.ID {
					t.Errorf("right password: %v", err)
				}
				if _, err := f.svc.Authenticate(ctx, email, tc.sameFirst72, ""); !errors.Is(err, account.ErrInvalidCredentials) {
					t.Errorf("password sharing the first 72 bytes: err = %v, want ErrInvalidCredentials", err)
				}
			})
		}
	})
}

// Promise P-01: with the default options, hashes have bcrypt cost 12.
func TestDefaultBcryptCost(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := account.NewService(d, testMaster(t), account.Options{})
		u, err := svc.SignUp(context.Background(), account.SignUp{Email: "cost@example.com", Password: testPassword, AgeConfirmed: true})
		if err != nil {
			t.Fatal(err)
		}
		h := storedHash(t, d, u.ID)
		cost, err := bcrypt.Cost([]byte(strings.TrimPrefix(h, "v1$")))
		if err != nil || cost != 12 {
			t.Errorf("cost = %d, %v; want 12", cost, err)
		}
	})
}

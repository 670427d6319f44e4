package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

// clock is a fake clock tests move by hand.
type clock = fakeclock.Clock

func newClock() *clock { return fakeclock.New(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)) }

// fixture is a Service on a fake clock with a known master key.
type fixture struct {
	svc   *account.Service
	d     *db.DB
	m     *keyring.Master
	clock *clock
	opt   account.Options
}

func testMaster(t *testing.T) *keyring.Master { return masterOf(t, "k") }

// masterOf returns a master key of 32 copies of c.
func masterOf(t *testing.T, c string) *keyring.Master {
	t.Helper()
	m, err := keyring.NewMaster([]byte(strings.Repeat(c, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newFixture builds a Service with bcrypt's minimum cost (tests only; the
// default is checked separately) and a fake clock.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	c := newClock()
	opt := account.Options{Now: c.Now, BcryptCost: bcrypt.MinCost}
	m := testMaster(t)
	return &fixture{svc: account.NewService(d, m, opt), d: d, m: m, clock: c, opt: opt}
}

const testPassword = "correct horse battery staple"

// signUp creates a user or fails the test.
func (f *fixture) signUp(t *testing.T, email string) *account.User {
	t.Helper()
	u, err := f.svc.SignUp(context.Background(), account.SignUp{Email: email, Password: testPassword, Name: "Sokha", AgeConfirmed: true})
	if err != nil {
		t.Fatalf("sign up %s: %v", email, err)
	}
	return u
}

// count returns the number of rows of a table matching where.
func count(t *testing.T, d *db.DB, table, where string, args ...any) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	if err := d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// storedHash reads a user's password_hash column.
func storedHash(t *testing.T, d *db.DB, userID string) string {
	t.Helper()
	var h string
	if err := d.R.NewRaw("SELECT password_hash FROM users WHERE id = ?", userID).Scan(context.Background(), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

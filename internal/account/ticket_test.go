package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-05: the two-step sign-in's ticket proves only "password right",
// expires, dies with a password change, is never a session, and a session
// is never a ticket.
func TestLoginTicket(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "ticket@example.com")
		secret, recovery := enrol(t, f, u.ID)

		ticket, err := f.svc.IssueLoginTicket(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if uid, err := f.svc.LoginTicketUser(ticket); err != nil || uid != u.ID {
			t.Fatalf("LoginTicketUser = %q, %v", uid, err)
		}
		if _, _, err := f.svc.VerifySession(ctx, ticket); !errors.Is(err, account.ErrInvalidSession) {
			t.Fatalf("a ticket passed as a session: %v", err)
		}
		session, _, err := f.svc.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RedeemLoginTicket(ctx, session, recovery[0]); !errors.Is(err, account.ErrInvalidSession) {
			t.Fatalf("a session passed as a ticket: %v", err)
		}
		if _, err := f.svc.RedeemLoginTicket(ctx, ticket, "000000"); !errors.Is(err, account.ErrTOTPInvalid) {
			t.Fatalf("wrong code: %v", err)
		}
		f.clock.Advance(step)
		got, err := f.svc.RedeemLoginTicket(ctx, ticket, code(t, secret, f.clock.Now()))
		if err != nil || got.ID != u.ID {
			t.Fatalf("redeem = %v, %v", got, err)
		}

		// Tampered and expired tickets.
		if _, err := f.svc.RedeemLoginTicket(ctx, ticket[:len(ticket)-2]+"xx", recovery[0]); !errors.Is(err, account.ErrInvalidSession) {
			t.Fatalf("tampered ticket: %v", err)
		}
		f.clock.Advance(account.TicketTTL + time.Second)
		if _, err := f.svc.RedeemLoginTicket(ctx, ticket, recovery[0]); !errors.Is(err, account.ErrInvalidSession) {
			t.Fatalf("expired ticket: %v", err)
		}

		// A password change voids tickets issued before it.
		ticket, _ = f.svc.IssueLoginTicket(ctx, u.ID)
		f.clock.Advance(time.Second)
		if err := f.svc.ChangePassword(ctx, u.ID, testPassword, "another long passphrase", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RedeemLoginTicket(ctx, ticket, recovery[1]); !errors.Is(err, account.ErrInvalidSession) {
			t.Fatalf("ticket survived a password change: %v", err)
		}
		if _, err := f.svc.IssueLoginTicket(ctx, "no-such-user"); err == nil {
			t.Fatal("ticket issued for an unknown user")
		}
	})
}

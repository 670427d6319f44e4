package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// ownersOf is an OwnerCheck answering names for every user.
func ownersOf(names ...string) account.OwnerCheck {
	return func(context.Context, bun.IDB, string) ([]string, error) { return names, nil }
}

// Promise P-33: a person deletes their own account with their password;
// a wrong password or the last-owner rule refuse and change nothing; once
// deleted, every session of theirs ends at once and the audit entry keeps
// only their (now meaningless) ID.
func TestDeleteAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.signUp(t, "leaving@example.com")
		stay := f.signUp(t, "staying@example.com")
		token, _, err := f.svc.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		otherToken, _, err := f.svc.CreateSession(ctx, stay.ID)
		if err != nil {
			t.Fatal(err)
		}
		a := audit.Actor{UserID: u.ID, RequestID: "req-1"}

		refusals := []struct {
			name, password string
			owners         account.OwnerCheck
			want           func(error) bool
		}{
			{"wrong password", "wrong", ownersOf(), func(err error) bool { return errors.Is(err, account.ErrInvalidCredentials) }},
			{"last owner", testPassword, ownersOf("Sokha's Shop"), func(err error) bool {
				e, ok := account.IsSoleOwner(err)
				return ok && cmp.Equal(e.Workspaces, []string{"Sokha's Shop"})
			}},
			{"owner check fails", testPassword, func(context.Context, bun.IDB, string) ([]string, error) {
				return nil, errors.New("boom")
			}, func(err error) bool { return err != nil }},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				if err := f.svc.DeleteAccount(ctx, a, u.ID, c.password, c.owners); !c.want(err) {
					t.Fatalf("err = %v", err)
				}
				if _, _, err := f.svc.VerifySession(ctx, token); err != nil {
					t.Errorf("a refused deletion ended the session: %v", err)
				}
			})
		}

		if err := f.svc.DeleteAccount(ctx, a, u.ID, testPassword, ownersOf()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, token); !errors.Is(err, account.ErrInvalidSession) {
			t.Errorf("session after deletion: %v, want ErrInvalidSession", err)
		}
		if _, err := f.svc.Get(ctx, u.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("user after deletion: %v", err)
		}
		if _, _, err := f.svc.VerifySession(ctx, otherToken); err != nil {
			t.Errorf("someone else's session ended: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "leaving@example.com", testPassword, ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("login after deletion: %v", err)
		}
		es, err := audit.List(ctx, d, audit.Filter{UserID: u.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 || es[0].Action != account.ActionAccountDelete {
			t.Fatalf("audit entries = %+v", es)
		}
		dump := dbtest.DumpText(t, d)
		for _, pii := range []string{"leaving@example.com"} {
			if strings.Contains(dump, pii) {
				t.Errorf("the database still holds %q", pii)
			}
		}
		if err := f.svc.DeleteAccount(ctx, a, u.ID, testPassword, ownersOf()); err == nil {
			t.Error("deleting a deleted account succeeded")
		}
	})
}

package keyring_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// A transaction's key memory (WithTxKeys) serves repeated seals and opens
// of one contact, forgets a key the transaction destroys (P-33: nothing is
// sealed under it afterwards), and keeps nothing of a transaction that
// rolled back.
func TestTxKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		kr := newKeyring(d, newMaster(t, 1))
		ws := newWorkspace(t, d, kr)
		aad := keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: "m1"}

		errRollback := errors.New("roll back")
		var lost []byte
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			ctx = keyring.WithTxKeys(ctx)
			var err error
			if lost, err = kr.SealContactTx(ctx, tx, aad, "carol", []byte("never committed")); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}

		var first, again, afterDestroy []byte
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			ctx = keyring.WithTxKeys(ctx)
			var err error
			if first, err = kr.SealContactTx(ctx, tx, aad, "carol", []byte("one")); err != nil {
				return err
			}
			if again, err = kr.SealContactTx(ctx, tx, aad, "carol", []byte("two")); err != nil {
				return err
			}
			if got, err := kr.OpenContactTx(ctx, tx, aad, "carol", first); err != nil || string(got) != "one" {
				t.Errorf("open inside the transaction: %q, %v", got, err)
			}
			if err := kr.DestroyContactKey(ctx, tx, ws, "carol"); err != nil {
				return err
			}
			if afterDestroy, err = kr.SealContactTx(ctx, tx, aad, "carol", []byte("three")); err != nil {
				return err
			}
			if _, err := kr.OpenContactTx(ctx, tx, aad, "carol", first); err == nil {
				t.Error("a value sealed under the destroyed key still opens in the transaction")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := kr.OpenContact(ctx, aad, "carol", afterDestroy); err != nil || string(got) != "three" {
			t.Errorf("value sealed after the destroy: %q, %v", got, err)
		}
		for name, env := range map[string][]byte{"first": first, "second": again, "rolled back": lost} {
			if pt, err := kr.OpenContact(ctx, aad, "carol", env); err == nil {
				t.Errorf("%s value opens after its key was destroyed or rolled back: %q", name, pt)
			}
		}
	})
}

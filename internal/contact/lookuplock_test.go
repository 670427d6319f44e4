package contact_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// A contact found by Lookup inside a transaction cannot be merged away
// until that transaction ends (it may be sealing a message under the
// contact's key): on PostgreSQL Lookup holds the row FOR SHARE and Merge
// waits for it; on SQLite the single writer serialises them. Once the
// transaction ends the merge goes through, and the gone PSID then finds
// the kept contact. Lookup outside a transaction (no lock) still works.
func TestLookupHoldsContactAgainstMerge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		a, b := e.page(t, ws, "p-a"), e.page(t, ws, "p-b")
		keep, _ := e.upsert(t, a, "psid-a")
		gone, _ := e.upsert(t, b, "psid-b")
		if c, err := e.store.Lookup(ctx, d.R, b, "psid-b"); err != nil || c.ID != gone.ID {
			t.Fatalf("lookup outside a transaction = %+v, %v", c, err)
		}

		merged := make(chan error, 1)
		if d.Dialect == db.Postgres {
			tx, err := d.W.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if c, err := e.store.Lookup(ctx, tx, b, "psid-b"); err != nil || c.ID != gone.ID {
				t.Fatalf("lookup = %+v, %v", c, err)
			}
			go func() {
				_, err := e.store.Merge(ctx, agent, ws, keep.ID, gone.ID, noMove(nil))
				merged <- err
			}()
			waitForMergeLock(t, d, gone.ID, merged)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		} else {
			go func() {
				_, err := e.store.Merge(ctx, agent, ws, keep.ID, gone.ID, noMove(nil))
				merged <- err
			}()
		}
		if err := <-merged; err != nil {
			t.Fatalf("merge: %v", err)
		}
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			c, err := e.store.Lookup(ctx, tx, b, "psid-b")
			if err == nil && c.ID != keep.ID {
				t.Errorf("after the merge psid-b finds %s, want the kept %s", c.ID, keep.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// waitForMergeLock returns once PostgreSQL shows a statement on the
// contacts row goneID waiting on a lock, and fails the test if the merge
// ended first.
func waitForMergeLock(t *testing.T, d *db.DB, goneID string, merged <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND strpos(query, ?) > 0`,
			goneID).Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-merged:
			t.Fatalf("the merge did not wait for the transaction that looked the contact up (err %v)", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the merge never waited on the lookup's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

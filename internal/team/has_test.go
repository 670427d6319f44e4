package team_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// A conversation routed to a team inside a transaction that asked Has
// cannot survive a concurrent DeleteTeam: on PostgreSQL the delete waits
// for that transaction (Has's key-share lock) and then its TeamDeleted
// hook clears the conversation; on SQLite the single writer serialises
// them. Afterwards no conversation names the deleted team.
func TestHasHoldsTeamAgainstDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		// The hook does what inbox.ClearTeam does to the table.
		s := team.NewStore(d, e.clock.Now, team.Options{TeamDeleted: func(ctx context.Context, tx bun.Tx, ws, teamID string) error {
			_, err := tx.NewRaw(`UPDATE conversations SET team_id = NULL WHERE workspace_id = ? AND team_id = ?`, ws, teamID).Exec(ctx)
			return err
		}})
		tm := e.team(e.ws, team.Input{Name: "Sales"})
		conv := e.conversation(d.W, e.ws, "", "open")

		if ok, err := s.Has(ctx, d.R, e.ws, tm.ID); err != nil || !ok {
			t.Fatalf("Has outside a transaction = %v, %v; want true", ok, err)
		}
		txA, err := d.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer txA.Rollback()
		if ok, err := s.Has(ctx, txA, e.ws, tm.ID); err != nil || !ok {
			t.Fatalf("Has = %v, %v; want true", ok, err)
		}
		if ok, err := s.Has(ctx, txA, e.ws, "no-such-team"); err != nil || ok {
			t.Fatalf("Has(unknown) = %v, %v; want false", ok, err)
		}
		// What inbox.SetTeam does after Has.
		if _, err := txA.NewRaw(`UPDATE conversations SET team_id = ? WHERE id = ?`, tm.ID, conv).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		done := make(chan error, 1)
		if d.Dialect == db.Postgres {
			go func() { done <- s.DeleteTeam(ctx, admin, e.ws, tm.ID) }()
			waitForDelete(t, d, tm.ID, done)
			if err := txA.Commit(); err != nil {
				t.Fatal(err)
			}
		} else {
			// One writer: the delete cannot start before txA ends.
			if err := txA.Commit(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- s.DeleteTeam(ctx, admin, e.ws, tm.ID) }()
		}
		if err := <-done; err != nil {
			t.Fatalf("delete: %v", err)
		}
		if n := e.count(`SELECT count(*) FROM conversations WHERE team_id = ?`, tm.ID); n != 0 {
			t.Errorf("%d conversation(s) point at the deleted team", n)
		}
	})
}

// waitForDelete returns once PostgreSQL shows the DELETE of teamID
// waiting on a lock, and fails the test if the delete finished first.
func waitForDelete(t *testing.T, d *db.DB, teamID string, done <-chan error) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM teams%' AND strpos(query, ?) > 0`, teamID).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("DeleteTeam did not wait for the transaction that asked Has (err %v)", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("DeleteTeam never waited on the lock of the transaction that asked Has")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Lock order: two inbox transactions that each asked Has about a team and
// then Pick for it must not deadlock. Has and Pick take the same
// key-share lock on the team row, so neither upgrades it; the picks then
// take turns on the workspace's settings row (PostgreSQL; SQLite's single
// writer runs the transactions one after the other).
func TestHasThenPickNoDeadlock(t *testing.T) {
	d := dbtest.Postgres(t)
	e := newEnv(t, d)
	ctx := context.Background()
	a := e.member(e.ws, workspace.RoleAgent)
	e.online(e.ws, a)
	tm := e.team(e.ws, team.Input{Name: "Sales", AutoAssign: true})
	e.must(e.s.AddMember(ctx, admin, e.ws, tm.ID, a))

	begin := func() bun.Tx {
		tx, err := d.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback() })
		if ok, err := e.s.Has(ctx, tx, e.ws, tm.ID); err != nil || !ok {
			t.Fatalf("Has = %v, %v", ok, err)
		}
		return tx
	}
	txA, txB := begin(), begin()
	pidOf := func(tx bun.Tx) int {
		var p int
		if err := tx.NewRaw(`SELECT pg_backend_pid()`).Scan(ctx, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pidA, pidB := pidOf(txA), pidOf(txB)
	type result struct {
		id  string
		err error
	}
	pickIn := func(tx bun.Tx) <-chan result {
		ch := make(chan result, 1)
		go func() {
			id, err := e.s.Pick(ctx, tx, e.ws, tm.ID)
			ch <- result{id, err}
		}()
		return ch
	}
	// A's pick must not wait for B, which only asked Has.
	doneA := pickIn(txA)
	var rA result
	waitFor(t, d, pidA, func() bool {
		select {
		case rA = <-doneA:
			return true
		default:
			return false
		}
	}, false, "Pick waited on a transaction that only called Has (the lock order can deadlock)")
	if rA.err != nil || rA.id != a {
		t.Fatalf("pick A = %q, %v; want %s", rA.id, rA.err, a)
	}
	// B's pick waits for A's settings lock, then goes on once A commits.
	doneB := pickIn(txB)
	waitFor(t, d, pidB, func() bool { return false }, true, "")
	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	if rB := <-doneB; rB.err != nil {
		t.Fatalf("pick B: %v", rB.err)
	}
	if err := txB.Commit(); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls until finished reports true (returns) or backend pid
// waits on a lock: that fails the test with msg unless wantLock, in which
// case it returns. It fails after 30 s of neither.
func waitFor(t *testing.T, d *db.DB, pid int, finished func() bool, wantLock bool, msg string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if finished() {
			if wantLock {
				t.Fatal("finished without waiting on a lock")
			}
			return
		}
		var wait string
		if err := d.R.NewRaw(`SELECT COALESCE(wait_event_type, '') FROM pg_stat_activity WHERE pid = ?`, pid).Scan(ctx, &wait); err != nil {
			t.Fatal(err)
		}
		if wait == "Lock" {
			if wantLock {
				return
			}
			t.Fatal(msg)
		}
		if time.Now().After(deadline) {
			t.Fatal("neither finished nor waited on a lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

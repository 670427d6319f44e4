package team_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// Many transactions picking at once, each assigning in its own
// transaction, fill every member exactly to capacity and no further.
func TestPickConcurrentCapacity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		a := e.member(e.ws, workspace.RoleAgent)
		b := e.member(e.ws, workspace.RoleAgent)
		e.online(e.ws, a)
		e.online(e.ws, b)
		e.must(e.s.SetSettings(ctx, admin, e.ws, team.Settings{DefaultCapacity: 2}))
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		start := make(chan struct{})
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					id, err := e.s.Pick(ctx, tx, e.ws, "")
					if err != nil || id == "" {
						return err
					}
					_, err = insertConversation(ctx, tx, e.ws, e.channel, id, e.clock.Now())
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range []string{a, b} {
			if ag := e.load(e.ws, u); ag.Load != 2 {
				t.Errorf("%s has load %d, want exactly its capacity 2", u, ag.Load)
			}
		}
	})
}

// On PostgreSQL a second transaction's Pick waits for the first
// transaction to end, then sees its assignment: with capacity 1, only one
// of them gets the agent. Both when the workspace's settings row exists
// (the lock is its FOR UPDATE) and on the very first pick (the second
// waits on the first's insert of that row).
func TestPickWaitsForConcurrentPick(t *testing.T) {
	for _, saved := range []bool{true, false} {
		name := "first pick"
		if saved {
			name = "settings saved"
		}
		t.Run(name, func(t *testing.T) { testPickWaits(t, saved) })
	}
}

func testPickWaits(t *testing.T, saved bool) {
	d := dbtest.Postgres(t)
	e := newEnv(t, d)
	ctx := context.Background()
	a := e.member(e.ws, workspace.RoleAgent)
	e.online(e.ws, a)
	e.must(e.s.SetCapacity(ctx, admin, e.ws, a, ptr(1)))
	if saved {
		e.must(e.s.SetSettings(ctx, admin, e.ws, team.Settings{DefaultCapacity: 5}))
	}

	txA, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback()
	got, err := e.s.Pick(ctx, txA, e.ws, "")
	if err != nil || got != a {
		t.Fatalf("first pick = %q, %v; want %s", got, err, a)
	}
	if _, err := insertConversation(ctx, txA, e.ws, e.channel, a, e.clock.Now()); err != nil {
		t.Fatal(err)
	}

	txB, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer txB.Rollback()
	var pid int
	if err := txB.NewRaw(`SELECT pg_backend_pid()`).Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		id, err := e.s.Pick(ctx, txB, e.ws, "")
		done <- result{id, err}
	}()

	// Wait until the second pick is blocked on a lock held by the first.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var wait string
		if err := d.R.NewRaw(`SELECT COALESCE(wait_event_type, '') FROM pg_stat_activity WHERE pid = ?`, pid).Scan(ctx, &wait); err != nil {
			t.Fatal(err)
		}
		if wait == "Lock" {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("second pick did not wait for the first transaction: got %q, %v", r.id, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("second pick never waited on the first's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.id != "" {
		t.Errorf("second pick = %q, %v; want nobody (the agent is at capacity)", r.id, r.err)
	}
	if err := txB.Commit(); err != nil {
		t.Fatal(err)
	}
	if ag := e.load(e.ws, a); ag.Load != 1 {
		t.Errorf("load = %d, want 1", ag.Load)
	}
}

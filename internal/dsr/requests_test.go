package dsr_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/validate"
)

// Promise P-34, security.md §1.4 (Art 12(3)): every request carries its
// deadlines — acknowledge within 7 days and answer within 30 of receipt —
// computed from the date received on an injected clock; overdue requests
// are found as the clock moves, and answering closes them for good.
func TestRequestDeadlines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		cid, _ := e.person(t, "p-deadlines", "hello")
		received := fixture.Epoch.Add(-48 * time.Hour)
		r := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindExport, ReceivedAt: received}))
		if !r.AcknowledgeBy.Equal(received.Add(7*24*time.Hour)) || !r.CompleteBy.Equal(received.Add(30*24*time.Hour)) {
			t.Fatalf("deadlines %v %v", r.AcknowledgeBy, r.CompleteBy)
		}
		overdue := func() int {
			t.Helper()
			return len(must[[]dsr.Request](t)(e.svc.List(ctx, e.ws, dsr.Filter{State: "overdue"})))
		}
		if overdue() != 0 {
			t.Fatal("a fresh request is overdue")
		}
		// Day 7 exactly is still in time; a second later is not.
		e.clock.Advance(5 * 24 * time.Hour)
		if overdue() != 0 {
			t.Fatal("overdue on the last day")
		}
		e.clock.Advance(time.Second)
		if overdue() != 1 {
			t.Fatal("not overdue after the acknowledgement deadline")
		}
		r = must[dsr.Request](t)(e.svc.Acknowledge(ctx, agent, e.ws, r.ID))
		if r.State != dsr.StateAcknowledged || !r.AcknowledgedAt.Equal(e.clock.Now()) || overdue() != 0 {
			t.Fatalf("after acknowledging: %+v, overdue %d", r, overdue())
		}
		if _, err := e.svc.Acknowledge(ctx, agent, e.ws, r.ID); !errors.Is(err, dsr.ErrConflict) {
			t.Fatalf("acknowledging twice: %v", err)
		}
		e.clock.Advance(23*24*time.Hour + time.Second)
		if overdue() != 1 {
			t.Fatal("not overdue after the 30 days")
		}
		r = must[dsr.Request](t)(e.svc.Complete(ctx, agent, e.ws, r.ID))
		if r.State != dsr.StateCompleted || r.ClosedAt.IsZero() || overdue() != 0 {
			t.Fatalf("after completing: %+v", r)
		}
		for name, f := range map[string]func() error{
			"complete": func() error { _, err := e.svc.Complete(ctx, agent, e.ws, r.ID); return err },
			"refuse":   func() error { _, err := e.svc.Refuse(ctx, agent, e.ws, r.ID, "too late"); return err },
		} {
			if err := f(); !errors.Is(err, dsr.ErrConflict) {
				t.Errorf("%s a completed request: %v", name, err)
			}
		}
		open := must[[]dsr.Request](t)(e.svc.List(ctx, e.ws, dsr.Filter{State: "open"}))
		closed := must[[]dsr.Request](t)(e.svc.List(ctx, e.ws, dsr.Filter{State: "closed"}))
		if len(open) != 0 || len(closed) != 1 {
			t.Fatalf("open %d closed %d", len(open), len(closed))
		}
		// Every step is audit-logged, naming kinds, never personal data.
		var actions []string
		if err := d.R.NewRaw(`SELECT action FROM audit_log WHERE workspace_id = ? AND target_id = ? ORDER BY created_at, id`, e.ws, r.ID).Scan(ctx, &actions); err != nil {
			t.Fatal(err)
		}
		if strings.Join(actions, ",") != "dsr_request.create,dsr_request.acknowledge,dsr_request.complete" {
			t.Errorf("audit %v", actions)
		}
	})
}

// Bad input is refused with the field named, and nothing is stored;
// another workspace's contact is not found.
func TestRequestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		cid, _ := e.person(t, "p-bad", "hello")
		other := fixture.Workspace(t, d, e.kr)
		now := e.clock.Now()
		cases := []struct {
			name  string
			ws    string
			in    dsr.NewRequest
			field string
			nf    bool
		}{
			{"unknown kind", e.ws, dsr.NewRequest{ContactID: cid, Kind: "delete_everything"}, "kind", false},
			{"no contact", e.ws, dsr.NewRequest{Kind: dsr.KindAccess}, "contact_id", false},
			{"received in the future", e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindAccess, ReceivedAt: now.Add(48 * time.Hour)}, "received_at", false},
			{"received years ago", e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindAccess, ReceivedAt: now.AddDate(-2, 0, 0)}, "received_at", false},
			{"another workspace's contact", other, dsr.NewRequest{ContactID: cid, Kind: dsr.KindAccess}, "", true},
			{"unknown contact", e.ws, dsr.NewRequest{ContactID: "nobody", Kind: dsr.KindAccess}, "", true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.Create(ctx, agent, c.ws, c.in)
				if c.nf {
					if !errors.Is(err, db.ErrNotFound) {
						t.Fatalf("got %v, want not found", err)
					}
					return
				}
				v, ok := validate.As(err)
				if !errors.Is(err, dsr.ErrInvalid) || !ok || v.Field != c.field {
					t.Fatalf("got %v, want invalid %s", err, c.field)
				}
			})
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM dsr_requests`).Scan(ctx, &n); err != nil || n != 0 {
			t.Fatalf("stored %d requests (%v)", n, err)
		}
		r := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindErasure}))
		for _, reason := range []string{"", "   ", strings.Repeat("x", dsr.MaxReason+1)} {
			if _, err := e.svc.Refuse(ctx, agent, e.ws, r.ID, reason); !errors.Is(err, dsr.ErrInvalid) {
				t.Errorf("refusing with %d characters: %v", len(reason), err)
			}
		}
		if _, err := e.svc.Get(ctx, other, r.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace read the request: %v", err)
		}
		if _, err := e.svc.Acknowledge(ctx, agent, other, r.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace acknowledged the request: %v", err)
		}
		if _, err := e.svc.List(ctx, e.ws, dsr.Filter{State: "bogus"}); !errors.Is(err, dsr.ErrInvalid) {
			t.Errorf("bad filter: %v", err)
		}
		r = must[dsr.Request](t)(e.svc.Refuse(ctx, agent, e.ws, r.ID, "  Manifestly unfounded.  "))
		if r.State != dsr.StateRefused || r.Reason != "Manifestly unfounded." || r.AcknowledgedAt.IsZero() {
			t.Errorf("refused %+v", r)
		}
	})
}

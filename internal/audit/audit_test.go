package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-06: security-relevant actions are written to an append-only log.
func TestRecordAndList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
		a := audit.Actor{UserID: "u1", IP: "192.0.2.1", RequestID: "r1"}
		for i, act := range []string{"member.invite", "member.role_change", "api_key.create"} {
			ws := "w1"
			if i == 2 {
				ws = "w2"
			}
			if err := audit.Record(ctx, d.W, now.Add(time.Duration(i)*time.Second), ws, a, act, "member", "u2", map[string]string{"role": "agent"}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := audit.List(ctx, d, audit.Filter{WorkspaceID: "w1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Action != "member.role_change" || got[1].Action != "member.invite" {
			t.Fatalf("w1 entries = %+v", got)
		}
		if string(got[0].Details) != `{"role":"agent"}` || got[0].IP != "192.0.2.1" || *got[0].ActorUserID != "u1" {
			t.Errorf("entry = %+v", got[0])
		}
		older, err := audit.List(ctx, d, audit.Filter{WorkspaceID: "w1", Before: got[0].ID})
		if err != nil || len(older) != 1 || older[0].Action != "member.invite" {
			t.Fatalf("page = %+v, %v", older, err)
		}
		if _, err := d.W.NewRaw("UPDATE audit_log SET action = 'x'").Exec(ctx); err == nil {
			t.Error("audit_log row was changed")
		}
		if _, err := audit.List(ctx, d, audit.Filter{}); err == nil {
			t.Error("unscoped list allowed")
		}
	})
}

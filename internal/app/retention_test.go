package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-35: the retention job is registered as a periodic task, so a
// started Parley applies the periods on its own: a raw payload kept past
// 90 days goes, a younger one stays, and the run is audit-logged (N-6).
func TestRetentionRunsPeriodically(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		ctx := context.Background()
		now := a.Clock.Now()
		for _, at := range []time.Time{now.Add(-91 * 24 * time.Hour), now.Add(-10 * 24 * time.Hour)} {
			if _, err := d.W.NewRaw(`INSERT INTO webhook_deliveries (id, source, body, state, received_at) VALUES (?, 'meta', ?, 'quarantined', ?)`,
				uuid.Must(uuid.NewV7()).String(), []byte("sealed"), at).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		count := func(q string) int {
			var n int
			if err := d.R.NewRaw(q).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		deadline := time.Now().Add(30 * time.Second)
		for count(`SELECT count(*) FROM audit_log WHERE action = 'retention.run'`) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no retention run within 30 s of start")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := count(`SELECT count(*) FROM webhook_deliveries`); n != 1 {
			t.Errorf("deliveries left %d, want the 10-day-old one", n)
		}
	})
}

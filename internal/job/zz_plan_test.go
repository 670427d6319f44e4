package job

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

func TestZZPlan(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		names := []string{"a", "b"}
		for i := 0; i < 30000; i++ {
			d.W.NewRaw(`INSERT INTO jobs (kind, payload, ordering_key, state, run_at, created_at, updated_at) VALUES ('a', '', ?, 'pending', ?, ?, ?)`, fmt.Sprint(i%64), now, now, now).Exec(ctx)
		}
		if d.Dialect == db.Postgres { d.W.ExecContext(ctx, "ANALYZE jobs") } else { d.W.ExecContext(ctx, "ANALYZE") }
		var q string
		var args []any
		if d.Dialect == db.Postgres {
			q = `EXPLAIN ANALYZE WITH c AS (` + runnable + ` FOR UPDATE SKIP LOCKED) SELECT * FROM c`
			args = []any{now, bun.In(names), 16}
		} else {
			q = `EXPLAIN QUERY PLAN UPDATE jobs SET state = 'running' WHERE id IN (` + runnable + `) RETURNING id`
			args = []any{now, bun.In(names), 16}
		}
		rows, err := d.W.QueryContext(ctx, d.W.NewRaw(q, args...).String())
		if err != nil { t.Fatal(err) }
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols)); ptrs := make([]any, len(cols))
			for i := range vals { ptrs[i] = &vals[i] }
			rows.Scan(ptrs...)
			t.Log(vals...)
		}
		rows.Close()
	})
}

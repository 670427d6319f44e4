package job

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

func BenchmarkExpBatched(b *testing.B) {
	for _, dl := range benchDialects() {
		b.Run(string(dl), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.Open(b, dl)
			q := newQueue(b, d, Options{Workers: DefaultWorkers, PollInterval: DefaultPollInterval})
			var n atomic.Int64
			all := make(chan struct{})
			q.Register("bench", func(ctx context.Context, j *Job) error {
				if n.Add(1) == int64(b.N) {
					close(all)
				}
				return nil
			})
			b.ResetTimer()
			for i := 0; i < b.N; i += 100 {
				d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					for k := i; k < i+100 && k < b.N; k++ {
						ev := webhookEvent{"page-1", fmt.Sprint("psid-", k%64), fmt.Sprint("m_", k), "hello, I would like to book a table", int64(k)}
						if _, err := q.Enqueue(ctx, tx, "bench", ev, Key(ev.Sender)); err != nil {
							b.Fatal(err)
						}
					}
					return nil
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enq/s")
			start(b, q)
			recv(b, all, "every job to run")
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

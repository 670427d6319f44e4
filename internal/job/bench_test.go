package job

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// benchDialects is SQLite, plus PostgreSQL when the test server is set.
func benchDialects() []db.Dialect {
	if os.Getenv(dbtest.EnvPostgres) != "" {
		return []db.Dialect{db.SQLite, db.Postgres}
	}
	return []db.Dialect{db.SQLite}
}

// webhookEvent is a payload about the size of a normalised inbound message.
type webhookEvent struct {
	Page, Sender, MID, Text string
	Timestamp               int64
}

// BenchmarkEnqueueAndRun measures throughput: b.N jobs enqueued by 8
// producers (one autocommit insert each, 64 ordering keys as 64
// conversations) and run by the default worker pool. It reports jobs/s
// through the whole pipeline: enqueue, claim, handler, delete.
func BenchmarkEnqueueAndRun(b *testing.B) {
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
			start(b, q)
			const producers = 8
			b.ResetTimer()
			var wg sync.WaitGroup
			for p := range producers {
				wg.Go(func() {
					for i := p; i < b.N; i += producers {
						ev := webhookEvent{"page-1", fmt.Sprint("psid-", i%64), fmt.Sprint("m_", i), "hello, I would like to book a table", int64(i)}
						if _, err := q.Enqueue(ctx, nil, "bench", ev, Key(ev.Sender)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			recv(b, all, "every job to run")
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

// BenchmarkEnqueueInTx measures the producer side alone, as webhook intake
// uses it: 100 enqueues per transaction, each keyed by conversation. The
// queue is started with no kinds, so its statements are prepared and
// nothing is claimed.
func BenchmarkEnqueueInTx(b *testing.B) {
	for _, dl := range benchDialects() {
		b.Run(string(dl), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.Open(b, dl)
			q := newQueue(b, d, Options{})
			start(b, q)
			b.ResetTimer()
			for i := 0; i < b.N; i += 100 {
				err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					for k := i; k < min(i+100, b.N); k++ {
						ev := webhookEvent{"page-1", fmt.Sprint("psid-", k%64), fmt.Sprint("m_", k), "hello, I would like to book a table", int64(k)}
						if _, err := q.Enqueue(ctx, tx, "bench", ev, Key(ev.Sender)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

// BenchmarkEnqueueToHandler measures latency: one job at a time, the time
// from Enqueue to its handler starting (ns/op is the mean; p50 is reported
// separately).
func BenchmarkEnqueueToHandler(b *testing.B) {
	for _, dl := range benchDialects() {
		b.Run(string(dl), func(b *testing.B) {
			d := dbtest.Open(b, dl)
			q := newQueue(b, d, Options{Workers: DefaultWorkers, PollInterval: DefaultPollInterval})
			started := make(chan time.Time, 1)
			q.Register("bench", func(ctx context.Context, j *Job) error {
				started <- time.Now()
				return nil
			})
			start(b, q)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				mustEnqueue(b, q, "bench", webhookEvent{"page-1", "psid-1", fmt.Sprint("m_", i), "hi", int64(i)}, Key("psid-1"))
				lat = append(lat, recv(b, started, "the handler").Sub(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64(percentile(lat, 50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(percentile(lat, 99).Microseconds()), "p99-µs")
		})
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	for i := 1; i < len(s); i++ { // insertion sort: b.N is small
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[(len(s)-1)*p/100]
}

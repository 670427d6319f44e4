package inbox

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// counter counts the statements bun runs on a database.
type counter struct{ n atomic.Int64 }

func (c *counter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (c *counter) AfterQuery(context.Context, *bun.QueryEvent)                        { c.n.Add(1) }

// The hot path stays lean: a text message from a known person, answered by
// the automatic reply, costs a fixed, small number of statements. The
// service here is not prepared, so every statement goes through bun and is
// counted (the job queue, not started, does the same). The bound catches an
// N+1 creeping in; the figure is logged.
func TestIngestStatementCount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.unprepared()
		h.ingest(h.text("psid-1", "m_0", "first message: creates the contact"))
		h.runProfiles(false)
		c := &counter{}
		d.W.AddQueryHook(c)
		h.ingest(h.text("psid-1", "m_1", "hello again"))
		n := c.n.Load() - 2 // BEGIN and COMMIT
		t.Logf("statements for one known person's message and its automatic reply: %d (%s)", n, d.Dialect)
		const bound = 12 // 11 on SQLite, +1 advisory lock on PostgreSQL
		if n > bound {
			t.Errorf("%d statements, want at most %d", n, bound)
		}
	})
}

// BenchmarkIngest measures the hot path, prepared: events from 100 known
// people (profiles fetched), each answered by the automatic reply
// (enqueued, not sent), one event per transaction and in batches of 16 (as
// the webhook intake's group commit makes them); ns/op is per event.
func BenchmarkIngest(b *testing.B) {
	dialects := []db.Dialect{db.SQLite}
	if os.Getenv(dbtest.EnvPostgres) != "" {
		dialects = append(dialects, db.Postgres)
	}
	for _, dl := range dialects {
		for _, batch := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/batch=%d", dl, batch), func(b *testing.B) {
				d := dbtest.Open(b, dl)
				h := newHarness(b, d)
				if err := h.sends.Start(context.Background()); err != nil { // prepares the enqueue statements
					b.Fatal(err)
				}
				b.Cleanup(func() { h.sends.Stop(context.Background()) })
				for i := range 100 {
					if _, err := h.ingestOn(h.ch, h.text(fmt.Sprint("psid-", i), fmt.Sprint("warm-", i), "hi")); err != nil {
						b.Fatal(err)
					}
				}
				h.runProfiles(false)
				b.ResetTimer()
				events := make([]channel.Inbound, 0, batch)
				for i := range b.N {
					events = append(events, h.text(fmt.Sprint("psid-", i%100), fmt.Sprint("m_", i), "hello, I would like to book a table for two"))
					if len(events) == batch || i == b.N-1 {
						if _, err := h.ingestOn(h.ch, events...); err != nil {
							b.Fatal(err)
						}
						events = events[:0]
					}
				}
			})
		}
	}
}

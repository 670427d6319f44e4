package run

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// counter counts the statements bun runs on a database while it is on.
type counter struct {
	on atomic.Bool
	n  atomic.Int64
}

func (c *counter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (c *counter) AfterQuery(context.Context, *bun.QueryEvent) {
	if c.on.Load() {
		c.n.Add(1)
	}
}

// The runner keeps the inbox's hot path lean: for a known person's
// message, what it adds to the ingest transaction is one small read when
// nothing runs (the session and the workspace's flow revision together;
// the compiled triggers come from memory), and a bounded handful when a
// flow answers (the session written, the node events counted).
// The bound catches an N+1 creeping in; the figures are logged.
func TestRunnerStatementCount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.unprepared = true // every statement through bun, so the hook counts it
		h.restart()
		h.publish(welcome)
		h.say("psid-1", "first message: creates the contact")
		h.say("psid-1", "warms the caches")
		c := &counter{}
		d.W.AddQueryHook(c)
		count := func(text string) int64 {
			c.n.Store(0)
			c.on.Store(true)
			h.say("psid-1", text)
			c.on.Store(false)
			return c.n.Load() - 2 // BEGIN and COMMIT
		}
		base := count("nothing matches this")
		flowed := count("price")
		runner := h.inbox
		h.inbox = inbox.New(h.d, h.kr, inbox.Options{Now: h.clock.Now, Log: slog.New(slog.DiscardHandler), Channels: h.channels,
			Contacts: h.contacts, Responder: inbox.AutoReply{}, Jobs: h.jobs, Sends: h.sends})
		plain := count("the same, without flows")
		h.inbox = runner
		t.Logf("%s: %d statements for a message nothing matches (automatic reply; %d without the runner), %d for one that starts a flow",
			d.Dialect, base, plain, flowed)
		if base > plain+1 {
			t.Errorf("the runner adds %d statements to an unmatched message, want at most 1", base-plain)
		}
		if flowed > base+3 {
			t.Errorf("%d statements to start a one-message flow, %d without", flowed, base)
		}
	})
}

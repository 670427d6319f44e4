package run

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// BenchmarkIngestWithRunner measures the inbox's hot path with the runner
// as its Responder (no flow matching, the automatic reply answers) next to
// the plain AutoReply, on SQLite, one event per transaction: the cost the
// runner adds to every message.
func BenchmarkIngestWithRunner(b *testing.B) {
	for _, name := range []string{"autoreply", "runner"} {
		b.Run(name, func(b *testing.B) {
			d := dbtest.Open(b, db.SQLite)
			h := newHarness(b, d)
			if name == "autoreply" {
				h.inbox = inbox.New(h.d, h.kr, inbox.Options{Now: h.clock.Now, Channels: h.channels, Contacts: h.contacts,
					Log: slog.New(slog.DiscardHandler), Responder: inbox.AutoReply{}, Jobs: h.jobs, Sends: h.sends})
			}
			if err := h.inbox.Prepare(context.Background()); err != nil {
				b.Fatal(err)
			}
			if err := h.sends.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { h.sends.Stop(context.Background()) })
			for i := range 100 {
				h.ingest(h.event(fmt.Sprint("psid-", i), "", channel.EventMessage, channel.Content{Text: "hi"}))
			}
			b.ResetTimer()
			for i := range b.N {
				h.ingest(h.event(fmt.Sprint("psid-", i%100), "", channel.EventMessage, channel.Content{Text: "hello, a table for two"}))
			}
		})
	}
}

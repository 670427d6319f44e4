package inbox

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Options.Unsent hears an unsent message inside the unsend's transaction
// (search forgets it there), and its failure rolls the unsend back.
func TestUnsentHook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		var heard []string
		fail := false
		opt := h.svc.opt
		opt.Unsent = func(ctx context.Context, tx bun.Tx, workspaceID, messageID string) error {
			// Inside the transaction: the redacted row is visible through tx.
			var n int
			if err := tx.NewRaw(`SELECT count(*) FROM messages WHERE workspace_id = ? AND id = ?`, workspaceID, messageID).Scan(ctx, &n); err != nil {
				return err
			}
			if n != 1 {
				t.Errorf("Unsent(%s, %s): no such message in the transaction", workspaceID, messageID)
			}
			if fail {
				return errors.New("listener down")
			}
			heard = append(heard, workspaceID+"/"+messageID)
			return nil
		}
		h.svc = New(d, h.kr, opt)
		h.ingest(h.text("psid-1", "m_1", "first"), h.text("psid-1", "m_2", "second"))
		ms := h.messages(h.conversationOf("psid-1").ID)
		if len(heard) != 0 {
			t.Fatalf("heard %v before any unsend", heard)
		}

		fail = true
		if _, err := h.ingestOn(h.ch, channel.Inbound{Kind: eventDeleted, UserID: "psid-1", MID: "m_1"}); err == nil {
			t.Fatal("a failing listener did not fail the unsend")
		}
		for _, m := range h.messages(h.conversationOf("psid-1").ID) {
			if m.Deleted {
				t.Errorf("message %s redacted although the unsend failed", m.ExternalID)
			}
		}

		fail = false
		h.ingest(channel.Inbound{Kind: eventDeleted, UserID: "psid-1", MID: "m_1"},
			channel.Inbound{Kind: eventDeleted, UserID: "psid-1", MID: "m_unknown"})
		var want string
		for _, m := range ms {
			if m.ExternalID == "m_1" {
				want = h.ws + "/" + m.ID
			}
		}
		if len(heard) != 1 || heard[0] != want {
			t.Errorf("heard %v, want [%s] (unknown messages are not told)", heard, want)
		}
	})
}

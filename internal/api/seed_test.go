package api_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

var pageSeq atomic.Int64

// seeded is a page connected to a workspace with one conversation.
type seeded struct {
	channel                   channel.Channel
	psid                      string
	conversationID, contactID string
}

// seedConversation connects a page to ws straight through the store (no
// Graph call) and applies one message from a new person, as the webhook
// intake would, inside a transaction. It needs no simulator and no job
// workers, so any test can have a conversation.
func seedConversation(t testing.TB, a *apptest.App, ws, text string) seeded {
	t.Helper()
	n := pageSeq.Add(1)
	s := seeded{psid: fmt.Sprintf("7%015d", n)}
	s.channel = fixture.Messenger(t, a.Channels, ws, fmt.Sprintf("9%014d", n), fmt.Sprintf("EAA-seed-token-%d", n))
	ingest(t, a, s.channel, s.psid, fmt.Sprintf("m_seed_%d", n), text, a.Clock.Now())
	list, err := a.Inbox.Conversations(context.Background(), ws, inbox.ListOptions{ChannelID: s.channel.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("seed: conversations %v, %v", list, err)
	}
	s.conversationID, s.contactID = list[0].ID, list[0].ContactID
	return s
}

// ingest applies one text message from psid to ch at at, as the webhook
// intake does.
func ingest(t testing.TB, a *apptest.App, ch channel.Channel, psid, mid, text string, at time.Time) {
	t.Helper()
	ev := channel.Inbound{
		Type: channel.Messenger, Kind: channel.EventMessage, AccountID: ch.ExternalID, UserID: psid,
		At: at, MID: mid, Content: channel.Content{Text: text},
	}
	err := a.DB.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, err := a.Inbox.Ingest(ctx, tx, ch, []channel.Inbound{ev})
		return err
	})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

package inbox

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// heard is a Change as Options.Changed heard it, with what a reader saw of
// the conversation at that moment: the number of its messages and its
// owner and status. A change told before its commit would see less.
type heard struct {
	Change
	Messages int
	State    string
}

// listener records the changes Options.Changed hears.
type listener struct {
	d  *db.DB
	mu sync.Mutex
	cs []heard
}

func (l *listener) changed(ctx context.Context, c Change) {
	var n int
	var state string
	// Through the reader pool: it sees committed rows only.
	if err := l.d.R.NewRaw(`SELECT COUNT(*) FROM messages WHERE conversation_id = ?`, c.ConversationID).Scan(ctx, &n); err != nil {
		n = -1
	}
	if err := l.d.R.NewRaw(`SELECT owner || '/' || status FROM conversations WHERE id = ?`, c.ConversationID).Scan(ctx, &state); err != nil {
		state = "error"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cs = append(l.cs, heard{Change: c, Messages: n, State: state})
}

// take returns what was heard since the last take.
func (l *listener) take() []heard {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.cs
	l.cs = nil
	return out
}

// listen installs a listener on the harness's service.
func (h *harness) listen() *listener {
	l := &listener{d: h.d}
	h.svc.opt.Changed = l.changed
	return l
}

// Options.Changed hears each committed change once, by ID only, after the
// commit (a reader already sees it), and nothing of work that rolled back
// or was refused.
func TestChangesAreToldAfterCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		l := h.listen()
		ctx := context.Background()

		// An inbound message (answered by the automatic reply): told by
		// Notify, not by Ingest.
		eff := h.ingest(h.text("psid-1", "m_1", "Hello"), h.text("psid-1", "m_2", "Anyone?"))
		if got := l.take(); len(got) != 0 {
			t.Fatalf("heard before Notify: %+v", got)
		}
		h.svc.Notify(eff)
		conv := h.conversationOf("psid-1")
		msg := Change{Kind: ChangeMessage, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		// The automatic reply makes it pending: the bot handles it.
		cvNew := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		if diff := cmp.Diff([]heard{{Change: msg, Messages: 4, State: "bot/pending"}, {Change: cvNew, Messages: 4, State: "bot/pending"}}, l.take()); diff != "" {
			t.Errorf("after ingest (-want +got):\n%s", diff)
		}

		// A redelivery changes nothing and tells nothing.
		h.svc.Notify(h.ingest(h.text("psid-1", "m_1", "Hello")))
		if got := l.take(); len(got) != 0 {
			t.Errorf("redelivery told %+v", got)
		}

		// A batch that rolls back tells nothing, whatever Ingest returned.
		rollback := errors.New("rollback")
		var lost Effects
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var err error
			lost, err = h.svc.Ingest(ctx, tx, h.ch, []channel.Inbound{h.text("psid-2", "m_3", "Lost")})
			if err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("tx = %v", err)
		}
		if got := l.take(); len(got) != 0 {
			t.Errorf("rolled-back ingest told %+v", got)
		}
		if len(lost.changes) != 2 { // the message, and the conversation now pending
			t.Errorf("rolled-back effects = %+v: the caller must drop them, not Notify them", lost.changes)
		}

		// The queued replies are sent by the job path: each stored result
		// is told.
		h.runSends()
		want := []heard{{Change: msg, Messages: 4, State: "bot/pending"}, {Change: msg, Messages: 4, State: "bot/pending"}}
		if diff := cmp.Diff(want, l.take()); diff != "" {
			t.Errorf("after sends (-want +got):\n%s", diff)
		}

		// An agent's reply, told once committed; a refused one tells
		// nothing.
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		cv := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		if diff := cmp.Diff([]heard{{Change: cv, Messages: 4, State: "human/open"}}, l.take()); diff != "" {
			t.Errorf("after SetOwner (-want +got):\n%s", diff)
		}
		if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, Actor: auditActor}, h.ws, conv.ID, channel.Content{Text: "On it"}); err != nil {
			t.Fatal(err)
		}
		// The reply assigns the agent, which nobody was: a conversation
		// change too.
		if diff := cmp.Diff([]heard{{Change: msg, Messages: 5, State: "human/open"}, {Change: cv, Messages: 5, State: "human/open"}}, l.take()); diff != "" {
			t.Errorf("after Reply (-want +got):\n%s", diff)
		}
		var ce *channel.ContentError
		if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, Actor: auditActor}, h.ws, conv.ID, channel.Content{}); !errors.As(err, &ce) {
			t.Fatalf("empty reply = %v, want a content error", err)
		}
		if err := h.svc.SetStatus(ctx, auditActor, h.ws, "no-such-conversation", StatusResolved); err == nil {
			t.Fatal("SetStatus of an unknown conversation succeeded")
		}
		if got := l.take(); len(got) != 0 {
			t.Errorf("refused work told %+v", got)
		}
		if err := h.svc.SetStatus(ctx, auditActor, h.ws, conv.ID, StatusResolved); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]heard{{Change: cv, Messages: 5, State: "human/resolved"}}, l.take()); diff != "" {
			t.Errorf("after SetStatus (-want +got):\n%s", diff)
		}
	})
}

// Automate's replies, handoff and resolve are carried in its Effects, and
// the direct path tells each send result it stores.
func TestAutomateAndDirectSendsTellChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		l := h.listen()
		h.direct()
		h.svc.Notify(h.ingest(h.text("psid-1", "m_1", "Hello")))
		conv := h.conversationOf("psid-1")
		h.settle()
		msg := Change{Kind: ChangeMessage, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		waitFor(t, "the sent reply to be told", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return len(l.cs) == 3
		})
		cvPending := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		if diff := cmp.Diff([]Change{msg, cvPending, msg}, changesOf(l.take())); diff != "" {
			t.Errorf("inbound and its direct reply (-want +got):\n%s", diff)
		}

		eff, err := h.automate(conv.ID, Author{Type: SenderFlow, ID: "flow-1"},
			Response{Replies: []channel.Content{{Text: "Passing you on"}}, Handoff: true, Resolve: true})
		if err != nil {
			t.Fatal(err)
		}
		cv := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		if diff := cmp.Diff([]Change{msg, cv}, eff.changes); diff != "" {
			t.Errorf("automate effects (-want +got):\n%s", diff)
		}
		if got := l.take(); len(got) != 0 {
			t.Errorf("Automate told before Notify: %+v", got)
		}
		h.svc.Notify(eff)
		if got := l.take(); len(got) < 2 || got[0].Change != msg || got[1].Change != cv || got[1].State != "human/resolved" {
			t.Errorf("after Notify heard %+v", got)
		}
	})
}

func changesOf(hs []heard) []Change {
	var out []Change
	for _, h := range hs {
		out = append(out, h.Change)
	}
	return out
}

// Receipts and thread-control changes of a known conversation are carried
// in Ingest's Effects; those about nobody Parley knows, or that change
// nothing, are not.
func TestReceiptsAndHandoversCarryChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.ingest(h.text("psid-1", "m_1", "hi"))
		h.runSends()
		conv := h.conversationOf("psid-1")
		msg := Change{Kind: ChangeMessage, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		cv := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		delivery := func(psid string) channel.Inbound {
			return channel.Inbound{Kind: channel.EventDelivery, UserID: psid, Watermark: h.clock.Now()}
		}
		pass := func(psid string) channel.Inbound {
			return channel.Inbound{Kind: channel.EventHandover, UserID: psid,
				Handover: &channel.Handover{Kind: channel.HandoverPass, NewOwnerAppID: "263902037430900"}}
		}
		tests := []struct {
			name  string
			event channel.Inbound
			want  []Change
		}{
			{"delivery", delivery("psid-1"), []Change{msg}},
			{"delivery to a stranger", delivery("psid-unknown"), nil},
			{"handover to the Page inbox", pass("psid-1"), []Change{cv}},
			{"handover that changes nothing", pass("psid-1"), nil},
		}
		for _, tt := range tests {
			if diff := cmp.Diff(tt.want, h.ingest(tt.event).changes); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
	})
}

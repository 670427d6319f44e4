package inbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// scripted is a Responder that answers with a fixed Response.
type scripted struct{ r Response }

func (s scripted) Respond(context.Context, bun.Tx, Incoming) (Response, error) { return s.r, nil }

// automate runs Automate in a transaction of its own.
func (h *harness) automate(convID string, a Author, r Response) (Effects, error) {
	var eff Effects
	err := h.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if _, err := h.svc.LockConversation(ctx, tx, h.ws, convID); err != nil {
			return err
		}
		var err error
		eff, err = h.svc.Automate(ctx, tx, h.ws, convID, a, r)
		return err
	})
	return eff, err
}

// auditActions lists the workspace's audit entries about conv as
// "action details", oldest first.
func (h *harness) auditActions(convID string) []string {
	h.t.Helper()
	es, err := audit.List(context.Background(), h.d, audit.Filter{WorkspaceID: h.ws})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].TargetID == convID {
			out = append(out, es[i].Action+" "+string(es[i].Details))
		}
	}
	return out
}

// Automate is the job path of automation: replies through policy and
// adapter, then handoff and resolve, audited; never while a person owns
// the conversation.
func TestAutomate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.ingest(h.text("psid-1", "m_1", "hi"))
		conv := h.conversationOf("psid-1")
		flowAuthor := Author{Type: SenderFlow, ID: "flow-1"}

		eff, err := h.automate(conv.ID, flowAuthor, Response{Replies: []channel.Content{{Text: "A reply that the adapter splits in two parts"}}, Jobs: 2})
		if err != nil || eff.Sends != 2 || eff.Jobs != 2 {
			t.Fatalf("effects %+v, %v", eff, err)
		}
		ms := h.messages(conv.ID)
		last := ms[len(ms)-1]
		if last.SenderType != SenderFlow || last.SenderID != "flow-1" || last.Status != StatusQueued {
			t.Errorf("reply %+v", last)
		}

		if _, err := h.automate(conv.ID, flowAuthor, Response{Handoff: true, Team: "sales", Resolve: true}); err != nil {
			t.Fatal(err)
		}
		c := h.conversationOf("psid-1")
		if c.Owner != OwnerHuman || c.Status != StatusResolved {
			t.Fatalf("conversation %+v", c)
		}
		got := h.auditActions(conv.ID)
		want := []string{ActionOwner + ` {"by":"flow:flow-1","owner":"human","team":"sales"}`, ActionStatus + ` {"by":"flow:flow-1","status":"resolved"}`}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit %v", got)
		}

		// A person owns it now: nothing, and a sentinel.
		before := len(h.messages(conv.ID))
		if _, err := h.automate(conv.ID, flowAuthor, Response{Replies: []channel.Content{{Text: "hello?"}}}); !errors.Is(err, ErrNotAutomated) {
			t.Fatalf("err = %v", err)
		}
		if n := len(h.messages(conv.ID)); n != before {
			t.Errorf("%d messages after a refused automation, want %d", n, before)
		}

		if _, err := h.automate(conv.ID, Author{Type: SenderAgent, ID: "u"}, Response{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("an agent is not automation: %v", err)
		}
		if _, err := h.automate("no-such-conversation", flowAuthor, Response{}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown conversation: %v", err)
		}
	})
}

// Promise P-16: automation asks the messaging policy before every send; a
// refusal is logged and skipped, never an error.
func TestAutomatePolicyRefusal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.ingest(h.text("psid-1", "m_1", "hi"))
		conv := h.conversationOf("psid-1")
		before := len(h.messages(conv.ID))
		h.clock.Advance(25 * time.Hour) // the standard window has closed
		eff, err := h.automate(conv.ID, Author{Type: SenderFlow, ID: "f"}, Response{Replies: []channel.Content{{Text: "late"}}, Resolve: true})
		if err != nil || eff.Sends != 0 {
			t.Fatalf("effects %+v, %v", eff, err)
		}
		if n := len(h.messages(conv.ID)); n != before {
			t.Errorf("a refused reply was stored")
		}
		if h.conversationOf("psid-1").Status != StatusResolved {
			t.Error("the rest of the response was not applied")
		}
	})
}

// A Responder's handoff and resolve apply inside the ingest transaction,
// after its replies, and its jobs are counted for Notify.
func TestResponderResponse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.svc.opt.Responder = scripted{Response{Replies: []channel.Content{{Text: "bye"}}, FlowID: "flow-9", Handoff: true, Jobs: 1}}
		eff := h.ingest(h.text("psid-1", "m_1", "hi"))
		if eff.Sends != 1 || eff.Jobs != 2 { // the reply; the profile fetch and the responder's job
			t.Errorf("effects %+v", eff)
		}
		conv := h.conversationOf("psid-1")
		ms := h.messages(conv.ID)
		if conv.Owner != OwnerHuman || len(ms) != 2 || ms[1].SenderID != "flow-9" || ms[1].Content.Text != "bye" {
			t.Fatalf("conversation %+v, messages %+v", conv, ms)
		}
		// Handed over: the responder is not asked any more.
		h.ingest(h.text("psid-1", "m_2", "hello?"))
		if n := len(h.messages(conv.ID)); n != 3 {
			t.Errorf("%d messages", n)
		}
	})
}

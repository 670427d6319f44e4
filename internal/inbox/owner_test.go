package inbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// The ownership state machine allows exactly the listed transitions; every
// other one is refused with ErrInvalid and changes nothing.
func TestOwnerTransitions(t *testing.T) {
	owners := []Owner{OwnerBot, OwnerAI, OwnerHuman, OwnerNobody}
	reasons := []Reason{ReasonAgentReply, ReasonTakeover, ReasonPageEcho, ReasonHandover, ReasonHandoff, ReasonAssign,
		ReasonReturnToBot, ReasonSilenceTimeout, ReasonToAI, ReasonRelease, "whim"}
	want := map[string]bool{
		"bot>human:agent_reply": true, "ai>human:agent_reply": true, "nobody>human:agent_reply": true,
		"bot>human:takeover": true, "ai>human:takeover": true, "nobody>human:takeover": true,
		"bot>human:page_echo": true, "ai>human:page_echo": true, "nobody>human:page_echo": true,
		"bot>human:handover": true, "ai>human:handover": true, "nobody>human:handover": true, "human>bot:handover": true,
		"bot>human:handoff": true, "ai>human:handoff": true,
		"bot>human:assign": true, "ai>human:assign": true, "nobody>human:assign": true,
		"human>bot:return_to_bot": true, "ai>bot:return_to_bot": true, "nobody>bot:return_to_bot": true,
		"human>bot:silence_timeout": true,
		"bot>ai:to_ai":              true, "human>ai:to_ai": true, "nobody>ai:to_ai": true,
		"bot>nobody:release": true, "ai>nobody:release": true, "human>nobody:release": true,
	}
	for _, from := range owners {
		for _, to := range owners {
			if from == to {
				continue
			}
			for _, r := range reasons {
				key := string(from) + ">" + string(to) + ":" + string(r)
				if got := allowed(from, to, r); got != want[key] {
					t.Errorf("%s allowed = %v, want %v", key, got, want[key])
				}
			}
		}
	}

	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		conv := h.newConv("psid-1")
		apply := func(to Owner, r Reason) error {
			return d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
				c, err := h.svc.lockConversation(ctx, tx, h.ws, conv.ID)
				if err != nil {
					return err
				}
				_, _, err = h.svc.transition(ctx, tx, c, ownerChange{to: to, reason: r, actor: "system"}, h.svc.now(), &Effects{})
				return err
			})
		}
		for _, tc := range []struct {
			to   Owner
			r    Reason
			ok   bool
			want Owner
		}{
			{OwnerBot, ReasonSilenceTimeout, false, OwnerBot}, // already the bot's: no change, no error
			{OwnerHuman, ReasonReturnToBot, false, OwnerBot},
			{OwnerNobody, ReasonHandoff, false, OwnerBot},
			{"robot", ReasonTakeover, false, OwnerBot},
			{OwnerHuman, ReasonHandoff, true, OwnerHuman},
			{OwnerAI, ReasonSilenceTimeout, false, OwnerHuman},
			{OwnerBot, ReasonSilenceTimeout, true, OwnerBot},
		} {
			err := apply(tc.to, tc.r)
			if tc.ok && err != nil {
				t.Errorf("%s by %s: %v", tc.to, tc.r, err)
			}
			if !tc.ok && tc.to != OwnerBot && !errors.Is(err, ErrInvalid) {
				t.Errorf("%s by %s = %v, want ErrInvalid", tc.to, tc.r, err)
			}
			if got := h.conversationOf("psid-1").Owner; got != tc.want {
				t.Errorf("after %s by %s: owner %s, want %s", tc.to, tc.r, got, tc.want)
			}
		}
		got := h.events(conv.ID)
		if diff := cmp.Diff([]string{
			"status system from=open,to=pending", // the bot answered
			"owner system from=bot,reason=handoff,to=human",
			"status system from=pending,to=open",
			"owner system from=human,reason=silence_timeout,to=bot",
			"status system from=open,to=pending",
		}, got); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
	})
}

// While a person owns a conversation every automated sender — flow, AI
// agent, broadcast — is refused where all sends pass (queue), and nothing
// is stored; a member's reply goes through.
func TestHumanOwnedRefusesEveryAutomatedSender(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		before := len(h.messages(conv.ID))
		for _, st := range []SenderType{SenderFlow, SenderAI, SenderBroadcast} {
			t.Run(string(st), func(t *testing.T) {
				_, err := h.svc.Reply(ctx, Author{Type: st, ID: "x-1"}, h.ws, conv.ID, channel.Content{Text: "automatic"})
				if !errors.Is(err, ErrHumanOwned) {
					t.Fatalf("reply as %s = %v, want ErrHumanOwned", st, err)
				}
				if n := len(h.messages(conv.ID)); n != before {
					t.Fatalf("a refused %s message was stored", st)
				}
			})
		}
		// The same refusal inside Automate's transaction (queue is shared).
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			c, err := getConversation(ctx, tx, h.ws, conv.ID)
			if err != nil {
				return err
			}
			ch, err := h.channels.GetTx(ctx, tx, h.ws, c.ChannelID)
			if err != nil {
				return err
			}
			_, _, err = h.svc.queue(ctx, tx, ch, c, "", "", Author{Type: SenderFlow, ID: "f"}, channel.Content{Text: "x"}, h.svc.now())
			return err
		})
		if !errors.Is(err, ErrHumanOwned) {
			t.Errorf("queue for a flow = %v", err)
		}
		if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, Actor: auditActor}, h.ws, conv.ID, channel.Content{Text: "a person"}); err != nil {
			t.Errorf("agent reply: %v", err)
		}
		// Back to the bot: automation may speak again.
		if err := h.svc.ReturnToBot(ctx, auditActor, h.ws, conv.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Reply(ctx, Author{Type: SenderBroadcast, ID: "b-1"}, h.ws, conv.ID, channel.Content{Text: "news"}); err != nil {
			t.Errorf("broadcast after return to bot: %v", err)
		}
	})
}

// A member's reply and a reply from the Page inbox (a foreign echo) make
// the conversation human-owned, on the timeline with their reasons; the
// foreign echo is told as a change.
func TestHumanRepliesTakeOver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		agent := h.member("agent")
		a := h.newConv("psid-a")
		if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, ID: agent}, h.ws, a.ID, channel.Content{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-a"); c.Owner != OwnerHuman || c.AssigneeID != agent || !c.HumanAt.Equal(h.clock.Now()) {
			t.Errorf("after agent reply: %+v", c)
		}
		if diff := cmp.Diff([]string{
			"status system from=open,to=pending",
			"assignment user:" + agent + " from=,reason=agent_reply,to=" + agent,
			"owner user:" + agent + " from=bot,reason=agent_reply,to=human",
			"status user:" + agent + " from=pending,to=open",
		}, h.events(a.ID)); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}

		b := h.newConv("psid-b")
		eff := h.ingest(h.echo("psid-b", "m_page_1", "", "", "answered in Meta's inbox"))
		c := h.conversationOf("psid-b")
		if c.Owner != OwnerHuman || c.HumanAt.IsZero() {
			t.Errorf("after a foreign echo: %+v", c)
		}
		msg := Change{Kind: ChangeMessage, WorkspaceID: h.ws, ConversationID: b.ID, ContactID: b.ContactID}
		cv := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: b.ID, ContactID: b.ContactID}
		if diff := cmp.Diff([]Change{msg, cv}, eff.changes); diff != "" {
			t.Errorf("echo changes (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"status system from=open,to=pending", "owner page from=bot,reason=page_echo,to=human",
			"status page from=pending,to=open"}, h.events(b.ID)); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
	})
}

// "Return to bot" after a configured silence: a job scheduled from the
// person's last message hands the conversation back; a job made stale by
// a newer message, by a hand-back or by the setting turned off does
// nothing.
func TestReturnToBotAfterSilence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		if s, err := h.svc.Settings(ctx, h.ws); err != nil || s != (Settings{}) {
			t.Fatalf("default settings = %+v, %v", s, err)
		}
		for _, bad := range []time.Duration{-time.Second, 1500 * time.Millisecond, MaxReturnToBotAfter + time.Second} {
			if err := h.svc.SetSettings(ctx, auditActor, h.ws, Settings{ReturnToBotAfter: bad}); !errors.Is(err, ErrInvalid) {
				t.Errorf("ReturnToBotAfter %v = %v, want ErrInvalid", bad, err)
			}
		}
		conv := h.newConv("psid-1")
		reply := func() {
			t.Helper()
			if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, Actor: auditActor}, h.ws, conv.ID, channel.Content{Text: "on it"}); err != nil {
				t.Fatal(err)
			}
		}
		// Off by default: no job.
		reply()
		if n := len(h.queuedJobs(KindReturnToBot)); n != 0 {
			t.Fatalf("%d return-to-bot jobs with the setting off", n)
		}
		if err := h.svc.SetSettings(ctx, auditActor, h.ws, Settings{ReturnToBotAfter: 10 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		reply()
		first := h.queuedJobs(KindReturnToBot)
		if len(first) != 1 || first[0].Payload != (idJob{WS: h.ws, ID: conv.ID}) {
			t.Fatalf("jobs = %+v", first)
		}
		var runAt time.Time
		if err := d.R.NewRaw(`SELECT run_at FROM jobs WHERE id = ?`, first[0].ID).Scan(ctx, &runAt); err != nil {
			t.Fatal(err)
		}
		if !runAt.Equal(h.clock.Now().Add(10 * time.Minute)) {
			t.Errorf("runs at %v, want 10 minutes after the reply", runAt)
		}
		run := func() {
			t.Helper()
			for _, j := range h.queuedJobs(KindReturnToBot) {
				if err := h.svc.returnAfterSilence(ctx, j.Payload); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Too early, then a newer message restarts the timer.
		h.clock.Advance(9 * time.Minute)
		run()
		reply()
		h.clock.Advance(2 * time.Minute)
		run()
		if c := h.conversationOf("psid-1"); c.Owner != OwnerHuman {
			t.Fatalf("handed back %v after the last message: %s", 2*time.Minute, c.Owner)
		}
		h.clock.Advance(8 * time.Minute)
		run()
		if c := h.conversationOf("psid-1"); c.Owner != OwnerBot {
			t.Fatalf("after the silence: owner %s", c.Owner)
		}
		evs := h.events(conv.ID)
		if last := evs[len(evs)-2]; last != "owner system from=human,reason=silence_timeout,to=bot" {
			t.Errorf("last event %q", last)
		}

		// Setting turned off: a pending job is stale.
		reply()
		if err := h.svc.SetSettings(ctx, auditActor, h.ws, Settings{}); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Hour)
		run()
		if c := h.conversationOf("psid-1"); c.Owner != OwnerHuman {
			t.Errorf("setting off, owner %s", c.Owner)
		}
		// Another workspace's IDs do nothing.
		if err := h.svc.returnAfterSilence(ctx, idJob{WS: "other", ID: conv.ID}); err != nil {
			t.Errorf("foreign job: %v", err)
		}
	})
}

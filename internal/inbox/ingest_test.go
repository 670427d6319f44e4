package inbox

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-15: the person's message is stored with its time, the
// conversation counts the interaction and opens the window, and the bot's
// automatic reply is queued in the same transaction.
func TestInboundMessageIsStoredAndAnswered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			at := h.clock.Now().Add(-2 * time.Second) // the platform's time, a little before we process it
			ev := h.text("psid-1", "m_1", "Hello, do you deliver?")
			ev.At = at
			ev.ReplyTo = "m_0"
			eff := h.ingest(ev)
			if eff.Sends != 1 || eff.Jobs != 1 || len(eff.direct) != 0 {
				t.Errorf("effects = %+v, want one send and one profile job", eff)
			}
			conv := h.conversationOf("psid-1")
			if conv.Owner != OwnerBot || conv.Status != StatusPending || conv.InteractionCount != 1 || !conv.LastInboundAt.Equal(at) {
				t.Errorf("conversation = %+v", conv)
			}
			ms := h.messages(conv.ID)
			if len(ms) != 2 {
				t.Fatalf("messages = %+v, want the inbound one and the reply", ms)
			}
			in, out := ms[0], ms[1]
			if in.Direction != In || in.SenderType != SenderContact || in.Status != StatusReceived || in.ExternalID != "m_1" ||
				in.ReplyTo != "m_0" || in.Content.Text != "Hello, do you deliver?" || in.Kind != "text" || !in.PlatformAt.Equal(at) {
				t.Errorf("inbound message = %+v", in)
			}
			if out.Direction != Out || out.SenderType != SenderFlow || out.Status != StatusQueued || out.Content.Text != h.ch.AutoReply ||
				out.MessagingType != channel.MessagingResponse {
				t.Errorf("reply = %+v", out)
			}
			sends := h.queuedJobs(KindSend)
			if len(sends) != 1 || sends[0].Payload != (idJob{WS: h.ws, ID: out.ID}) || sends[0].Key != conv.ID {
				t.Errorf("send jobs = %+v, want one for the reply keyed by the conversation", sends)
			}
			profiles := h.queuedJobs(KindProfile)
			if len(profiles) != 1 || profiles[0].Payload.ID != conv.ContactID || profiles[0].UniqueKey != KindProfile+":"+conv.ContactID {
				t.Errorf("profile jobs = %+v", profiles)
			}
		})
	})
}

// A redelivered webhook changes nothing: the same mid twice (in one batch
// or two) is one message and one reply; an event without a mid is
// deduplicated by its key.
func TestRedeliveryIsANoOp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			ev := h.text("psid-1", "m_dup", "once")
			h.ingest(ev, ev)
			eff := h.ingest(ev)
			if eff.Sends != 0 || eff.Jobs != 0 || len(eff.direct) != 0 {
				t.Errorf("effects of a redelivery = %+v, want none", eff)
			}
			postback := channel.Inbound{Type: channel.Messenger, Kind: channel.EventPostback, UserID: "psid-1", At: h.clock.Now(),
				Key: "k-postback-1", Content: channel.Content{Postback: &channel.Postback{Title: "Menu", Payload: "MENU"}}}
			h.ingest(postback)
			h.ingest(postback)
			conv := h.conversationOf("psid-1")
			if conv.InteractionCount != 2 {
				t.Errorf("interaction count = %d, want 2 (one message, one postback)", conv.InteractionCount)
			}
			var in, out int
			for _, m := range h.messages(conv.ID) {
				if m.Direction == In {
					in++
				} else {
					out++
				}
			}
			if in != 2 || out != 2 {
				t.Errorf("%d inbound and %d outgoing messages, want 2 and 2", in, out)
			}
			if n := len(h.queuedJobs(KindSend)); n != 2 {
				t.Errorf("%d send jobs, want 2", n)
			}
			// The postback's redelivery key names its contact, so erasing
			// the contact can delete it (issue 6).
			if n := h.count(`SELECT count(*) FROM inbound_keys WHERE key = ? AND contact_id = ?`, "k-postback-1", conv.ContactID); n != 1 {
				t.Errorf("%d redelivery keys naming the contact, want 1", n)
			}
		})
	})
}

// The window opens on messages, postbacks, referrals and reactions only;
// an older event never moves it back; interactions count messages and
// postbacks.
func TestWindowAndCounters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		t0 := h.clock.Now()
		h.ingest(h.text("psid-1", "m_1", "hi"))
		h.clock.Advance(time.Hour)
		optin := channel.Inbound{Kind: channel.EventOptin, UserID: "psid-1", At: h.clock.Now(), Key: "optin-1", Content: channel.Content{OptinRef: "r"}}
		late := h.text("psid-1", "m_0", "sent earlier, delivered late")
		late.At = t0.Add(-time.Minute)
		h.ingest(optin, late)
		conv := h.conversationOf("psid-1")
		if !conv.LastInboundAt.Equal(t0) {
			t.Errorf("last inbound = %v, want %v: opt-ins do not open the window and older events never move it back", conv.LastInboundAt, t0)
		}
		if conv.InteractionCount != 2 {
			t.Errorf("interaction count = %d, want 2", conv.InteractionCount)
		}
		reaction := channel.Inbound{Kind: channel.EventReaction, UserID: "psid-1", At: h.clock.Now(), Key: "react-1",
			Content: channel.Content{Reaction: &channel.Reaction{Action: "react", Emoji: "❤️", MID: "m_1"}}}
		h.ingest(reaction)
		conv = h.conversationOf("psid-1")
		if !conv.LastInboundAt.Equal(h.clock.Now()) || conv.InteractionCount != 2 {
			t.Errorf("after a reaction: %+v", conv)
		}
		ms := h.messages(conv.ID)
		if last := ms[len(ms)-1]; last.Kind != "reaction" || last.Content.Reaction == nil || last.Content.Reaction.Emoji != "❤️" {
			t.Errorf("reaction stored as %+v", last)
		}
		// Only messages and postbacks get the automatic reply.
		if n := len(h.queuedJobs(KindSend)); n != 2 {
			t.Errorf("%d replies queued, want 2 (the two messages)", n)
		}
	})
}

// A closed conversation reopens when the person writes: open when nobody
// automated answers, pending again when the bot does.
func TestInboundReopens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.ingest(h.text("psid-1", "m_1", "hi"))
		conv := h.conversationOf("psid-1")
		if err := h.svc.SetStatus(context.Background(), auditActor, h.ws, conv.ID, StatusResolved); err != nil {
			t.Fatal(err)
		}
		h.ingest(h.text("psid-1", "m_2", "me again"))
		if got := h.conversationOf("psid-1").Status; got != StatusPending {
			t.Errorf("status = %s, want pending (reopened, and the bot answered)", got)
		}
		if err := h.svc.SetStatus(context.Background(), auditActor, h.ws, conv.ID, StatusResolved); err != nil {
			t.Fatal(err)
		}
		h.svc.opt.Responder = silentResponder{}
		h.ingest(h.text("psid-1", "m_3", "hello??"))
		if got := h.conversationOf("psid-1").Status; got != StatusOpen {
			t.Errorf("status = %s, want open (reopened, nobody automated answered)", got)
		}
	})
}

// Standby events (another app owns the thread) are stored, never answered.
func TestStandbyIsStoredNotAnswered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ev := h.text("psid-1", "m_1", "hello?")
		ev.Standby = true
		eff := h.ingest(ev)
		if eff.Sends != 0 || len(h.queuedJobs(KindSend)) != 0 {
			t.Errorf("a standby message was answered: %+v", eff)
		}
		if ms := h.messages(h.conversationOf("psid-1").ID); len(ms) != 1 || ms[0].Content.Text != "hello?" {
			t.Errorf("messages = %+v", ms)
		}
	})
}

// An echo of our own send is matched to its message whether it comes
// before or after the Send API's answer is stored: never a second row.
func TestOwnEchoMatchesTheMessage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, tc := range []struct {
			name string
			// before: the echo arrives while Send is still running.
			before bool
			// noMetadata: the echo lacks our metadata (matched by mid).
			noMetadata bool
			// appID: the echo names another app (a misconfigured app ID):
			// our metadata still proves it ours.
			appID string
		}{
			{name: "echo after the answer"},
			{name: "echo before the answer", before: true},
			{name: "echo without metadata", noMetadata: true},
			{name: "echo with our metadata and another app ID", appID: "999", before: true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				bothPaths(t, d, func(t *testing.T, h *harness) {
					h.ingest(h.text("psid-1", "m_in", "hi"))
					echoOf := func(m channel.Outbound, mid string) channel.Inbound {
						meta := m.Metadata
						if tc.noMetadata {
							meta = ""
						}
						app := ourApp
						if tc.appID != "" {
							app = tc.appID
						}
						return h.echo("psid-1", mid, app, meta, m.Content.Text)
					}
					if tc.before {
						h.sender.during = func(m channel.Outbound, mid string) {
							if _, err := h.ingestOn(h.ch, echoOf(m, mid)); err != nil {
								t.Error(err)
							}
						}
					}
					if rs := h.runSends(); len(rs) != 1 || rs[0].action != done {
						t.Fatalf("send results = %+v", rs)
					}
					h.sender.during = nil
					calls := h.sender.sent()
					if len(calls) != 1 {
						t.Fatalf("%d sends", len(calls))
					}
					if m := h.message(calls[0].Metadata); tc.before && (m.PlatformAt.IsZero() || m.Status != StatusSent) {
						t.Errorf("the echo that came before the answer was not applied: %+v", m)
					}
					h.clock.Advance(time.Second)
					h.ingest(echoOf(calls[0], "m_out_1")) // (again, for the "before" case: a redelivery)
					conv := h.conversationOf("psid-1")
					ms := h.messages(conv.ID)
					if len(ms) != 2 {
						t.Fatalf("messages = %+v, want the inbound one and one reply", ms)
					}
					out := ms[1]
					if out.ID != calls[0].Metadata || out.Status != StatusSent || out.ExternalID != "m_out_1" || out.SenderType != SenderFlow || out.SentAt.IsZero() {
						t.Errorf("reply after its echo = %+v", out)
					}
					if conv.Owner != OwnerBot {
						t.Errorf("owner = %s: our own echo must not hand the conversation over", conv.Owner)
					}
				})
			})
		}
	})
}

// An echo from another app or a person in Meta's inbox is the Page's
// message: stored once, and the conversation goes to a human, so the bot
// stops answering.
func TestForeignEchoHandsOverToAHuman(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			h.ingest(h.text("psid-1", "m_1", "hi"))
			before := len(h.queuedJobs(KindSend))
			foreign := h.echo("psid-1", "m_page_1", "263902037430900", "", "Hi, this is Dara from the shop")
			h.ingest(foreign, foreign)
			conv := h.conversationOf("psid-1")
			if conv.Owner != OwnerHuman {
				t.Errorf("owner = %s, want human", conv.Owner)
			}
			ms := h.messages(conv.ID)
			var page []Message
			for _, m := range ms {
				if m.SenderType == SenderPage {
					page = append(page, m)
				}
			}
			if len(page) != 1 || page[0].Direction != Out || page[0].Status != StatusSent || page[0].ExternalID != "m_page_1" ||
				page[0].Content.Text != "Hi, this is Dara from the shop" {
				t.Errorf("page messages = %+v", page)
			}
			h.ingest(h.text("psid-1", "m_2", "great, thanks"))
			if after := len(h.queuedJobs(KindSend)); after != before {
				t.Errorf("the bot answered a human-owned conversation (%d sends, want %d)", after, before)
			}
			// An echo from a person in Meta's inbox carries no app ID at all.
			h.ingest(h.text("psid-2", "m_3", "hi"))
			h.ingest(h.echo("psid-2", "m_page_2", "", "", "hello from the inbox"))
			if got := h.conversationOf("psid-2").Owner; got != OwnerHuman {
				t.Errorf("owner after an inbox echo = %s", got)
			}
		})
	})
}

// Promise P-17: deliveries and reads are recorded per message, forward
// only, for outgoing messages of that conversation up to the watermark.
func TestReceiptsMoveStatusForward(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			h.ingest(h.text("psid-1", "m_in_1", "one"))
			h.ingest(h.text("psid-2", "m_in_x", "other person"))
			h.clock.Advance(time.Minute)
			h.ingest(h.text("psid-1", "m_in_2", "two"))
			h.runSends() // three replies sent: m_out_1 (psid-1), m_out_2 (psid-2), m_out_3 (psid-1)
			conv := h.conversationOf("psid-1")
			other := h.conversationOf("psid-2")
			outs := func(c Conversation) []Message {
				var out []Message
				for _, m := range h.messages(c.ID) {
					if m.Direction == Out {
						out = append(out, m)
					}
				}
				return out
			}
			first, second := outs(conv)[0], outs(conv)[1]
			statuses := func() []MessageStatus {
				var s []MessageStatus
				for _, m := range outs(conv) {
					s = append(s, m.Status)
				}
				return append(s, outs(other)[0].Status)
			}

			// A delivery up to the first reply's time.
			h.clock.Advance(time.Second)
			h.ingest(channel.Inbound{Kind: channel.EventDelivery, UserID: "psid-1", Watermark: first.CreatedAt})
			if diff := cmp.Diff([]MessageStatus{StatusDelivered, StatusSent, StatusSent}, statuses()); diff != "" {
				t.Errorf("after the first delivery (-want +got):\n%s", diff)
			}
			// A read of everything.
			h.clock.Advance(time.Second)
			h.ingest(channel.Inbound{Kind: channel.EventRead, UserID: "psid-1", At: h.clock.Now(), Watermark: h.clock.Now()})
			if diff := cmp.Diff([]MessageStatus{StatusRead, StatusRead, StatusSent}, statuses()); diff != "" {
				t.Errorf("after the read (-want +got):\n%s", diff)
			}
			// A late delivery never downgrades a read.
			h.ingest(channel.Inbound{Kind: channel.EventDelivery, UserID: "psid-1", Watermark: h.clock.Now(), MIDs: []string{second.ExternalID}})
			if diff := cmp.Diff([]MessageStatus{StatusRead, StatusRead, StatusSent}, statuses()); diff != "" {
				t.Errorf("after a late delivery (-want +got):\n%s", diff)
			}
			got := outs(conv)
			if got[0].DeliveredAt.IsZero() || got[0].ReadAt.IsZero() || got[1].DeliveredAt.IsZero() || !got[1].ReadAt.Equal(h.clock.Now()) {
				t.Errorf("receipt times not recorded: %+v", got)
			}
			// Listed MIDs count even with no watermark; unknown people are a no-op.
			h.ingest(channel.Inbound{Kind: channel.EventDelivery, UserID: "psid-2", MIDs: []string{outs(other)[0].ExternalID}},
				channel.Inbound{Kind: channel.EventRead, UserID: "psid-unknown", Watermark: h.clock.Now()})
			if got := outs(other)[0].Status; got != StatusDelivered {
				t.Errorf("delivery by mid: %s", got)
			}
			if n := h.count(`SELECT count(*) FROM contacts WHERE external_id = 'psid-unknown'`); n != 0 {
				t.Error("a receipt created a contact")
			}
		})
	})
}

// A receipt can arrive before Parley has stored that its reply was sent
// (the Send API's answer and the echo race the person's phone): the reply
// then takes the receipt's state as it becomes sent, never stays "sent".
// Promise P-17.
func TestReceiptBeforeSendIsStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			h.ingest(h.text("psid-1", "m_in_1", "one"))
			h.ingest(h.text("psid-2", "m_in_2", "two"))
			conv, other := h.conversationOf("psid-1"), h.conversationOf("psid-2")
			h.clock.Advance(time.Second)
			wm := h.clock.Now()
			// Both replies are still queued when the receipts come.
			h.ingest(channel.Inbound{Kind: channel.EventRead, UserID: "psid-1", At: wm, Watermark: wm},
				channel.Inbound{Kind: channel.EventDelivery, UserID: "psid-2", Watermark: wm})
			h.clock.Advance(time.Second)
			h.runSends()
			for _, c := range []struct {
				conv Conversation
				want MessageStatus
			}{{conv, StatusRead}, {other, StatusDelivered}} {
				var out *Message
				for _, m := range h.messages(c.conv.ID) {
					if m.Direction == Out {
						out = &m
					}
				}
				if out == nil {
					t.Fatalf("no reply in conversation %s", c.conv.ID)
				}
				if out.Status != c.want || !out.DeliveredAt.Equal(wm) || out.SentAt.IsZero() {
					t.Errorf("reply after an early %s receipt: status %s, delivered at %v (want %v), sent at %v", c.want, out.Status, out.DeliveredAt, wm, out.SentAt)
				}
				if c.want == StatusRead && !out.ReadAt.Equal(wm) {
					t.Errorf("read at %v, want %v", out.ReadAt, wm)
				}
			}
			// A reply created after the watermark is only sent.
			h.clock.Advance(time.Second)
			h.ingest(h.text("psid-1", "m_in_3", "three"))
			h.runSends()
			msgs := h.messages(conv.ID)
			if last := msgs[len(msgs)-1]; last.Direction != Out || last.Status != StatusSent {
				t.Errorf("a reply after the watermark: %s %s, want an outgoing sent message", last.Direction, last.Status)
			}
		})
	})
}

// Handover: control passed to another app makes the conversation human;
// taken back by Parley, the bot answers again. A block makes the person
// unreachable, and replies are refused.
func TestHandoverAndPolicyNotices(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.ingest(h.text("psid-1", "m_1", "hi"))
		h.ingest(channel.Inbound{Kind: channel.EventHandover, UserID: "psid-1",
			Handover: &channel.Handover{Kind: channel.HandoverPass, NewOwnerAppID: "263902037430900"}})
		if got := h.conversationOf("psid-1").Owner; got != OwnerHuman {
			t.Errorf("after pass to the Page inbox: %s", got)
		}
		h.ingest(channel.Inbound{Kind: channel.EventHandover, UserID: "psid-1",
			Handover: &channel.Handover{Kind: channel.HandoverTake, PrevOwnerAppID: "263902037430900"}})
		if got := h.conversationOf("psid-1").Owner; got != OwnerBot {
			t.Errorf("after taking it back: %s", got)
		}
		h.ingest(channel.Inbound{Kind: channel.EventHandover, UserID: "psid-1",
			Handover: &channel.Handover{Kind: channel.HandoverTake, PrevOwnerAppID: ourApp}})
		if got := h.conversationOf("psid-1").Owner; got != OwnerHuman {
			t.Errorf("after another app took it from us: %s", got)
		}
		h.ingest(channel.Inbound{Kind: channel.EventHandover, UserID: "psid-1",
			Handover: &channel.Handover{Kind: channel.HandoverPass, NewOwnerAppID: ourApp}})
		if got := h.conversationOf("psid-1").Owner; got != OwnerBot {
			t.Errorf("after it was passed to us: %s", got)
		}

		h.ingest(channel.Inbound{Kind: channel.EventPolicy, UserID: "psid-1", Policy: &channel.PolicyNotice{Action: "block", Reason: "spam"}})
		conv := h.conversationOf("psid-1")
		if conv.UnreachableAt.IsZero() {
			t.Fatal("a block did not make the person unreachable")
		}
		_, err := h.svc.Reply(context.Background(), Author{Type: SenderAgent, ID: "user-1"}, h.ws, conv.ID, channel.Content{Text: "hello?"})
		if pe := policyErr(err); pe == nil || pe.Decision.Reason != channel.ReasonUnreachable {
			t.Errorf("reply to an unreachable person: %v", err)
		}
		h.ingest(channel.Inbound{Kind: channel.EventPolicy, UserID: "psid-1", Policy: &channel.PolicyNotice{Action: "unblock"}})
		if !h.conversationOf("psid-1").UnreachableAt.IsZero() {
			t.Error("an unblock left the person unreachable")
		}
		// Page-level notices and events for unknown people change nothing.
		if _, err := h.ingestOn(h.ch, channel.Inbound{Kind: channel.EventPolicy, Policy: &channel.PolicyNotice{Action: "block"}},
			channel.Inbound{Kind: channel.EventHandover, UserID: "psid-nobody", Handover: &channel.Handover{Kind: channel.HandoverPass}}); err != nil {
			t.Error(err)
		}
	})
}

// A message the person unsent keeps its row, its content replaced.
func TestUnsendRedactsTheBody(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			h.ingest(h.text("psid-1", "m_1", "my phone is 012 345 678"))
			h.ingest(channel.Inbound{Kind: eventDeleted, UserID: "psid-1", MID: "m_1"})
			ms := h.messages(h.conversationOf("psid-1").ID)
			if len(ms) != 2 || !ms[0].Deleted || ms[0].Content.Text != "" || ms[0].ExternalID != "m_1" {
				t.Errorf("after unsend: %+v", ms)
			}
			if strings.Contains(dbtest.DumpText(t, d), "012 345 678") {
				t.Error("the unsent text is still in the database")
			}
			if n := len(h.queuedJobs(KindSend)); n != 1 {
				t.Errorf("%d sends: an unsend must never be answered", n)
			}
		})
	})
}

// Promise P-14: the profile is fetched once for a new person, not again on
// their next messages, refreshed after 30 days; failures are tolerated and
// retried, and a day after giving up it is tried again.
func TestProfileFetchedOnceAndRefreshedRarely(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.ingest(h.text("psid-1", "m_1", "hi"))
		h.ingest(h.text("psid-1", "m_2", "hello?")) // before the fetch: the unique key holds it to one job
		if n := len(h.queuedJobs(KindProfile)); n != 1 {
			t.Fatalf("%d profile jobs, want 1", n)
		}
		if errs := h.runProfiles(false); errs[0] != nil {
			t.Fatal(errs[0])
		}
		conv := h.conversationOf("psid-1")
		ct, err := h.contacts.Get(ctx, h.ws, conv.ContactID)
		if err != nil || ct.DisplayName() != "Dara Sok" || ct.Locale != "km_KH" || ct.ProfileState != contact.ProfileFetched {
			t.Fatalf("contact = %+v, %v", ct, err)
		}
		h.clock.Advance(24 * time.Hour)
		h.ingest(h.text("psid-1", "m_3", "still there?"))
		if n := len(h.queuedJobs(KindProfile)); n != 0 || h.profiles.count() != 1 {
			t.Errorf("profile fetched again a day later (%d jobs, %d fetches)", n, h.profiles.count())
		}

		h.clock.Advance(contact.ProfileRefresh)
		h.profiles.script = []error{&channel.SendError{Kind: channel.ErrTransient, Code: 2, Message: "unexpected error"}, &channel.SendError{Kind: channel.ErrTransient}}
		h.ingest(h.text("psid-1", "m_4", "a month later"))
		if errs := h.runProfiles(false); len(errs) != 1 || errs[0] == nil {
			t.Fatalf("a transient failure must be retried: %v", errs)
		}
		if errs := h.runProfiles(true); len(errs) != 1 || errs[0] != nil {
			t.Fatalf("the last attempt must give up quietly: %v", errs)
		}
		ct, _ = h.contacts.Get(ctx, h.ws, conv.ContactID)
		if ct.ProfileState != contact.ProfileUnavailable || ct.DisplayName() != "Dara Sok" {
			t.Errorf("after giving up: %+v (the old names stay)", ct)
		}
		h.clock.Advance(time.Hour)
		h.ingest(h.text("psid-1", "m_5", "hour later"))
		if n := len(h.queuedJobs(KindProfile)); n != 0 {
			t.Error("retried an unavailable profile within the day")
		}
		h.clock.Advance(contact.ProfileRetry)
		h.ingest(h.text("psid-1", "m_6", "next day"))
		h.runProfiles(false)
		if h.profiles.count() != 4 {
			t.Errorf("%d fetches, want 4", h.profiles.count())
		}
		// No profile for this person: unavailable at once, no retry.
		h.ingest(h.text("psid-2", "m_7", "hi"))
		h.profiles.script = []error{&channel.SendError{Kind: channel.ErrInvalid, Code: 2018218, Message: "No profile available for this user"}}
		if errs := h.runProfiles(false); errs[0] != nil {
			t.Errorf("a permanent profile failure must not be retried: %v", errs[0])
		}
		ct2, _ := h.contacts.Get(ctx, h.ws, h.conversationOf("psid-2").ContactID)
		if ct2.ProfileState != contact.ProfileUnavailable {
			t.Errorf("contact without profile = %+v", ct2)
		}
	})
}

// Batches for the same new person committing at once (several replicas, or
// several webhook jobs) make one contact and one conversation, and lose no
// message and no increment.
func TestConcurrentIngest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := h.ingestOn(h.ch, h.text("psid-new", fmt.Sprint("m_", i), "hi"))
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if c := h.count(`SELECT count(*) FROM contacts WHERE workspace_id = ?`, h.ws); c != 1 {
			t.Errorf("%d contacts, want 1", c)
		}
		if c := h.count(`SELECT count(*) FROM conversations WHERE workspace_id = ?`, h.ws); c != 1 {
			t.Errorf("%d conversations, want 1", c)
		}
		conv := h.conversationOf("psid-new")
		if conv.InteractionCount != n || len(h.messages(conv.ID)) != 2*n {
			t.Errorf("interaction count %d, %d messages; want %d and %d", conv.InteractionCount, len(h.messages(conv.ID)), n, 2*n)
		}
	})
}

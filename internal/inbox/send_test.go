package inbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

func policyErr(err error) *PolicyError {
	var pe *PolicyError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// message reads one message back.
func (h *harness) message(id string) Message {
	h.t.Helper()
	var r msgRow
	if err := h.d.R.NewRaw(`SELECT `+msgCols+` FROM messages WHERE id = ?`, id).Scan(context.Background(), &r); err != nil {
		h.t.Fatal(err)
	}
	m, err := h.svc.open(context.Background(), &r)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// Promise P-16: a reply goes out through the platform's send API with the
// message ID as metadata, to the person's PSID, as a RESPONSE inside the
// window, and its platform ID is stored.
func TestSendDeliversOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			h.ingest(h.text("psid-1", "m_1", "hi"))
			out := h.queuedJobs(KindSend)[0].Payload.ID
			if rs := h.runSends(); len(rs) != 1 || rs[0].action != done {
				t.Fatalf("results = %+v", rs)
			}
			calls := h.sender.sent()
			if len(calls) != 1 || calls[0].To != "psid-1" || calls[0].Metadata != out || calls[0].MessagingType != channel.MessagingResponse ||
				calls[0].Tag != "" || calls[0].Content.Text != h.ch.AutoReply {
				t.Fatalf("sent = %+v", calls)
			}
			m := h.message(out)
			if m.Status != StatusSent || m.ExternalID != "m_out_1" || !m.SentAt.Equal(h.clock.Now()) {
				t.Errorf("after sending: %+v", m)
			}
			// The same job again (a redelivered job) sends nothing.
			if r := h.svc.deliver(context.Background(), idJob{WS: h.ws, ID: out}, false); r.action != done || len(h.sender.sent()) != 1 {
				t.Errorf("second run = %+v, %d sends", r, len(h.sender.sent()))
			}
		})
	})
}

// Promise P-16: the policy engine decides before anything is stored.
// Automation is refused more than 24 h after the person last wrote; a
// human may still answer, with the HUMAN_AGENT tag, for 7 days; after that
// nobody may.
func TestReplyHonoursTheWindow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.ingest(h.text("psid-1", "m_1", "hi"))
		h.runSends()
		conv := h.conversationOf("psid-1")
		messagesBefore := h.count(`SELECT count(*) FROM messages`)

		h.clock.Advance(25 * time.Hour)
		_, err := h.svc.Reply(ctx, Author{Type: SenderFlow, ID: "flow-1"}, h.ws, conv.ID, channel.Content{Text: "Any news?"})
		if pe := policyErr(err); pe == nil || pe.Decision.Reason != channel.ReasonWindowClosed || pe.Decision.Explanation == "" {
			t.Fatalf("automated reply after 25 h: %v", err)
		}
		if n := h.count(`SELECT count(*) FROM messages`); n != messagesBefore {
			t.Error("a refused reply was stored")
		}

		ms, err := h.svc.Reply(ctx, Author{Type: SenderAgent, Actor: audit.Actor{UserID: "user-7"}}, h.ws, conv.ID, channel.Content{Text: "Sorry for the wait!"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].MessagingType != channel.MessagingTag || ms[0].Tag != channel.TagHumanAgent || ms[0].SenderType != SenderAgent ||
			ms[0].SenderID != "user-7" || ms[0].Status != StatusQueued {
			t.Fatalf("agent reply = %+v", ms)
		}
		h.runSends()
		calls := h.sender.sent()
		if last := calls[len(calls)-1]; last.MessagingType != channel.MessagingTag || last.Tag != channel.TagHumanAgent || last.Content.Text != "Sorry for the wait!" {
			t.Errorf("sent = %+v", last)
		}
		conv = h.conversationOf("psid-1")
		if conv.AssigneeID != "user-7" || conv.Owner != OwnerHuman {
			t.Errorf("after an agent reply: assignee %q owner %s (assigned to the agent, human-owned)", conv.AssigneeID, conv.Owner)
		}

		h.clock.Advance(7 * 24 * time.Hour)
		_, err = h.svc.Reply(ctx, Author{Type: SenderAgent, ID: "user-7"}, h.ws, conv.ID, channel.Content{Text: "Hello?"})
		if pe := policyErr(err); pe == nil || pe.Decision.Reason != channel.ReasonHumanWindowClosed {
			t.Errorf("agent reply after 8 days: %v", err)
		}
	})
}

// The window can close while a message waits in the queue: the send job
// checks the policy again and fails the message instead of sending it.
func TestPolicyRecheckedAtSendTime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			h.ingest(h.text("psid-1", "m_1", "hi"))
			out := h.queuedJobs(KindSend)[0].Payload.ID
			h.clock.Advance(24 * time.Hour)
			if rs := h.runSends(); rs[0].action != done {
				t.Errorf("result = %+v", rs[0])
			}
			if len(h.sender.sent()) != 0 {
				t.Error("a message was sent after its window closed")
			}
			if m := h.message(out); m.Status != StatusFailed || m.ErrorCode != channel.ReasonWindowClosed || m.ErrorMessage == "" {
				t.Errorf("message = %+v", m)
			}
		})
	})
}

// Content the adapter refuses is an error naming the field, and nothing is
// stored; long content is split into several messages, sent in order.
func TestReplyContent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.ingest(h.text("psid-1", "m_1", "hi"))
		h.runSends()
		conv := h.conversationOf("psid-1")
		agent := Author{Type: SenderAgent, ID: "user-1"}
		_, err := h.svc.Reply(ctx, agent, h.ws, conv.ID, channel.Content{})
		var ce *channel.ContentError
		if !errors.As(err, &ce) || ce.Field != "text" {
			t.Errorf("empty reply: %v", err)
		}
		long := strings.Repeat("a", 30) + strings.Repeat("b", 30) + "c"
		ms, err := h.svc.Reply(ctx, agent, h.ws, conv.ID, channel.Content{Text: long})
		if err != nil || len(ms) != 3 {
			t.Fatalf("long reply = %+v, %v", ms, err)
		}
		jobs := h.queuedJobs(KindSend)
		if len(jobs) != 3 || jobs[0].Key != conv.ID || jobs[2].Key != conv.ID {
			t.Fatalf("jobs = %+v, want three keyed by the conversation", jobs)
		}
		h.runSends()
		calls := h.sender.sent()[1:]
		var got string
		for _, c := range calls {
			got += c.Content.Text
		}
		if got != long {
			t.Errorf("parts sent out of order: %q", got)
		}
		if _, err := h.svc.Reply(ctx, Author{Type: SenderContact}, h.ws, conv.ID, channel.Content{Text: "x"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("reply as the contact: %v", err)
		}
	})
}

// Transient failures and rate limits are retried with backoff (nothing
// reached the platform); permanent refusals are never retried.
func TestSendRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			h.ingest(h.text("psid-1", "m_1", "hi"))
			out := h.queuedJobs(KindSend)[0].Payload.ID
			h.sender.fail(&channel.SendError{Kind: channel.ErrTransient, Code: 1200, Message: "Temporary send message failure"},
				&channel.SendError{Kind: channel.ErrRateLimited, Code: 613, Message: "Calls to this API have exceeded the rate limit", RetryAfter: 30 * time.Second})
			if rs := h.runSends(); rs[0].action != retry || rs[0].after != 0 {
				t.Errorf("after a transient failure: %+v", rs[0])
			}
			if m := h.message(out); m.Status != StatusQueued || m.ErrorMessage == "" {
				t.Errorf("after a transient failure the message is %+v, want queued again", m)
			}
			if rs := h.runSends(); rs[0].action != retry || rs[0].after != 30*time.Second {
				t.Errorf("after a rate limit: %+v, want a retry in 30 s", rs[0])
			}
			if rs := h.runSends(); rs[0].action != done {
				t.Errorf("third run: %+v", rs[0])
			}
			if n := len(h.sender.sent()); n != 3 {
				t.Errorf("%d calls, want 3", n)
			}
			if m := h.message(out); m.Status != StatusSent || m.ErrorMessage != "" {
				t.Errorf("message = %+v", m)
			}

			// Out of attempts: failed, with the platform's words.
			h.ingest(h.text("psid-2", "m_2", "hi"))
			h.sender.fail(&channel.SendError{Kind: channel.ErrTransient, Code: 2, Message: "An unexpected error has occurred"})
			j := h.queuedJobs(KindSend)[0]
			if r := h.svc.deliver(context.Background(), j.Payload, true); r.action != done {
				t.Errorf("last attempt: %+v", r)
			}
			if m := h.message(j.Payload.ID); m.Status != StatusFailed || m.ErrorCode != CodeSendFailed || m.ErrorMessage != "An unexpected error has occurred" {
				t.Errorf("after the last attempt: %+v", m)
			}
			h.deleteJob(j.ID)

			for _, tc := range []struct {
				err  *channel.SendError
				code string
			}{
				{&channel.SendError{Kind: channel.ErrInvalid, Code: 100, Message: "(#100) Invalid parameter"}, "invalid"},
				{&channel.SendError{Kind: channel.ErrWindowClosed, Code: 10, Subcode: 2018278, Message: "This message is sent outside of allowed window."}, "window_closed"},
				{&channel.SendError{Kind: channel.ErrPermission, Code: 10, Message: "Requires pages_messaging permission"}, "permission"},
				{&channel.SendError{Kind: channel.ErrUnreachable, Code: 551, Subcode: 1545041, Message: "This person isn't available right now."}, "unreachable"},
			} {
				t.Run(tc.code, func(t *testing.T) {
					psid := "psid-" + tc.code
					h.ingest(h.text(psid, "m_"+tc.code, "hi"))
					calls := len(h.sender.sent())
					h.sender.fail(tc.err)
					rs := h.runSends()
					if len(rs) != 1 || rs[0].action != permanent {
						t.Fatalf("results = %+v, want a permanent failure", rs)
					}
					out := h.messages(h.conversationOf(psid).ID)[1]
					if out.Status != StatusFailed || out.ErrorCode != tc.code || out.ErrorMessage != tc.err.Message {
						t.Errorf("message = %+v", out)
					}
					if n := len(h.sender.sent()); n != calls+1 {
						t.Errorf("%d calls, want exactly one", n-calls)
					}
					if r := h.svc.deliver(context.Background(), idJob{WS: h.ws, ID: out.ID}, false); r.action != done || len(h.sender.sent()) != calls+1 {
						t.Error("a permanently failed message was tried again")
					}
				})
			}
			if h.conversationOf("psid-unreachable").UnreachableAt.IsZero() {
				t.Error("551 did not mark the person unreachable")
			}
			ch, _ := h.channels.Get(context.Background(), h.ws, h.ch.ID)
			if ch.LastError == "" || ch.TokenState != channel.TokenOK {
				t.Errorf("channel after a permission error: %+v", ch)
			}
		})
	})
}

// A send whose outcome is unknown is never sent again: it waits for its
// echo, and is failed "unknown_outcome" when none comes. A message found
// "sending" when its job starts (the worker died mid-call) is the same.
func TestUncertainSendsAreNeverResent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bothPaths(t, d, func(t *testing.T, h *harness) {
			uncertain := &channel.SendError{Kind: channel.ErrUncertain, Message: "timeout after the request was written"}

			// The echo resolves it.
			h.ingest(h.text("psid-1", "m_1", "hi"))
			out := h.queuedJobs(KindSend)[0].Payload.ID
			h.sender.fail(uncertain)
			if rs := h.runSends(); rs[0].action != retry || rs[0].after != echoCheck {
				t.Fatalf("after an uncertain send: %+v", rs[0])
			}
			if m := h.message(out); m.Status != StatusSending {
				t.Errorf("status = %s, want sending", m.Status)
			}
			h.clock.Advance(echoCheck)
			if rs := h.runSends(); rs[0].action != retry {
				t.Errorf("second check: %+v", rs[0])
			}
			h.ingest(h.echo("psid-1", "m_late", ourApp, out, h.ch.AutoReply))
			if rs := h.runSends(); rs[0].action != done {
				t.Errorf("after the echo: %+v", rs[0])
			}
			if m := h.message(out); m.Status != StatusSent || m.ExternalID != "m_late" {
				t.Errorf("after the echo: %+v", m)
			}
			if n := len(h.sender.sent()); n != 1 {
				t.Errorf("%d calls, want 1", n)
			}

			// No echo: given up after echoWait, never resent.
			h.ingest(h.text("psid-2", "m_2", "hi"))
			out2 := h.queuedJobs(KindSend)[0].Payload.ID
			h.sender.fail(uncertain)
			h.runSends()
			for range 3 {
				h.clock.Advance(echoCheck)
				h.runSends()
			}
			if m := h.message(out2); m.Status != StatusFailed || m.ErrorCode != CodeUnknownOutcome {
				t.Errorf("without an echo: %+v", m)
			}
			if len(h.queuedJobs(KindSend)) != 0 {
				t.Error("the job is still queued")
			}
			// A late echo still proves it went out.
			h.ingest(h.echo("psid-2", "m_later", ourApp, out2, h.ch.AutoReply))
			if m := h.message(out2); m.Status != StatusSent || m.ErrorCode != "" {
				t.Errorf("after a late echo: %+v", m)
			}

			// A worker that died mid-call left the message "sending".
			h.ingest(h.text("psid-3", "m_3", "hi"))
			j := h.queuedJobs(KindSend)[0]
			if _, err := d.W.NewRaw(`UPDATE messages SET status = 'sending', updated_at = ? WHERE id = ?`, h.clock.Now(), j.Payload.ID).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			if r := h.svc.deliver(context.Background(), j.Payload, false); r.action != retry {
				t.Errorf("found sending: %+v", r)
			}
			if r := h.svc.deliver(context.Background(), j.Payload, true); r.action != done {
				t.Errorf("found sending on the last attempt: %+v", r)
			}
			if m := h.message(j.Payload.ID); m.Status != StatusFailed || m.ErrorCode != CodeUnknownOutcome {
				t.Errorf("message = %+v", m)
			}
			if n := len(h.sender.sent()); n != 2 {
				t.Errorf("%d calls, want 2: nothing is sent twice", n)
			}
		})
	})
}

// Graph error 190: the channel needs reconnecting, the message fails, and
// nothing more is sent until it is reconnected.
func TestTokenErrorMarksTheChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.ingest(h.text("psid-1", "m_1", "hi"), h.text("psid-2", "m_2", "hi"))
		jobs := h.queuedJobs(KindSend)
		h.sender.fail(&channel.SendError{Kind: channel.ErrTokenInvalid, Code: 190, Message: "Error validating access token"})
		rs := h.runSends()
		if len(rs) != 2 || rs[0].action != done || rs[1].action != done {
			t.Fatalf("results = %+v", rs)
		}
		ch, err := h.channels.Get(ctx, h.ws, h.ch.ID)
		if err != nil || ch.TokenState != channel.TokenNeedsReconnect || ch.LastError != "Error validating access token" {
			t.Errorf("channel = %+v, %v", ch, err)
		}
		for _, j := range jobs {
			if m := h.message(j.Payload.ID); m.Status != StatusFailed || m.ErrorCode != CodeNeedsReconnect {
				t.Errorf("message = %+v", m)
			}
		}
		if n := len(h.sender.sent()); n != 1 {
			t.Errorf("%d calls, want 1: the second message must not be tried with a dead token", n)
		}
		_, err = h.svc.Reply(ctx, Author{Type: SenderAgent, ID: "u"}, h.ws, h.conversationOf("psid-1").ID, channel.Content{Text: "hi"})
		if pe := policyErr(err); pe == nil || pe.Decision.Reason != channel.ReasonNeedsReconnect {
			t.Errorf("reply on a channel that needs reconnecting: %v", err)
		}
		// Automatic replies are refused quietly: the inbound message is kept.
		h.ch = ch
		if eff := h.ingest(h.text("psid-1", "m_3", "anyone?")); eff.Sends != 0 {
			t.Errorf("effects = %+v", eff)
		}
		if n := len(h.messages(h.conversationOf("psid-1").ID)); n != 3 {
			t.Errorf("%d messages, want 3", n)
		}
	})
}

// Promises P-15 and P-30: message bodies (both directions), names and job
// payloads never appear in clear in a database dump.
func TestBodiesAreSealed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.profiles.profile = channel.Profile{FirstName: "Canaryfirst", LastName: "Canarylast", PictureURL: "https://cdn.example/canarypic.jpg"}
		ctx := context.Background()
		var err error
		h.ch, err = h.channels.Configure(ctx, auditActor, h.ws, h.ch.ID, "", channel.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		h.ingest(h.text("psid-1", "m_1", "my secret is canary-inbound-7731"))
		h.runProfiles(false)
		conv := h.conversationOf("psid-1")
		if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, ID: "u"}, h.ws, conv.ID, channel.Content{Text: "noted canary-outbound-9918",
			QuickReplies: []channel.QuickReply{{Title: "ok", Payload: "canary-payload-5521"}}}); err != nil {
			t.Fatal(err)
		}
		h.runSends()
		dump := dbtest.DumpText(t, d)
		for _, secret := range []string{"canary-inbound-7731", "canary-outbound-9918", "canary-payload-5521", "Canaryfirst", "Canarylast", "canarypic"} {
			if strings.Contains(strings.ToLower(dump), strings.ToLower(secret)) {
				t.Errorf("%q is readable in a database dump", secret)
			}
		}
		// And they open for the workspace.
		ms := h.messages(conv.ID)
		if ms[0].Content.Text != "my secret is canary-inbound-7731" || ms[1].Content.QuickReplies[0].Payload != "canary-payload-5521" {
			t.Errorf("messages = %+v", ms)
		}
	})
}

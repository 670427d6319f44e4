package inbox

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promises P-34, P-40 (with P-37's hold): automated messages already
// queued when the contact is restricted (or objects, withdraws consent,
// is found a minor) are not sent: the kill switch held a backlog of flow
// replies, the contact withdrew consent meanwhile, and the resume fails
// them "contact_restricted" without a Send API call. Another contact's
// replies and a person's reply still go; a check that fails is retried,
// leaving the message queued.
func TestQueuedAutomatedMessagesStopForRestrictedContacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		blocked := map[string]bool{}
		var checkErr error
		// A gate that refuses everyone for a blocked contact: the send
		// path must not ask it about a person's reply.
		h.svc.opt.Automation = func(_ context.Context, _ bun.IDB, _, contactID string, _ SenderType) error {
			if checkErr != nil {
				return checkErr
			}
			if blocked[contactID] {
				return fmt.Errorf("%w (consent_withdrawn)", ErrRestricted)
			}
			return nil
		}
		// psid-3's conversation is a person's, its automatic reply sent.
		conv3 := h.newConv("psid-3")
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv3.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		h.runSends()
		before := len(h.sender.sent())

		paused := h.holdSends()
		paused.Store(true)
		h.ingest(h.text("psid-1", "m_1", "one"), h.text("psid-1", "m_2", "two"))
		h.ingest(h.text("psid-2", "m_3", "three"))
		agent, err := h.svc.Reply(ctx, Author{Type: SenderAgent, ID: "user-1", Actor: auditActor}, h.ws, conv3.ID, channel.Content{Text: "I'm here"})
		if err != nil || len(agent) != 1 {
			t.Fatalf("agent reply: %v %+v", err, agent)
		}
		jobs := h.queuedJobs(KindSend)
		if len(jobs) != 4 {
			t.Fatalf("%d send jobs, want 4", len(jobs))
		}
		h.runHeld(t)

		// Consent withdrawn while the replies wait.
		blocked[h.conversationOf("psid-1").ContactID] = true
		blocked[conv3.ContactID] = true
		paused.Store(false)

		// The check fails: retried, still queued, nothing sent.
		checkErr = errors.New("database is locked")
		if r := h.svc.deliver(ctx, jobs[0].Payload, false); r.action != retry || !errors.Is(r.err, checkErr) {
			t.Fatalf("send with a failing check = %+v, want a retry", r)
		}
		if m := h.message(jobs[0].Payload.ID); m.Status != StatusQueued {
			t.Fatalf("message %s after a failed check, want queued", m.Status)
		}
		checkErr = nil

		for _, r := range h.runSends() {
			if r.action != done {
				t.Fatalf("result %+v, want done", r)
			}
		}
		var sent []string
		for _, c := range h.sender.sent()[before:] {
			sent = append(sent, c.Metadata)
		}
		if want := []string{jobs[2].Payload.ID, agent[0].ID}; fmt.Sprint(sent) != fmt.Sprint(want) {
			t.Errorf("sent %v, want psid-2's reply and the person's %v", sent, want)
		}
		for _, j := range jobs[:2] {
			m := h.message(j.Payload.ID)
			if m.Status != StatusFailed || m.ErrorCode != CodeRestricted || m.ErrorMessage != restrictedMessage {
				t.Errorf("restricted contact's reply = %s %q %q, want failed %s", m.Status, m.ErrorCode, m.ErrorMessage, CodeRestricted)
			}
		}
	})
}

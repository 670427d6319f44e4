package inbox

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// direct switches the harness's service to the direct path (Options.Direct)
// and stops it when the test ends.
func (h *harness) direct() {
	opt := h.svc.opt
	opt.Direct = true
	h.svc = New(h.d, h.kr, opt)
	if err := h.svc.Prepare(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	if err := h.svc.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	svc := h.svc
	h.t.Cleanup(func() { svc.Stop(context.Background()) })
}

// settle waits until the direct path holds nothing (results may still be
// on their way to the database: waitSent waits for those).
func (h *harness) settle() {
	h.t.Helper()
	d := h.svc.dir
	waitFor(h.t.(*testing.T), "the direct path to drain", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.lines) == 0 && d.held == 0
	})
}

// waitSent waits until the message is stored as sent.
func (h *harness) waitSent(id string) {
	h.t.Helper()
	waitFor(h.t.(*testing.T), "message "+id+" to be stored as sent", func() bool { return h.message(id).Status == StatusSent })
}

// stopDirect stops the direct path.
func (h *harness) stopDirect() {
	h.t.Helper()
	if err := h.svc.Stop(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// Promise P-16: on the direct path a reply leaves as soon as the
// transaction that stored it commits — no job — once, in order within
// its conversation, and its platform ID is stored.
func TestDirectSendsWithoutAJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.direct()
		eff := h.ingest(h.text("psid-1", "m_1", "one"), h.text("psid-1", "m_2", "two"), h.text("psid-1", "m_3", "three"))
		if eff.Sends != 0 || len(eff.direct) != 3 {
			t.Fatalf("effects = %+v", eff)
		}
		ids := []string{eff.direct[0].msg.ID, eff.direct[1].msg.ID, eff.direct[2].msg.ID}
		if n := len(h.sender.sent()); n != 0 {
			t.Fatalf("%d sends before the transaction's effects were started", n)
		}
		h.svc.Notify(eff)
		h.settle()
		calls := h.sender.sent()
		if len(calls) != 3 {
			t.Fatalf("%d sends, want 3", len(calls))
		}
		for i, c := range calls {
			if c.Metadata != ids[i] || c.To != "psid-1" || c.MessagingType != channel.MessagingResponse {
				t.Errorf("send %d = %+v, want message %s", i, c, ids[i])
			}
			h.waitSent(ids[i])
			if m := h.message(ids[i]); m.ExternalID == "" {
				t.Errorf("message %d after sending: status %s, platform ID %q", i, m.Status, m.ExternalID)
			}
		}
		if jobs := h.queuedJobs(KindSend); len(jobs) != 0 {
			t.Errorf("send jobs = %+v, want none", jobs)
		}
	})
}

// A retryable failure hands the reply to the job path, and the rest of
// its conversation's line follows it there, so a later reply cannot
// overtake the retried one; each is sent exactly once in the end.
func TestDirectHandsFailuresToTheQueueInOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.direct()
		h.sender.fail(&channel.SendError{Kind: channel.ErrTransient, Message: "Meta is having a moment"})
		eff := h.ingest(h.text("psid-1", "m_1", "one"), h.text("psid-1", "m_2", "two"))
		first, second := eff.direct[0].msg.ID, eff.direct[1].msg.ID
		h.svc.Notify(eff)
		h.settle()
		jobs := h.queuedJobs(KindSend)
		if len(jobs) != 2 || jobs[0].Payload.ID != first || jobs[1].Payload.ID != second ||
			jobs[0].Key != eff.direct[0].conv.ID || jobs[0].UniqueKey != sendUnique(first) {
			t.Fatalf("jobs = %+v", jobs)
		}
		if m := h.message(first); m.Status != StatusQueued {
			t.Fatalf("failed message is %s, want queued for its retry", m.Status)
		}
		h.runSends()
		calls := h.sender.sent()
		if len(calls) != 3 || calls[0].Metadata != first || calls[1].Metadata != first || calls[2].Metadata != second {
			t.Fatalf("sends = %+v", calls)
		}
		for _, id := range []string{first, second} {
			if m := h.message(id); m.Status != StatusSent {
				t.Errorf("message %s is %s", id, m.Status)
			}
		}
	})
}

// A reply to a conversation that has a send job waiting goes behind it on
// the job path.
func TestDirectQueuesBehindAWaitingJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.ingest(h.text("psid-1", "m_1", "one")) // job path: the harness is not direct yet
		h.direct()
		eff := h.ingest(h.text("psid-1", "m_2", "two"))
		if eff.Sends != 1 || len(eff.direct) != 0 {
			t.Fatalf("effects = %+v, want the reply queued as a job", eff)
		}
		if jobs := h.queuedJobs(KindSend); len(jobs) != 2 || jobs[0].Key != jobs[1].Key {
			t.Fatalf("jobs = %+v", jobs)
		}
	})
}

// A reply whose process died before sending it (stored, never started) is
// found by the sweep once it is old enough and given one job however
// often the sweep runs; the direct path, should it still hold the reply,
// finds it claimed and does not send it again.
func TestSweepRescuesStrandedReplies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.direct()
		ctx := context.Background()
		eff := h.ingest(h.text("psid-1", "m_1", "hi")) // and the process "dies": no Notify
		id := eff.direct[0].msg.ID
		if err := h.svc.sweep(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if jobs := h.queuedJobs(KindSend); len(jobs) != 0 {
			t.Fatalf("a fresh reply was swept: %+v", jobs)
		}
		h.clock.Advance(sweepAfter + time.Second)
		for range 2 {
			if err := h.svc.sweep(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		jobs := h.queuedJobs(KindSend)
		if len(jobs) != 1 || jobs[0].Payload.ID != id || jobs[0].UniqueKey != sendUnique(id) {
			t.Fatalf("jobs after two sweeps = %+v", jobs)
		}
		h.runSends()
		h.svc.Notify(eff) // the direct path wakes up late
		h.settle()
		if calls := h.sender.sent(); len(calls) != 1 || calls[0].Metadata != id {
			t.Fatalf("sends = %+v, want exactly one", calls)
		}
		if m := h.message(id); m.Status != StatusSent {
			t.Errorf("message is %s", m.Status)
		}
	})
}

// Start gives a job at once to every reply a stopped or dead process left
// queued or sending, however fresh, and only then opens the direct path.
func TestStartSweepsWhatWasLeft(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.direct()
		eff := h.ingest(h.text("psid-1", "m_1", "hi")) // never started: the process "died"
		h.direct()                                     // the next process
		jobs := h.queuedJobs(KindSend)
		if len(jobs) != 1 || jobs[0].Payload.ID != eff.direct[0].msg.ID {
			t.Fatalf("jobs after start = %+v", jobs)
		}
	})
}

// Before Start every reply is a job.
func TestDirectWaitsForStart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		opt := h.svc.opt
		opt.Direct = true
		h.svc = New(h.d, h.kr, opt)
		if eff := h.ingest(h.text("psid-1", "m_1", "hi")); eff.Sends != 1 || len(eff.direct) != 0 {
			t.Fatalf("effects before start = %+v", eff)
		}
	})
}

// Stopping hands what the direct path holds to the job path instead of
// dropping it, lets the send in flight finish and store its answer, and
// queues what comes afterwards as jobs.
func TestDirectStopHandsOverWhatItHolds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.direct()
		release := make(chan struct{})
		h.sender.during = func(channel.Outbound, string) { <-release }
		eff := h.ingest(h.text("psid-1", "m_1", "one"), h.text("psid-1", "m_2", "two"))
		first, second := eff.direct[0].msg.ID, eff.direct[1].msg.ID
		h.svc.Notify(eff)
		waitFor(t, "the first send to reach the platform", func() bool { return len(h.sender.sent()) == 1 })
		stopped := make(chan error, 1)
		go func() { stopped <- h.svc.Stop(context.Background()) }()
		waitFor(t, "the held reply to become a job", func() bool { return len(h.queuedJobs(KindSend)) == 1 })
		close(release)
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if jobs := h.queuedJobs(KindSend); jobs[0].Payload.ID != second || jobs[0].Key != eff.direct[1].conv.ID {
			t.Fatalf("jobs = %+v, want the second reply's", jobs)
		}
		if m := h.message(first); m.Status != StatusSent {
			t.Errorf("the reply in flight ended %s, want sent", m.Status)
		}
		// A reply stored after the stop is a job from the start.
		late := h.ingest(h.text("psid-2", "m_3", "three"))
		if late.Sends != 1 || len(late.direct) != 0 {
			t.Fatalf("effects after the stop = %+v, want one send job", late)
		}
		h.svc.Notify(late)
		if n := len(h.sender.sent()); n != 1 {
			t.Fatalf("%d sends, want only the one in flight at the stop", n)
		}
	})
}

// Busy is what routes a reply behind an unfinished job of its
// conversation.
func TestQueueBusy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		busy, err := h.sends.Busy(ctx, d.W, "conv-x")
		if err != nil || busy {
			t.Fatalf("empty key: busy %v, err %v", busy, err)
		}
		if _, err := h.sends.Enqueue(ctx, d.W, KindSend, idJob{WS: h.ws, ID: "m"}, job.Key("conv-x")); err != nil {
			t.Fatal(err)
		}
		if busy, err := h.sends.Busy(ctx, d.W, "conv-x"); err != nil || !busy {
			t.Fatalf("key with a job: busy %v, err %v", busy, err)
		}
	})
}

// The sweep pages past a job-path backlog bigger than one page, which it
// leaves alone, to the stranded reply behind it; and Start does not loop
// on such a backlog.
func TestSweepPagesPastTheBacklog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		var backlog []channel.Inbound
		for i := range sweepBatch + 20 {
			backlog = append(backlog, h.text(fmt.Sprintf("psid-%d", i), fmt.Sprintf("m_%d", i), "hi"))
		}
		if eff := h.ingest(backlog...); eff.Sends != sweepBatch+20 {
			t.Fatalf("backlog effects = %+v", eff)
		}
		h.direct()
		eff := h.ingest(h.text("psid-last", "m_last", "hi")) // stranded: never Notified
		h.clock.Advance(sweepAfter + time.Second)
		if err := h.svc.sweep(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		jobs := h.queuedJobs(KindSend)
		if len(jobs) != sweepBatch+21 || jobs[len(jobs)-1].Payload.ID != eff.direct[0].msg.ID {
			t.Fatalf("%d send jobs after the sweep, last %+v; want %d ending with the stranded reply", len(jobs), jobs[len(jobs)-1], sweepBatch+21)
		}
		h.direct() // a restart sweeps everything again: one job each still
		if n := len(h.queuedJobs(KindSend)); n != sweepBatch+21 {
			t.Fatalf("%d send jobs after a restart", n)
		}
	})
}

// Promise P-24 on the direct path: an automated reply queued a moment
// before a person took the conversation over is not claimed for sending
// but failed as silenced, exactly as the job path's deliver does; an
// agent's reply queued the same way is still claimed.
func TestDirectClaimRechecksTakeover(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.ingest(h.text("psid-1", "m_1", "hello")) // the automatic reply is queued (job path)
		conv := h.conversationOf("psid-1")
		var auto Message
		for _, m := range h.messages(conv.ID) {
			if m.SenderType == SenderFlow {
				auto = m
			}
		}
		if auto.ID == "" || auto.Status != StatusQueued {
			t.Fatalf("no queued automatic reply: %+v", auto)
		}
		h.clock.Advance(time.Second)
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		agentMsgs, err := h.svc.Reply(ctx, Author{Type: SenderAgent, ID: "user-1", Actor: auditActor}, h.ws, conv.ID, channel.Content{Text: "I'm here"})
		if err != nil {
			t.Fatal(err)
		}
		claims := []*claim{
			{id: auto.ID, at: h.clock.Now(), done: make(chan error, 1)},
			{id: agentMsgs[0].ID, at: h.clock.Now(), done: make(chan error, 1)},
		}
		if err := h.svc.claimBatch(ctx, claims); err != nil {
			t.Fatal(err)
		}
		if err := <-claims[0].done; !errors.Is(err, errNotClaimed) {
			t.Errorf("automatic reply after a takeover: claim = %v, want not claimed", err)
		}
		if err := <-claims[1].done; err != nil {
			t.Errorf("agent's reply: claim = %v", err)
		}
		for _, m := range h.messages(conv.ID) {
			switch m.ID {
			case auto.ID:
				if m.Status != StatusFailed || m.ErrorCode != CodeHumanOwned {
					t.Errorf("silenced reply stored as %s/%s", m.Status, m.ErrorCode)
				}
			case agentMsgs[0].ID:
				if m.Status != StatusSending {
					t.Errorf("agent's reply stored as %s", m.Status)
				}
			}
		}
	})
}

// An echo stores all a send's answer would (platform ID, sent), and comes
// within moments: a reply whose echo was applied before its answer was
// written is not written again — one write saved per reply — and still
// ends sent, with its platform ID, and the dashboard is told. Without
// an echo the answer is written.
func TestEchoSavesTheResultWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, echo := range []bool{true, false} {
			t.Run(fmt.Sprintf("echo=%v", echo), func(t *testing.T) {
				h := newHarness(t, d)
				h.direct()
				if echo {
					h.sender.during = func(m channel.Outbound, mid string) {
						eff, err := h.ingestOn(h.ch, h.echo("psid-9", mid, ourApp, m.Metadata, m.Content.Text))
						if err != nil {
							t.Error(err)
						}
						h.svc.Notify(eff)
					}
				}
				eff := h.ingest(h.text("psid-9", "m_9", "hello"))
				if len(eff.direct) != 1 {
					t.Fatalf("effects = %+v", eff)
				}
				id := eff.direct[0].msg.ID
				var told []Change
				h.svc.opt.Changed = func(_ context.Context, c Change) { told = append(told, c) }
				h.svc.Notify(eff)
				h.settle()
				dir := h.svc.dir
				h.stopDirect() // writes what waits
				m := h.message(id)
				if m.Status != StatusSent || m.ExternalID != "m_out_1" {
					t.Errorf("reply = %s %q, want sent with its platform ID", m.Status, m.ExternalID)
				}
				want := int64(1)
				if echo {
					want = 0
				}
				if n := dir.resultsStored.Load(); n != want {
					t.Errorf("%d answers written, want %d", n, want)
				}
				// An echo of a message the direct path is not waiting for
				// (settled already, or sent by a job) leaves nothing behind.
				dir.echoed([]string{id, "another-message"})
				if len(dir.unsettled) != 0 {
					t.Errorf("still unsettled: %v", dir.unsettled)
				}
				if len(told) == 0 {
					t.Error("the dashboard was not told the reply was sent")
				}
			})
		}
	})
}

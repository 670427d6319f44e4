package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
)

// How long a send whose outcome is unknown waits for its echo before it is
// given up as failed "unknown_outcome", and how often it looks. Meta sends
// echoes within seconds; a minute is generous.
const (
	echoWait  = time.Minute
	echoCheck = 20 * time.Second
)

// action is what the queue should do with a send job.
type action int

const (
	done      action = iota // finished: delete the job
	retry                   // run again after after (0: the kind's backoff)
	permanent               // dead-letter it: retrying cannot help
	snooze                  // held back (kill switch): run again after after, attempt not counted
)

// result is the outcome of one run of a send job.
type result struct {
	action action
	after  time.Duration
	err    error
}

func finished() result { return result{action: done} }
func again(after time.Duration, err error) result {
	return result{action: retry, after: after, err: err}
}
func giveUp(err error) result { return result{action: permanent, err: err} }

// handleSend runs an "inbox.send" job.
func (s *Service) handleSend(ctx context.Context, j *job.Job) error {
	var p idJob
	if err := j.Decode(&p); err != nil {
		return err
	}
	r := s.deliver(ctx, p, j.Attempts >= sendMaxAttempts)
	switch r.action {
	case retry:
		if r.err == nil {
			r.err = errors.New("inbox: send: retry")
		}
		if r.after > 0 {
			return job.RetryAfter(r.after, r.err)
		}
		return r.err
	case permanent:
		return job.Permanent(r.err)
	case snooze:
		return job.Snooze(r.after, r.err)
	default:
		return nil
	}
}

// outgoing is a message about to be sent, with what the send needs.
type outgoing struct {
	msgRow
	To            string
	LastInboundAt *time.Time
	UnreachableAt *time.Time
	Owner         string     // the conversation's owner now, not when queued
	HumanAt       *time.Time // when a person last took over or wrote
}

func (o *outgoing) dest() []any {
	return append(o.msgRow.dest(), &o.To, &o.LastInboundAt, &o.UnreachableAt, &o.Owner, &o.HumanAt)
}

// automatedSender reports whether t is automation (flows, the AI agent,
// broadcasts, integrations): what a person's takeover silences.
func automatedSender(t SenderType) bool {
	return t == SenderFlow || t == SenderAI || t == SenderBroadcast || t == SenderIntegration
}

// The statements of the send path, prepared by Prepare.
const (
	sqlLoadOutgoing = `SELECT m.id, m.workspace_id, m.channel_id, m.conversation_id, m.contact_id, m.direction, m.kind, m.body,
		m.sender_type, m.sender_id, m.external_id, m.reply_to, m.status, m.messaging_type, m.tag, m.error_code, m.error_message,
		m.platform_at, m.sent_at, m.delivered_at, m.read_at, m.created_at, m.updated_at,
		coalesce(CASE WHEN c.channel_id = m.channel_id THEN c.external_id ELSE (SELECT i.external_id FROM contact_identities i
			WHERE i.workspace_id = m.workspace_id AND i.contact_id = m.contact_id AND i.channel_id = m.channel_id) END, ''),
		v.last_inbound_at, v.unreachable_at, v.owner, v.human_at
		FROM messages m JOIN conversations v ON v.id = m.conversation_id JOIN contacts c ON c.id = m.contact_id
		WHERE m.workspace_id = ? AND m.id = ?`
	// Commit "sending" before calling the platform: a run that finds it so
	// knows a call may have gone out.
	sqlMarkSending = `UPDATE messages SET status = 'sending', messaging_type = ?, tag = ?, updated_at = ? WHERE id = ? AND status = 'queued'`
	// The echo may have been first: the status only moves forward, and a
	// message its echo already settled is not written again.
	// The platform ID is set unless another row has it already (an echo
	// misfiled as someone else's), which would break the unique index.
	sqlSent = `UPDATE messages SET external_id = CASE
			WHEN external_id IS NULL AND NOT EXISTS (SELECT 1 FROM messages WHERE channel_id = ? AND external_id = ?) THEN ?
			ELSE external_id END,
		error_code = CASE WHEN status IN ('queued','sending','failed') THEN '' ELSE error_code END,
		error_message = CASE WHEN status IN ('queued','sending','failed') THEN '' ELSE error_message END,
		sent_at = COALESCE(sent_at, ?), updated_at = ?,
		` + becomesSent + `
		WHERE id = ? AND (external_id IS NULL OR status IN ('queued','sending','failed'))`
	sqlRequeue = `UPDATE messages SET status = 'queued', error_message = ?, updated_at = ? WHERE id = ? AND status = 'sending'`
	sqlFail    = `UPDATE messages SET status = 'failed', error_code = ?, error_message = ?, updated_at = ?
		WHERE id = ? AND status IN ('queued','sending')`
	// An automated message a takeover stopped: only while still queued (a
	// message another worker is sending is not touched).
	sqlFailSilenced = `UPDATE messages SET status = 'failed', error_code = ?, error_message = ?, updated_at = ?
		WHERE id = ? AND status = 'queued' AND sender_type IN ('flow','ai','broadcast','integration')`

	// silencedCond holds for an automated message written before a person
	// took its conversation over (the check deliver makes, in SQL): the
	// direct path claims with it, so a takeover committed in the
	// milliseconds between queueing and sending still stops the message.
	silencedCond = `sender_type IN ('flow','ai','broadcast','integration') AND EXISTS (SELECT 1 FROM conversations c
		WHERE c.id = messages.conversation_id AND c.owner = 'human' AND c.human_at > messages.created_at)`
	sqlClaimDirect = `UPDATE messages SET status = 'sending', messaging_type = ?, tag = ?, updated_at = ?
		WHERE id = ? AND status = 'queued' AND NOT (` + silencedCond + `)`
	sqlSilenceDirect = `UPDATE messages SET status = 'failed', error_code = ?, error_message = ?, updated_at = ?
		WHERE id = ? AND status = 'queued' AND ` + silencedCond
)

// silencedMessage is what a silenced automated message says about itself.
const silencedMessage = "A person took this conversation over, so the automatic message was not sent."

// deliver sends one queued message, at most once. last is true on the
// job's final attempt, when nothing may be left in between.
func (s *Service) deliver(ctx context.Context, p idJob, last bool) result {
	var o outgoing
	err := s.st.Row(ctx, s.d.R, o.dest(), sqlLoadOutgoing, p.WS, p.ID)
	if errors.Is(db.NoRows(err), db.ErrNotFound) {
		return finished() // erased with its conversation or contact
	}
	if err != nil {
		return again(0, fmt.Errorf("inbox: send: load message: %w", err))
	}
	switch MessageStatus(o.Status) {
	case StatusQueued:
	case StatusSending:
		// A previous run called the platform and never learnt the outcome
		// (its worker died, or the answer was lost): never send again.
		return s.awaitEcho(ctx, &o, last)
	case StatusReceived:
		return giveUp(fmt.Errorf("inbox: send: message %s is inbound", o.ID))
	default:
		return finished() // sent (maybe the echo came first), delivered, read or failed
	}

	// The operator's kill switch (P-37, security.md P-2): while outbound
	// is paused for the workspace nothing reaches the platform. The job
	// keeps the head of its conversation's line without using up its
	// attempts, so the replies behind it stay behind it; once resumed, the
	// checks below run as for any send, so a message whose messaging
	// window closed meanwhile fails with the policy's reason instead of
	// going out late.
	if s.opt.SendHold != nil && s.opt.SendHold(p.WS) {
		return heldBack(s.now().Sub(o.CreatedAt))
	}
	ch, err := s.opt.Channels.Get(ctx, p.WS, o.ChannelID)
	if errors.Is(err, db.ErrNotFound) {
		return finished()
	}
	if err != nil {
		return again(0, fmt.Errorf("inbox: send: %w", err))
	}
	sender := s.opt.Senders[ch.Type]
	if sender == nil {
		return s.fail(ctx, &o, CodeUnsupported, "Parley cannot send on this kind of channel.", nil)
	}
	token, err := s.opt.Channels.Token(ctx, ch)
	if errors.Is(err, channel.ErrNoToken) {
		return s.fail(ctx, &o, CodeNeedsReconnect, "The channel needs to be reconnected.", nil)
	}
	if err != nil {
		return again(0, fmt.Errorf("inbox: send: %w", err))
	}
	// A person may have taken the conversation over (or written) while an
	// automated message waited in the queue: it is not sent (P-24). What
	// automation queued together with its own handoff still goes: it was
	// written at the handoff, not before it.
	if automatedSender(SenderType(o.SenderType)) && Owner(o.Owner) == OwnerHuman && tm(o.HumanAt).After(o.CreatedAt) {
		return s.silence(ctx, &o)
	}
	// The contact may have been restricted, objected, withdrawn consent or
	// been found a minor while the message waited (a kill switch pause
	// holds a backlog for hours): queue's check is made again, and what
	// it refuses now is not sent (P-34, P-40).
	if r, stop := s.restricted(ctx, &o); stop {
		return r
	}
	// The window may have closed while the message waited in the queue.
	now := s.now()
	conv := Conversation{LastInboundAt: tm(o.LastInboundAt), UnreachableAt: tm(o.UnreachableAt)}
	dec := channel.Decide(facts(ch, conv, SenderType(o.SenderType) == SenderAgent, "", now))
	if !dec.Allowed {
		return s.fail(ctx, &o, dec.Reason, dec.Explanation, nil)
	}
	m, err := s.open(ctx, &o.msgRow)
	if err != nil {
		return again(0, fmt.Errorf("inbox: send: %w", err))
	}
	err = db.OneRow(s.st.Exec(ctx, s.d.W, sqlMarkSending, dec.MessagingType, dec.Tag, now, o.ID))
	if errors.Is(err, db.ErrNotFound) {
		return finished() // moved on meanwhile
	}
	if err != nil {
		return again(0, fmt.Errorf("inbox: send: mark sending: %w", err))
	}
	o.UpdatedAt = now // the wait for an echo counts from here
	res, err := sender.Send(ctx, ch, token, channel.Outbound{
		To: o.To, Content: m.Content, MessagingType: dec.MessagingType, Tag: dec.Tag, Metadata: o.ID,
	})
	if err == nil {
		return s.sent(ctx, &o, res.MID)
	}
	var se *channel.SendError
	if !errors.As(err, &se) {
		// Senders classify every failure; anything else may have reached
		// the platform, so it is treated as uncertain.
		se = &channel.SendError{Kind: channel.ErrUncertain, Message: "unclassified send failure"}
	}
	return s.failed(ctx, &o, ch, se, last)
}

// errHeldBack is why a held send waits (the job's last error).
var errHeldBack = errors.New("inbox: send: outbound sending is paused by the operator's kill switch")

// Held sends look again after holdMin at first, then less often the longer
// they have waited (a quarter of their age), at most holdMax apart: an
// incident that lasts hours does not keep the queue busy with thousands of
// held conversations, and a short one resumes within seconds.
const (
	holdMin = 2 * time.Second
	holdMax = 30 * time.Second
)

// heldBack is the result of a send held back for age so far.
func heldBack(age time.Duration) result {
	return result{action: snooze, after: min(max(age/4, holdMin), holdMax), err: errHeldBack}
}

// silence ends an automated message a person's takeover stopped: failed
// "human_owned" if it is still queued, nothing otherwise (it moved on).
func (s *Service) silence(ctx context.Context, o *outgoing) result {
	if _, err := s.st.Exec(ctx, s.d.W, sqlFailSilenced, CodeHumanOwned, silencedMessage, s.now(), o.ID); err != nil {
		return again(0, fmt.Errorf("inbox: send: silence: %w", err))
	}
	s.changed(ctx, Change{Kind: ChangeMessage, WorkspaceID: o.WorkspaceID, ConversationID: o.ConversationID, ContactID: o.ContactID})
	return finished()
}

// restrictedMessage is what a message the contact's privacy settings
// stopped in the queue says about itself.
const restrictedMessage = "The contact's privacy settings stop automated messages, so this message was not sent."

// restricted asks Options.Automation again, at send time, about an
// automated message: stop is true when the send must not go on, with the
// result to return (the message failed CodeRestricted, or a retry when
// the check itself failed).
func (s *Service) restricted(ctx context.Context, o *outgoing) (r result, stop bool) {
	sender := SenderType(o.SenderType)
	if s.opt.Automation == nil || !automatedSender(sender) {
		return result{}, false
	}
	err := s.opt.Automation(ctx, s.d.R, o.WorkspaceID, o.ContactID, sender)
	switch {
	case err == nil:
		return result{}, false
	case errors.Is(err, ErrRestricted):
		return s.fail(ctx, o, CodeRestricted, restrictedMessage, nil), true
	default:
		return again(0, fmt.Errorf("inbox: send: %w", err)), true
	}
}

// sent stores the platform's ID of a sent message. The echo may have been
// first: the status only moves forward.
func (s *Service) sent(ctx context.Context, o *outgoing, mid string) result {
	now := s.now()
	_, err := s.st.Exec(ctx, s.d.W, sqlSent, o.ChannelID, mid, nullable(mid), now, now, o.ID)
	if err != nil {
		// The message went out; the next run finds it "sending" and waits
		// for its echo instead of sending it again.
		return again(0, fmt.Errorf("inbox: send: store result: %w", err))
	}
	s.changed(ctx, o.change())
	return finished()
}

// failed handles a send the platform refused or did not answer.
func (s *Service) failed(ctx context.Context, o *outgoing, ch channel.Channel, se *channel.SendError, last bool) result {
	switch {
	case se.Retryable():
		if last {
			return s.fail(ctx, o, CodeSendFailed, se.Message, nil)
		}
		// Nothing reached the platform: back to queued, so that the next
		// run sends it. Should this update fail, the next run finds it
		// "sending" and never sends: the safe side.
		if _, err := s.st.Exec(ctx, s.d.W, sqlRequeue, clip(se.Message), s.now(), o.ID); err != nil {
			return again(0, fmt.Errorf("inbox: send: requeue: %w", err))
		}
		return again(se.RetryAfter, fmt.Errorf("inbox: send: %w", se))
	case se.Kind == channel.ErrUncertain:
		return s.awaitEcho(ctx, o, last)
	case se.Kind == channel.ErrTokenInvalid:
		if err := s.opt.Channels.MarkNeedsReconnect(ctx, ch.WorkspaceID, ch.ID, se.Message); err != nil {
			return again(0, fmt.Errorf("inbox: send: %w", err))
		}
		return s.fail(ctx, o, CodeNeedsReconnect, se.Message, nil)
	case se.Kind == channel.ErrUnreachable:
		now := s.now()
		if _, err := s.d.W.NewRaw(`UPDATE conversations SET unreachable_at = COALESCE(unreachable_at, ?), updated_at = ? WHERE id = ?`,
			now, now, o.ConversationID).Exec(ctx); err != nil {
			return again(0, fmt.Errorf("inbox: send: mark unreachable: %w", err))
		}
		return s.fail(ctx, o, string(se.Kind), se.Message, se)
	case se.Kind == channel.ErrPermission:
		if err := s.opt.Channels.RecordError(ctx, ch.WorkspaceID, ch.ID, se.Message); err != nil {
			s.log.Warn("record channel error", "channel", ch.ID, "err", err)
		}
		return s.fail(ctx, o, string(se.Kind), se.Message, se)
	default: // window_closed, invalid, and kinds this code does not know
		return s.fail(ctx, o, string(se.Kind), se.Message, se)
	}
}

// awaitEcho resolves a send whose outcome is unknown without sending it
// again: its echo (or the stored answer) moves it to sent; after echoWait
// without either it is failed "unknown_outcome".
func (s *Service) awaitEcho(ctx context.Context, o *outgoing, last bool) result {
	waited := s.now().Sub(o.UpdatedAt)
	if last || waited >= echoWait {
		return s.fail(ctx, o, CodeUnknownOutcome,
			"Messenger did not confirm this message. It may or may not have reached the person; it was not sent again.", nil)
	}
	return again(min(echoCheck, echoWait-waited), errors.New("inbox: send: outcome unknown; waiting for the echo"))
}

// fail marks a queued or sending message failed with a stable code and a
// message safe to show. With cause set, the job is dead-lettered with it
// (a platform refusal worth keeping); otherwise it is done.
func (s *Service) fail(ctx context.Context, o *outgoing, code, message string, cause error) result {
	_, err := s.st.Exec(ctx, s.d.W, sqlFail, code, clip(message), s.now(), o.ID)
	if err != nil {
		return again(0, fmt.Errorf("inbox: send: mark failed: %w", err))
	}
	s.log.Info("message not sent", "message", o.ID, "conversation", o.ConversationID, "code", code)
	s.changed(ctx, o.change())
	if cause != nil {
		return giveUp(fmt.Errorf("inbox: send: %w", cause))
	}
	return finished()
}

// clip bounds an error message kept for display.
func clip(s string) string {
	const max = 500
	if len(s) <= max {
		return s
	}
	return s[:max]
}

// change is the Change a stored send result of o makes.
func (o *outgoing) change() Change {
	return Change{Kind: ChangeMessage, WorkspaceID: o.WorkspaceID, ConversationID: o.ConversationID, ContactID: o.ContactID}
}

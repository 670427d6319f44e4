package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/timeline"
)

// eventDeleted is the kind of an "unsend" event (Instagram's is_deleted):
// the person deleted the message MID. channel does not name it yet; the
// adapter that produces it will.
const eventDeleted channel.EventKind = "deleted"

// Ingest applies a batch of events of one channel, in order, inside tx
// (the caller's transaction, which also holds the webhook delivery). A
// redelivered event changes nothing. Replies of the Responder and profile
// fetches are enqueued in tx; the returned Effects say which queues to
// Notify after commit. An error means tx must roll back.
//
// Events are deduplicated by MID, else by Key; an event with neither is
// applied each time it comes.
//
// Cost on the common path (a known person's text message answered by the
// automatic reply), prepared statements all: contact SELECT, conversation
// SELECT, message INSERT, conversation UPDATE … RETURNING, reply INSERT,
// job INSERT (plus its advisory lock on PostgreSQL), and one SELECT of the
// contact's key per seal (two) unless the keyring has it cached: 8
// statements on SQLite, 9 on PostgreSQL. A new person adds 5 (contact and
// conversation inserts, creating the contact's key, the profile job).
func (s *Service) Ingest(ctx context.Context, tx bun.Tx, ch channel.Channel, events []channel.Inbound) (Effects, error) {
	var eff Effects
	for i := range events {
		ev := &events[i]
		if err := s.apply(ctx, tx, ch, ev, &eff); err != nil {
			return Effects{}, fmt.Errorf("inbox: ingest %s event: %w", ev.Kind, err)
		}
	}
	return eff, nil
}

func (s *Service) apply(ctx context.Context, tx bun.Tx, ch channel.Channel, ev *channel.Inbound, eff *Effects) error {
	if ev.UserID == "" {
		if ev.Kind == channel.EventPolicy {
			// A Page-level notice: nothing of a conversation changes.
			s.log.Warn("page-level policy notice", "channel", ch.ID, "action", policyAction(ev))
		}
		return nil
	}
	switch ev.Kind {
	case channel.EventMessage, channel.EventPostback, channel.EventReferral, channel.EventOptin, channel.EventReaction:
		return s.fromPerson(ctx, tx, ch, ev, eff)
	case channel.EventEcho:
		return s.echo(ctx, tx, ch, ev, eff)
	case channel.EventDelivery, channel.EventRead:
		return s.receipt(ctx, tx, ch, ev, eff)
	case channel.EventHandover:
		return s.handover(ctx, tx, ch, ev, eff)
	case channel.EventPolicy:
		return s.policy(ctx, tx, ch, ev, eff)
	case eventDeleted:
		return s.unsend(ctx, tx, ch, ev, eff)
	default:
		s.log.Debug("inbound event ignored", "channel", ch.ID, "kind", string(ev.Kind))
		return nil
	}
}

// eventTime is when the platform says ev happened, or now when it did not
// say.
func eventTime(ev *channel.Inbound, now time.Time) time.Time {
	if ev.At.IsZero() {
		return now
	}
	return ev.At.UTC().Truncate(time.Microsecond)
}

// opensWindow reports whether an event from the person opens the standard
// messaging window (meta-platform.md §2.4): messages, postbacks, referrals
// and reactions; never opt-ins, echoes, reads or deliveries.
func opensWindow(k channel.EventKind) bool {
	return k == channel.EventMessage || k == channel.EventPostback || k == channel.EventReferral || k == channel.EventReaction
}

// fromPerson stores something the person did and lets the Responder
// answer it.
func (s *Service) fromPerson(ctx context.Context, tx bun.Tx, ch channel.Channel, ev *channel.Inbound, eff *Effects) error {
	now := s.now()
	at := eventTime(ev, now)
	ct, newContact, err := s.opt.Contacts.Upsert(ctx, tx, ch, ev.UserID)
	if err != nil {
		return err
	}
	conv, created, err := s.conversationOf(ctx, tx, ch, ct, newContact, now)
	if err != nil {
		return err
	}
	// Events without a platform ID are deduplicated by their key; those
	// with one, by the unique index the INSERT below runs into.
	if ev.MID == "" && ev.Key != "" {
		dup, err := s.seen(ctx, tx, ch.ID, ct.ID, ev.Key, now)
		if err != nil || dup {
			return err
		}
	}
	m := Message{
		ID: newID(), WorkspaceID: ch.WorkspaceID, ChannelID: ch.ID, ConversationID: conv.ID, ContactID: ct.ID,
		Direction: In, Kind: ev.Content.Kind(), Content: ev.Content, SenderType: SenderContact,
		ExternalID: ev.MID, ReplyTo: ev.ReplyTo, Status: StatusReceived, PlatformAt: at, CreatedAt: now, UpdatedAt: now,
	}
	inserted, err := s.insertMessage(ctx, tx, &m)
	if err != nil || !inserted {
		// Already stored: a redelivery. Nothing else happens, above all
		// no second reply.
		return err
	}
	eff.addChange(Change{Kind: ChangeMessage, WorkspaceID: ch.WorkspaceID, ConversationID: conv.ID, ContactID: ct.ID})
	interactions := 0
	if ev.Kind == channel.EventMessage || ev.Kind == channel.EventPostback {
		interactions = 1
	}
	before := conv
	conv, err = s.touchInbound(ctx, tx, conv.ID, at, now, opensWindow(ev.Kind), interactions)
	if err != nil {
		return err
	}
	if conv, err = s.afterInbound(ctx, tx, before, conv, created, now, eff); err != nil {
		return err
	}
	fetching, err := s.maybeFetchProfile(ctx, tx, ch, ct, newContact, now, eff)
	if err != nil {
		return err
	}
	if ev.Standby || s.opt.Responder == nil || !conv.Owner.automated() {
		return nil
	}
	// Privacy (P-40): a restricted, objecting, consent-withdrawn or minor
	// contact's message starts or advances no flow; it waits for a person.
	// Asked once here; the replies of this transaction carry the answer.
	if s.opt.Automation != nil {
		err := s.opt.Automation(ctx, tx, ch.WorkspaceID, ct.ID, SenderFlow)
		if errors.Is(err, ErrRestricted) {
			if interactions > 0 {
				return s.unanswered(ctx, tx, conv, now, eff)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("privacy check: %w", err)
		}
	}
	r, err := s.opt.Responder.Respond(ctx, tx, Incoming{
		Channel: ch, Contact: ct, Conversation: conv, Message: m, Event: *ev, NewContact: newContact,
		ProfilePending: fetching && ct.ProfileState == contact.ProfilePending,
	})
	if err != nil {
		return fmt.Errorf("respond: %w", err)
	}
	author := Author{Type: SenderFlow, ID: r.FlowID, cleared: s.opt.Automation != nil}
	if conv.Owner == OwnerAI {
		author.Type = SenderAI
	}
	if interactions > 0 && len(r.Replies) == 0 && r.Jobs == 0 && !r.Handoff && !r.Resolve {
		return s.unanswered(ctx, tx, conv, now, eff)
	}
	return s.automate(ctx, tx, ch, conv, ct.ExternalID, author, r, now, eff)
}

// afterInbound records what a message from the person did to the
// conversation's status (reopened, woken) on the timeline, and gives a new
// conversation an assignee when the workspace auto-assigns.
func (s *Service) afterInbound(ctx context.Context, tx bun.Tx, before, conv Conversation, created bool, now time.Time, eff *Effects) (Conversation, error) {
	if before.Status != conv.Status {
		if err := s.record(ctx, tx, conv, timeline.KindStatus, "contact",
			map[string]string{"from": string(before.Status), "to": string(conv.Status)}, now); err != nil {
			return conv, err
		}
		eff.addChange(conversationChange(conv))
	}
	if !created || s.opt.Teams == nil {
		return conv, nil
	}
	next, err := s.autoAssign(ctx, tx, conv, "", now)
	if err != nil {
		return conv, err
	}
	if next.AssigneeID != "" {
		eff.addChange(conversationChange(next))
	}
	return next, nil
}

// maybeFetchProfile enqueues a profile fetch for a new contact, or one
// whose profile is due (contact.ProfileDue), and reports whether a fetch
// is queued. The unique key keeps it to one unfinished job per contact
// however many messages arrive meanwhile.
func (s *Service) maybeFetchProfile(ctx context.Context, tx bun.Tx, ch channel.Channel, ct contact.Contact, isNew bool, now time.Time, eff *Effects) (bool, error) {
	if s.opt.Jobs == nil || s.opt.Profiles[ch.Type] == nil || (!isNew && !ct.ProfileDue(now)) {
		return false, nil
	}
	if _, err := s.opt.Jobs.Enqueue(ctx, tx, KindProfile, idJob{WS: ct.WorkspaceID, ID: ct.ID}, job.Unique(KindProfile+":"+ct.ID)); err != nil {
		return false, err
	}
	eff.Jobs++
	return true, nil
}

// idJob is the payload of both job kinds: IDs only, never content.
type idJob struct {
	WS string `json:"ws"`
	ID string `json:"id"`
}

// echo applies a message the Page sent.
func (s *Service) echo(ctx context.Context, tx bun.Tx, ch channel.Channel, ev *channel.Inbound, eff *Effects) error {
	now := s.now()
	at := eventTime(ev, now)
	// Parley's metadata (its message ID) proves the echo is Parley's even
	// when the app ID is missing or misconfigured.
	ours := s.ours(ev.AppID)
	if ours || ev.Metadata != "" || s.opt.AppID == "" {
		matched, err := s.matchEcho(ctx, tx, ch.ID, ev, at, now)
		if err != nil {
			return err
		}
		if matched {
			if ev.Metadata != "" {
				eff.echoed = append(eff.echoed, ev.Metadata)
			}
			return nil
		}
		if ours {
			// Our app sent it but no message of ours is known by that ID or
			// metadata (sent by an older install, or the message was
			// erased): nothing to record, and never a second row.
			s.log.Info("echo of an unknown message from this app", "channel", ch.ID)
			return nil
		}
	}
	// Someone else answered (another app, or a person in Meta's inbox):
	// record it and let them have the conversation, so the bot stops.
	ct, newContact, err := s.opt.Contacts.Upsert(ctx, tx, ch, ev.UserID)
	if err != nil {
		return err
	}
	conv, _, err := s.conversationOf(ctx, tx, ch, ct, newContact, now)
	if err != nil {
		return err
	}
	if ev.MID == "" && ev.Key != "" {
		dup, err := s.seen(ctx, tx, ch.ID, ct.ID, ev.Key, now)
		if err != nil || dup {
			return err
		}
	}
	m := Message{
		ID: newID(), WorkspaceID: ch.WorkspaceID, ChannelID: ch.ID, ConversationID: conv.ID, ContactID: ct.ID,
		Direction: Out, Kind: ev.Content.Kind(), Content: ev.Content, SenderType: SenderPage, ExternalID: ev.MID,
		ReplyTo: ev.ReplyTo, Status: StatusSent, PlatformAt: at, SentAt: at, CreatedAt: now, UpdatedAt: now,
	}
	inserted, err := s.insertMessage(ctx, tx, &m)
	if err != nil || !inserted {
		return err
	}
	eff.addChange(Change{Kind: ChangeMessage, WorkspaceID: ch.WorkspaceID, ConversationID: conv.ID, ContactID: ct.ID})
	if conv.Owner != OwnerHuman {
		if conv, _, err = s.transition(ctx, tx, conv, ownerChange{to: OwnerHuman, reason: ReasonPageEcho, actor: "page", at: at}, now, eff); err != nil {
			return err
		}
	} else if _, err := tx.NewRaw(`UPDATE conversations SET last_activity_at = CASE WHEN last_activity_at < ? THEN ? ELSE last_activity_at END,
		updated_at = ? WHERE id = ?`, at, at, now, conv.ID).Exec(ctx); err != nil {
		return fmt.Errorf("update conversation: %w", err)
	}
	return s.humanWrote(ctx, tx, conv, at, now, eff)
}

// echoSet moves a message to sent for its echo, forward only.
const echoSet = `UPDATE messages SET platform_at = COALESCE(platform_at, ?),
		sent_at = COALESCE(sent_at, ?),
		error_code = CASE WHEN status IN ('queued','sending','failed') THEN '' ELSE error_code END,
		error_message = CASE WHEN status IN ('queued','sending','failed') THEN '' ELSE error_message END,
		` + becomesSent + `,
		updated_at = ?`

// becomesSent are the SET terms that move a queued, sending or failed
// message to sent — or straight to delivered or read when a receipt whose
// watermark covers it came first (conversations.delivered_upto, read_upto).
const becomesSent = `delivered_at = CASE WHEN status IN ('queued','sending','failed') THEN COALESCE(delivered_at,
			(SELECT c.delivered_upto FROM conversations c WHERE c.id = messages.conversation_id AND c.delivered_upto >= COALESCE(messages.platform_at, messages.created_at)))
			ELSE delivered_at END,
		read_at = CASE WHEN status IN ('queued','sending','failed') THEN COALESCE(read_at,
			(SELECT c.read_upto FROM conversations c WHERE c.id = messages.conversation_id AND c.read_upto >= COALESCE(messages.platform_at, messages.created_at)))
			ELSE read_at END,
		status = CASE WHEN status IN ('queued','sending','failed') THEN COALESCE(
			(SELECT CASE WHEN c.read_upto >= COALESCE(messages.platform_at, messages.created_at) THEN 'read'
				WHEN c.delivered_upto >= COALESCE(messages.platform_at, messages.created_at) THEN 'delivered' END
			FROM conversations c WHERE c.id = messages.conversation_id), 'sent')
			ELSE status END`

const (
	// sqlEchoByMetadata sets the platform ID too, unless another row
	// already has it (which would break the unique index and abort the
	// transaction).
	sqlEchoByMetadata = echoSet + `, external_id = COALESCE(external_id, ?)
		WHERE id = ? AND channel_id = ? AND direction = 'out'
		AND (external_id = ? OR (external_id IS NULL AND NOT EXISTS (SELECT 1 FROM messages WHERE channel_id = ? AND external_id = ?)))`
	sqlEchoByMID = echoSet + ` WHERE channel_id = ? AND external_id = ? AND direction = 'out' AND sender_type <> 'page'`
)

// matchEcho links the echo of one of Parley's sends to its message: by the
// message ID Parley put in the metadata, else by platform ID. The echo may
// come before the Send API's answer is stored, so it sets the platform ID
// and moves a queued, sending or failed (unknown outcome) message to sent;
// it never moves a message back.
func (s *Service) matchEcho(ctx context.Context, tx bun.Tx, channelID string, ev *channel.Inbound, at, now time.Time) (bool, error) {
	var err error
	switch {
	case ev.Metadata != "" && ev.MID != "":
		err = db.OneRow(s.st.Exec(ctx, tx, sqlEchoByMetadata, at, at, now, ev.MID, ev.Metadata, channelID, ev.MID, channelID, ev.MID))
	case ev.Metadata != "":
		err = db.OneRow(tx.NewRaw(echoSet+` WHERE id = ? AND channel_id = ? AND direction = 'out'`, at, at, now, ev.Metadata, channelID).Exec(ctx))
	default:
		err = db.ErrNotFound
	}
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, db.ErrNotFound) {
		return false, fmt.Errorf("match echo: %w", err)
	}
	if ev.MID == "" {
		return false, nil
	}
	err = db.OneRow(s.st.Exec(ctx, tx, sqlEchoByMID, at, at, now, channelID, ev.MID))
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("match echo: %w", err)
	}
	return true, nil
}

// The receipts. The terms before "AND status = 'sent'" match the partial
// index messages_outgoing_unread, which holds only messages still waiting
// for a receipt, so a long conversation costs no more than a short one.
// Parley's clock is not the platform's: a message's platform time (from
// its echo) is compared with the watermark when known, else the time
// Parley created it, which is before the platform saw it.
const (
	sqlDelivered = `UPDATE messages SET status = 'delivered', delivered_at = COALESCE(delivered_at, ?), updated_at = ?
		WHERE conversation_id = ? AND direction = 'out' AND status IN ('sent','delivered') AND status = 'sent'
		AND COALESCE(platform_at, created_at) <= ?`
	sqlRead = `UPDATE messages SET status = 'read', read_at = COALESCE(read_at, ?), delivered_at = COALESCE(delivered_at, ?), updated_at = ?
		WHERE conversation_id = ? AND direction = 'out' AND status IN ('sent','delivered')
		AND COALESCE(platform_at, created_at) <= ?`
	// The watermarks, kept for messages not yet known to be sent (see
	// becomesSent); they only move forward.
	sqlDeliveredUpto = `UPDATE conversations SET delivered_upto = ? WHERE id = ? AND (delivered_upto IS NULL OR delivered_upto < ?)`
	sqlReadUpto      = `UPDATE conversations SET read_upto = ? WHERE id = ? AND (read_upto IS NULL OR read_upto < ?)`
)

// receipt applies a delivery or read receipt (promise P-17): every
// outgoing message of the conversation sent at or before the watermark,
// or named in MIDs, moves forward — sent → delivered → read, never back. A
// receipt for a person Parley does not know changes nothing.
func (s *Service) receipt(ctx context.Context, tx bun.Tx, ch channel.Channel, ev *channel.Inbound, eff *Effects) error {
	if ev.Watermark.IsZero() && len(ev.MIDs) == 0 {
		return nil
	}
	conv, err := s.findConversation(ctx, tx, ch, ev.UserID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// Told even when no row moved: a hint costs a page one refresh.
	eff.addChange(Change{Kind: ChangeMessage, WorkspaceID: ch.WorkspaceID, ConversationID: conv.ID, ContactID: conv.ContactID})
	now := s.now()
	at := eventTime(ev, now)
	wm := ev.Watermark.UTC().Truncate(time.Microsecond)
	if !ev.Watermark.IsZero() {
		if err := s.keepWatermark(ctx, tx, ev.Kind, conv.ID, wm); err != nil {
			return err
		}
	}
	if len(ev.MIDs) == 0 {
		if ev.Kind == channel.EventRead {
			_, err = s.st.Exec(ctx, tx, sqlRead, at, at, now, conv.ID, wm)
		} else {
			_, err = s.st.Exec(ctx, tx, sqlDelivered, at, now, conv.ID, wm)
		}
		if err != nil {
			return fmt.Errorf("apply %s receipt: %w", ev.Kind, err)
		}
		return nil
	}
	// Listed message IDs count too (and alone when there is no watermark:
	// nothing is before the zero time).
	q, args := sqlDelivered, []any{at, now, conv.ID, wm}
	if ev.Kind == channel.EventRead {
		q, args = sqlRead, []any{at, at, now, conv.ID, wm}
	}
	q = strings.Replace(q, `AND COALESCE(platform_at, created_at) <= ?`, `AND (COALESCE(platform_at, created_at) <= ? OR external_id IN (?))`, 1)
	args = append(args, bun.In(ev.MIDs))
	if _, err := tx.NewRaw(q, args...).Exec(ctx); err != nil {
		return fmt.Errorf("apply %s receipt: %w", ev.Kind, err)
	}
	return nil
}

// keepWatermark records a receipt's watermark on the conversation, for
// messages whose sending is not stored yet: a read implies delivery.
func (s *Service) keepWatermark(ctx context.Context, tx bun.Tx, kind channel.EventKind, convID string, wm time.Time) error {
	if _, err := s.st.Exec(ctx, tx, sqlDeliveredUpto, wm, convID, wm); err != nil {
		return fmt.Errorf("keep delivery watermark: %w", err)
	}
	if kind == channel.EventRead {
		if _, err := s.st.Exec(ctx, tx, sqlReadUpto, wm, convID, wm); err != nil {
			return fmt.Errorf("keep read watermark: %w", err)
		}
	}
	return nil
}

// handover applies a thread-control change: when another app gets the
// thread (Meta's Page inbox, a live-chat tool) a human answers; when
// Parley gets it back, the bot does again.
func (s *Service) handover(ctx context.Context, tx bun.Tx, ch channel.Channel, ev *channel.Inbound, eff *Effects) error {
	h := ev.Handover
	if h == nil {
		return nil
	}
	var owner Owner
	switch {
	case h.Kind == channel.HandoverPass && s.ours(h.NewOwnerAppID):
		owner = OwnerBot
	case h.Kind == channel.HandoverPass:
		owner = OwnerHuman
	case h.Kind == channel.HandoverTake && s.ours(h.PrevOwnerAppID):
		owner = OwnerHuman // taken from Parley
	case h.Kind == channel.HandoverTake && h.PrevOwnerAppID != "":
		owner = OwnerBot // taken back by Parley from another app
	default:
		return nil // a request changes nothing until control passes
	}
	conv, err := s.findConversation(ctx, tx, ch, ev.UserID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if conv.Owner == owner || (owner == OwnerBot && conv.Owner != OwnerHuman) {
		return nil // unchanged; or already automated (bot or AI), or deliberately nobody
	}
	now := s.now()
	_, _, err = s.transition(ctx, tx, conv, ownerChange{to: owner, reason: ReasonHandover, actor: "page", at: eventTime(ev, now)}, now, eff)
	return err
}

// ours reports whether appID is Parley's app.
func (s *Service) ours(appID string) bool { return appID != "" && appID == s.opt.AppID }

// policy applies a policy enforcement notice about one person: blocked
// means unreachable until unblocked.
func (s *Service) policy(ctx context.Context, tx bun.Tx, ch channel.Channel, ev *channel.Inbound, eff *Effects) error {
	conv, err := s.findConversation(ctx, tx, ch, ev.UserID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now()
	switch policyAction(ev) {
	case "block":
		_, err = tx.NewRaw(`UPDATE conversations SET unreachable_at = COALESCE(unreachable_at, ?), updated_at = ? WHERE id = ?`,
			eventTime(ev, now), now, conv.ID).Exec(ctx)
	case "unblock":
		_, err = tx.NewRaw(`UPDATE conversations SET unreachable_at = NULL, updated_at = ? WHERE id = ?`, now, conv.ID).Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("apply policy notice: %w", err)
	}
	eff.addChange(conversationChange(conv))
	return nil
}

func policyAction(ev *channel.Inbound) string {
	if ev.Policy == nil {
		return ""
	}
	return ev.Policy.Action
}

// unsend redacts a message the person deleted: the row stays (the
// conversation keeps its shape and counts), its body becomes a sealed
// {"deleted":true}. Unknown messages are ignored; it never replies.
func (s *Service) unsend(ctx context.Context, tx bun.Tx, ch channel.Channel, ev *channel.Inbound, eff *Effects) error {
	if ev.MID == "" {
		return nil
	}
	var r struct {
		ID             string `bun:"id"`
		WorkspaceID    string `bun:"workspace_id"`
		ContactID      string `bun:"contact_id"`
		ConversationID string `bun:"conversation_id"`
	}
	err := tx.NewRaw(`SELECT id, workspace_id, contact_id, conversation_id FROM messages WHERE channel_id = ? AND external_id = ? AND direction = 'in'`,
		ch.ID, ev.MID).Scan(ctx, &r)
	if errors.Is(db.NoRows(err), db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find unsent message: %w", err)
	}
	sealed, err := s.seal(ctx, tx, r.WorkspaceID, r.ContactID, r.ID, body{Deleted: true})
	if err != nil {
		return fmt.Errorf("redact message: %w", err)
	}
	if _, err := tx.NewRaw(`UPDATE messages SET body = ?, updated_at = ? WHERE id = ?`, sealed, s.now(), r.ID).Exec(ctx); err != nil {
		return fmt.Errorf("redact message: %w", err)
	}
	if s.opt.Unsent != nil {
		if err := s.opt.Unsent(ctx, tx, r.WorkspaceID, r.ID); err != nil {
			return fmt.Errorf("redact message: %w", err)
		}
	}
	eff.addChange(Change{Kind: ChangeMessage, WorkspaceID: r.WorkspaceID, ConversationID: r.ConversationID, ContactID: r.ContactID})
	return nil
}

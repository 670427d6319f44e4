package inbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/timeline"
)

// KindMarkSeen tells the platform that the Page has seen the person's
// messages (sender action mark_seen), on Options.Jobs, at most once per
// new inbound message. Payload: IDs only.
const KindMarkSeen = "inbox.mark_seen"

// typingEvery is how often a typing indicator is sent again while an agent
// keeps typing: Messenger shows one for about 20 s, so every 5 s is
// plenty, and a keystroke-rate stream of calls never reaches the
// platform.
const typingEvery = 5 * time.Second

// typingKeep is how many conversations' typing state are kept before the
// stale ones are forgotten.
const typingKeep = 1000

// MarkSeen records that an agent opened the conversation: it is no longer
// unread (AgentLastSeenAt moves to now) and, when the person wrote since
// the platform was last told and the messaging window is still open, a
// KindMarkSeen job tells the platform. Seeing new messages is recorded on
// the timeline ("seen"); opening a conversation with nothing new records
// nothing.
func (s *Service) MarkSeen(ctx context.Context, a audit.Actor, workspaceID, conversationID string) error {
	var eff Effects
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		conv, err := s.lockConversation(ctx, tx, workspaceID, conversationID)
		if err != nil {
			return err
		}
		now := s.now()
		var seenUpto *time.Time
		if err := tx.NewRaw(`SELECT seen_sent_upto FROM conversations WHERE id = ?`, conv.ID).Scan(ctx, &seenUpto); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE conversations SET agent_last_seen_at = ? WHERE id = ?`, now, conv.ID).Exec(ctx); err != nil {
			return err
		}
		if !conv.Unread() {
			return nil
		}
		eff.addChange(conversationChange(conv))
		if err := s.record(ctx, tx, conv, timeline.KindSeen, actorOf(a), nil, now); err != nil {
			return err
		}
		inWindow := now.Before(conv.LastInboundAt.Add(channel.StandardWindow))
		if s.opt.Jobs == nil || !inWindow || (seenUpto != nil && !seenUpto.Before(conv.LastInboundAt)) {
			return nil
		}
		if _, err := tx.NewRaw(`UPDATE conversations SET seen_sent_upto = ? WHERE id = ?`, conv.LastInboundAt, conv.ID).Exec(ctx); err != nil {
			return err
		}
		if _, err := s.opt.Jobs.Enqueue(ctx, tx, KindMarkSeen, idJob{WS: workspaceID, ID: conv.ID},
			job.Unique(KindMarkSeen+":"+conv.ID)); err != nil {
			return fmt.Errorf("queue mark seen: %w", err)
		}
		eff.Jobs++
		return nil
	})
	if err != nil {
		return fmt.Errorf("inbox: mark seen: %w", err)
	}
	s.Notify(eff)
	return nil
}

// handleMarkSeen runs a KindMarkSeen job.
func (s *Service) handleMarkSeen(ctx context.Context, j *job.Job) error {
	var p idJob
	if err := j.Decode(&p); err != nil {
		return err
	}
	return s.markSeen(ctx, p)
}

// markSeen sends mark_seen for p's conversation if its window is still
// open. Transient failures are retried by the job; others are logged:
// a missed "seen" is not worth a dead job.
func (s *Service) markSeen(ctx context.Context, p idJob) error {
	conv, err := getConversation(ctx, s.d.R, p.WS, p.ID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inbox: mark seen: %w", err)
	}
	if !s.now().Before(conv.LastInboundAt.Add(channel.StandardWindow)) {
		return nil
	}
	err = s.senderAction(ctx, conv, channel.ActionMarkSeen)
	var se *channel.SendError
	if errors.As(err, &se) && se.Retryable() {
		return fmt.Errorf("inbox: mark seen: %w", err)
	}
	if err != nil {
		s.log.Info("mark seen not sent", "conversation", conv.ID, "err", err)
	}
	return nil
}

// senderAction sends a sender action (typing, mark_seen) to conv's
// contact through the channel's Sender. No Sender, or no contact ID (the
// person was erased), sends nothing.
func (s *Service) senderAction(ctx context.Context, conv Conversation, action string) error {
	// Outbound paused by the kill switch (P-37): sender actions go to the
	// Send API too, and are only worth anything now, so they are dropped.
	if s.opt.SendHold != nil && s.opt.SendHold(conv.WorkspaceID) {
		return nil
	}
	ch, err := s.opt.Channels.Get(ctx, conv.WorkspaceID, conv.ChannelID)
	if err != nil {
		return err
	}
	sender := s.opt.Senders[ch.Type]
	if sender == nil || ch.Status != channel.Active {
		return nil
	}
	to, err := s.opt.Contacts.ExternalIDOn(ctx, nil, conv.WorkspaceID, conv.ContactID, conv.ChannelID)
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return nil
		}
		return err
	}
	if to == "" {
		return nil
	}
	token, err := s.opt.Channels.Token(ctx, ch)
	if errors.Is(err, channel.ErrNoToken) {
		return nil
	}
	if err != nil {
		return err
	}
	return sender.SenderAction(ctx, ch, token, to, action)
}

// typing throttles typing indicators per conversation, in this process:
// on is when typing_on was last sent (zero: off).
type typing struct {
	mu sync.Mutex
	on map[string]time.Time
}

// Typing shows (on) or hides the Page's typing indicator to the person
// while a member writes a reply. Only a human-owned conversation inside
// its messaging window shows one (ErrInvalid when automation or nobody
// owns it; nothing is sent outside the window). Calls are throttled per
// conversation: typing_on at most every few seconds, typing_off only after
// a typing_on.
func (s *Service) Typing(ctx context.Context, workspaceID, conversationID string, on bool) error {
	conv, err := getConversation(ctx, s.d.R, workspaceID, conversationID)
	if err != nil {
		return fmt.Errorf("inbox: typing: %w", err)
	}
	if conv.Owner != OwnerHuman {
		return fmt.Errorf("inbox: typing: %w: only a conversation a person owns shows typing", ErrInvalid)
	}
	now := s.now()
	if conv.LastInboundAt.IsZero() || !now.Before(conv.LastInboundAt.Add(channel.StandardWindow)) {
		return nil
	}
	s.typing.mu.Lock()
	if len(s.typing.on) > typingKeep {
		// Agents who closed the page never sent typing_off: forget them.
		for id, at := range s.typing.on {
			if now.Sub(at) > time.Minute {
				delete(s.typing.on, id)
			}
		}
	}
	last, was := s.typing.on[conv.ID]
	send := false
	if on {
		send = !was || now.Sub(last) >= typingEvery || now.Before(last)
		if send {
			s.typing.on[conv.ID] = now
		}
	} else if was {
		send = true
		delete(s.typing.on, conv.ID)
	}
	s.typing.mu.Unlock()
	if !send {
		return nil
	}
	action := channel.ActionTypingOff
	if on {
		action = channel.ActionTypingOn
	}
	if err := s.senderAction(ctx, conv, action); err != nil {
		if on {
			s.typing.mu.Lock()
			delete(s.typing.on, conv.ID) // let the next keystroke try again
			s.typing.mu.Unlock()
		}
		return fmt.Errorf("inbox: typing: %w", err)
	}
	return nil
}

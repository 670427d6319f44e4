package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
)

// facts are what the policy engine needs about a send from a to conv on
// ch at now.
func facts(ch channel.Channel, conv Conversation, human bool, contactName string, now time.Time) channel.Facts {
	ts := ch.TokenState
	if ch.Status != channel.Active {
		// A disconnected channel has no token at all.
		ts = channel.TokenNeedsReconnect
	}
	return channel.Facts{
		Type: ch.Type, Now: now, LastInboundAt: conv.LastInboundAt, Human: human,
		Unreachable: !conv.UnreachableAt.IsZero(), TokenState: ts, ContactName: contactName,
	}
}

// AgentPolicy is what the messaging policy allows a person on the team to
// send to conv now: the same decision Reply takes, for pages that show it
// before anyone types.
func (s *Service) AgentPolicy(ch channel.Channel, conv Conversation, contactName string) channel.Decision {
	return channel.Decide(facts(ch, conv, true, contactName, s.now()))
}

// adapt fits c to the channel type's limits.
func (s *Service) adapt(t channel.Type, c channel.Content) ([]channel.Content, error) {
	if a := s.opt.Adapters[t]; a != nil {
		return a(c)
	}
	if err := channel.CheckContent(c); err != nil {
		return nil, err
	}
	return []channel.Content{c}, nil
}

// queue is the one outbound path (promise P-16): the policy decides, the
// adapter fits the content, and each part is stored as a queued message
// inside tx. Each is sent either by the direct path once tx commits (it is
// among the returned outbound, for Effects) or by an "inbox.send" job keyed
// by the conversation. to is the contact's platform ID (empty: the job
// path, which reads it). It returns the stored messages; *PolicyError and
// *channel.ContentError mean nothing was stored.
func (s *Service) queue(ctx context.Context, tx bun.Tx, ch channel.Channel, conv Conversation, contactName, to string, a Author, c channel.Content, now time.Time) ([]Message, []outbound, error) {
	// The one place automation is stopped while a person owns the
	// conversation: flows, the AI agent and broadcasts all come through
	// here, with conv read inside tx.
	if a.Type != SenderAgent && conv.Owner == OwnerHuman {
		return nil, nil, ErrHumanOwned
	}
	// Data-subject rights (P-34, P-40): the one place automated sends to a
	// restricted, objecting, consent-withdrawn or minor contact stop.
	if a.Type != SenderAgent && s.opt.Automation != nil && !a.cleared {
		if err := s.opt.Automation(ctx, tx, conv.WorkspaceID, conv.ContactID, a.Type); err != nil {
			return nil, nil, err
		}
	}
	dec := channel.Decide(facts(ch, conv, a.Type == SenderAgent, contactName, now))
	if !dec.Allowed {
		return nil, nil, &PolicyError{Decision: dec}
	}
	parts, err := s.adapt(ch.Type, c)
	if err != nil {
		return nil, nil, err
	}
	direct := false
	if s.dir != nil && to != "" {
		if direct, err = s.dir.accepts(ctx, tx, conv.ID); err != nil {
			return nil, nil, fmt.Errorf("queue send: %w", err)
		}
	}
	out := make([]Message, 0, len(parts))
	var fast []outbound
	for _, p := range parts {
		m := Message{
			ID: newID(), WorkspaceID: conv.WorkspaceID, ChannelID: ch.ID, ConversationID: conv.ID, ContactID: conv.ContactID,
			Direction: Out, Kind: p.Kind(), Content: p, SenderType: a.Type, SenderID: a.ID, Status: StatusQueued,
			MessagingType: dec.MessagingType, Tag: dec.Tag, CreatedAt: now, UpdatedAt: now,
		}
		if _, err := s.insertMessage(ctx, tx, &m); err != nil {
			return nil, nil, err
		}
		out = append(out, m)
		if direct {
			fast = append(fast, outbound{msg: m, ch: ch, conv: conv, to: to})
			continue
		}
		if _, err := s.opt.Sends.Enqueue(ctx, tx, KindSend, idJob{WS: m.WorkspaceID, ID: m.ID},
			job.Key(conv.ID), job.Unique(sendUnique(m.ID))); err != nil {
			return nil, nil, fmt.Errorf("queue send: %w", err)
		}
	}
	return out, fast, nil
}

// Reply sends c to the conversation's contact as a (an agent, a flow, the
// AI agent or a broadcast), through the messaging policy and the platform
// adapter, and returns the queued messages (several when the adapter
// split the content). Errors: *PolicyError (refused: nothing stored, the
// Decision explains), *channel.ContentError (the content cannot be sent as
// composed), db.ErrNotFound (no such conversation in the workspace).
//
// An agent's reply assigns the conversation to that agent (a.ID, else
// a.Actor.UserID) when nobody has it, and leaves the owner alone: taking a
// conversation over is SetOwner.
func (s *Service) Reply(ctx context.Context, a Author, workspaceID, conversationID string, c channel.Content) ([]Message, error) {
	if !a.Type.canSend() {
		return nil, fmt.Errorf("inbox: reply: %w: %q cannot send", ErrInvalid, a.Type)
	}
	if a.Type == SenderAgent && a.ID == "" {
		a.ID = a.Actor.UserID // the signed-in member (empty for an API key)
	}
	conv, err := getConversation(ctx, s.d.R, workspaceID, conversationID)
	if err != nil {
		return nil, fmt.Errorf("inbox: reply: %w", err)
	}
	ch, err := s.opt.Channels.Get(ctx, workspaceID, conv.ChannelID)
	if err != nil {
		return nil, fmt.Errorf("inbox: reply: %w", err)
	}
	// The contact's name makes the policy's explanation personal.
	name, to := "", ""
	if ct, err := s.opt.Contacts.Get(ctx, workspaceID, conv.ContactID); err == nil {
		name, to = ct.DisplayName(), ct.ExternalID
		if ct.ChannelID != conv.ChannelID { // merged contacts: the identity on this channel
			to, _ = s.opt.Contacts.ExternalIDOn(ctx, nil, workspaceID, conv.ContactID, conv.ChannelID)
		}
	}
	var out []Message
	var fast []outbound
	var eff Effects
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Read again inside the transaction, locked: the window and the
		// owner may have moved.
		conv, err := s.lockConversation(ctx, tx, workspaceID, conversationID)
		if err != nil {
			return err
		}
		now := s.now()
		out, fast, err = s.queue(ctx, tx, ch, conv, name, to, a, c, now)
		if err != nil {
			return err
		}
		if a.Type == SenderAgent {
			return s.agentReplied(ctx, tx, conv, a, now, &eff)
		}
		_, err = tx.NewRaw(`UPDATE conversations SET updated_at = ?, last_activity_at = CASE WHEN last_activity_at < ? THEN ? ELSE last_activity_at END
			WHERE id = ?`, now, now, now, conv.ID).Exec(ctx)
		return err
	})
	var pe *PolicyError
	var ce *channel.ContentError
	if errors.As(err, &pe) || errors.As(err, &ce) || errors.Is(err, ErrHumanOwned) || errors.Is(err, ErrRestricted) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("inbox: reply: %w", err)
	}
	s.Notify(Effects{Sends: len(out) - len(fast), direct: fast,
		changes: []Change{{Kind: ChangeMessage, WorkspaceID: workspaceID, ConversationID: conv.ID, ContactID: conv.ContactID}}}.Add(eff))
	return out, nil
}

// agentReplied applies a member's reply to conv inside tx: activity moves,
// the member is assigned when nobody is, people own the conversation
// (agent_reply) and the silence timer restarts.
func (s *Service) agentReplied(ctx context.Context, tx bun.Tx, conv Conversation, a Author, now time.Time, eff *Effects) error {
	var r convRow
	if err := tx.NewRaw(`UPDATE conversations SET updated_at = ?, last_activity_at = CASE WHEN last_activity_at < ? THEN ? ELSE last_activity_at END
		WHERE id = ? RETURNING `+convCols, now, now, now, conv.ID).Scan(ctx, r.dest()...); err != nil {
		return db.NoRows(err)
	}
	conv = r.conversation()
	actor := "system"
	if a.ID != "" && a.ID != a.Actor.APIKeyID { // an API key is nobody to assign
		actor = "user:" + a.ID
	} else if a.Actor.APIKeyID != "" {
		actor = "api_key:" + a.Actor.APIKeyID
	}
	var err error
	if a.ID != "" && a.ID != a.Actor.APIKeyID && conv.AssigneeID == "" {
		if conv, err = s.setAssignee(ctx, tx, conv, a.ID, actor, "agent_reply", now); err != nil {
			return err
		}
		eff.addChange(conversationChange(conv))
	}
	if conv, _, err = s.transition(ctx, tx, conv, ownerChange{to: OwnerHuman, reason: ReasonAgentReply, actor: actor}, now, eff); err != nil {
		return err
	}
	return s.humanWrote(ctx, tx, conv, now, now, eff)
}

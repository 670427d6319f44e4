package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/timeline"
)

// Reason is why a conversation's owner changes: every change names one,
// and each reason allows only some changes (transitions). The reason is
// kept on the timeline ({"from","to","reason"}).
type Reason string

// Reasons of owner changes.
const (
	// ReasonAgentReply: a member replied through Parley (Reply with
	// SenderAgent).
	ReasonAgentReply Reason = "agent_reply"
	// ReasonTakeover: a member took the conversation over by hand.
	ReasonTakeover Reason = "takeover"
	// ReasonPageEcho: someone answered outside Parley (Meta's Page inbox,
	// another app): the echo of a message Parley did not send.
	ReasonPageEcho Reason = "page_echo"
	// ReasonHandover: the platform's thread control moved (Messenger's
	// handover protocol), to another app or back to Parley.
	ReasonHandover Reason = "handover"
	// ReasonHandoff: a flow or the AI agent handed over to people.
	ReasonHandoff Reason = "handoff"
	// ReasonAssign: a member was assigned: people answer now.
	ReasonAssign Reason = "assign"
	// ReasonReturnToBot: a member handed it back to the bot by hand.
	ReasonReturnToBot Reason = "return_to_bot"
	// ReasonSilenceTimeout: nobody on the team wrote for the workspace's
	// Settings.ReturnToBotAfter: the bot answers again.
	ReasonSilenceTimeout Reason = "silence_timeout"
	// ReasonToAI: a member gave it to the AI agent.
	ReasonToAI Reason = "to_ai"
	// ReasonRelease: a member left it to nobody (no automatic replies, no
	// person).
	ReasonRelease Reason = "release"
)

// transitions lists, per reason, the owner it leads to and the owners it
// may leave. A change not listed is refused (ErrInvalid): the state machine
// of ownership is this table.
var transitions = map[Reason]struct {
	to   Owner
	from []Owner
}{
	ReasonAgentReply:     {OwnerHuman, []Owner{OwnerBot, OwnerAI, OwnerNobody}},
	ReasonTakeover:       {OwnerHuman, []Owner{OwnerBot, OwnerAI, OwnerNobody}},
	ReasonPageEcho:       {OwnerHuman, []Owner{OwnerBot, OwnerAI, OwnerNobody}},
	ReasonHandoff:        {OwnerHuman, []Owner{OwnerBot, OwnerAI}},
	ReasonAssign:         {OwnerHuman, []Owner{OwnerBot, OwnerAI, OwnerNobody}},
	ReasonReturnToBot:    {OwnerBot, []Owner{OwnerHuman, OwnerAI, OwnerNobody}},
	ReasonSilenceTimeout: {OwnerBot, []Owner{OwnerHuman}},
	ReasonToAI:           {OwnerAI, []Owner{OwnerBot, OwnerHuman, OwnerNobody}},
	ReasonRelease:        {OwnerNobody, []Owner{OwnerBot, OwnerAI, OwnerHuman}},
}

// ReasonHandover moves either way, so it is checked apart: to a human
// from anyone automated or nobody, back to the bot from a human only.
func allowed(from, to Owner, r Reason) bool {
	if r == ReasonHandover {
		return (to == OwnerHuman && from != OwnerHuman) || (to == OwnerBot && from == OwnerHuman)
	}
	t, ok := transitions[r]
	if !ok || t.to != to {
		return false
	}
	for _, f := range t.from {
		if f == from {
			return true
		}
	}
	return false
}

// reasonFor is the reason of a change a member asks for by hand
// (SetOwner), by the owner asked for.
func reasonFor(to Owner) Reason {
	switch to {
	case OwnerHuman:
		return ReasonTakeover
	case OwnerBot:
		return ReasonReturnToBot
	case OwnerAI:
		return ReasonToAI
	default:
		return ReasonRelease
	}
}

// ErrHumanOwned refuses a message from automation (a flow, the AI agent, a
// broadcast) to a conversation a person owns: nothing was stored. It is
// decided in one place, queue, which every sender goes through.
var ErrHumanOwned = errors.New("inbox: a person owns the conversation")

// ErrRestricted refuses a message from automation (a flow, the AI agent, a
// broadcast) to a contact whose data-subject rights stop it: processing
// restricted, an objection, consent withdrawn, or a minor (Options.Automation,
// package dsr). Nothing was stored. People on the team can still reply.
var ErrRestricted = errors.New("inbox: the contact's privacy settings stop automated messages")

// ownerChange is one change of owner to apply (transition).
type ownerChange struct {
	to     Owner
	reason Reason
	actor  string    // timeline actor: "user:<id>", "flow:<id>", "page", "system", …
	at     time.Time // when it happened (activity moves to it)
	team   string    // the team a handoff asks for ("": keep)
}

// transition moves conv to c.to for c.reason inside tx, records it on the
// timeline and, when people take over with nobody assigned after a
// handoff, picks an assignee (Options.Teams). It returns the conversation
// as it now is and whether anything changed; a change the state machine
// does not allow is ErrInvalid. Changing to the current owner changes
// nothing.
func (s *Service) transition(ctx context.Context, tx bun.Tx, conv Conversation, c ownerChange, now time.Time, eff *Effects) (Conversation, bool, error) {
	if !c.to.valid() {
		return conv, false, fmt.Errorf("%w: unknown owner %q", ErrInvalid, c.to)
	}
	if conv.Owner == c.to {
		return conv, false, nil
	}
	if !allowed(conv.Owner, c.to, c.reason) {
		return conv, false, fmt.Errorf("%w: owner cannot change from %s to %s by %s", ErrInvalid, conv.Owner, c.to, c.reason)
	}
	from := conv.Owner
	at := c.at
	if at.IsZero() {
		at = now
	}
	next, err := setOwner(ctx, tx, conv, c.to, at, now)
	if err != nil {
		return conv, false, err
	}
	if err := s.record(ctx, tx, next, timeline.KindOwner, c.actor, map[string]string{
		"from": string(from), "to": string(c.to), "reason": string(c.reason)}, now); err != nil {
		return conv, false, err
	}
	if c.to == OwnerHuman {
		// Taking over restarts the silence: an older return-to-bot job
		// (from before a hand-back) must not undo a fresh takeover.
		if err := s.humanWrote(ctx, tx, next, at, now, eff); err != nil {
			return conv, false, err
		}
	}
	switch {
	case c.to == OwnerHuman && conv.Status == StatusPending:
		// Pending means automation handles it; now people must.
		if next, err = s.setStatus(ctx, tx, next, StatusOpen, time.Time{}, c.actor, now); err != nil {
			return conv, false, err
		}
	case c.to.automated() && next.Status == StatusOpen:
		// Handed back to the bot or the AI agent: nobody needs to look
		// until automation gives up or hands it over again.
		if next, err = s.setStatus(ctx, tx, next, StatusPending, time.Time{}, c.actor, now); err != nil {
			return conv, false, err
		}
	}
	if c.reason == ReasonHandoff {
		if c.team != "" && c.team != next.TeamID {
			if next, err = s.handoffTeam(ctx, tx, next, c.team, c.actor, now); err != nil {
				return conv, false, err
			}
		}
		if next.AssigneeID == "" {
			if next, err = s.autoAssign(ctx, tx, next, next.TeamID, now); err != nil {
				return conv, false, err
			}
		}
	}
	eff.addChange(conversationChange(next))
	return next, true, nil
}

// conversationChange is the Change of conv's owner, status or assignment.
func conversationChange(c Conversation) Change {
	return Change{Kind: ChangeConversation, WorkspaceID: c.WorkspaceID, ConversationID: c.ID, ContactID: c.ContactID}
}

// SetOwner hands the conversation to owner by hand: a member taking it over
// (human), handing it back to the bot, giving it to the AI agent or to
// nobody. The change must be one the state machine allows for that
// (takeover, return_to_bot, to_ai, release); it is audited
// (conversation.owner) and recorded on the timeline. Handing it to a human
// stops every automated sender; handing it back resumes them.
func (s *Service) SetOwner(ctx context.Context, a audit.Actor, workspaceID, conversationID string, owner Owner) error {
	if !owner.valid() {
		return fmt.Errorf("inbox: set owner: %w: unknown owner %q", ErrInvalid, owner)
	}
	return s.ownerByHand(ctx, a, workspaceID, conversationID, owner, reasonFor(owner))
}

// ReturnToBot hands a conversation people own back to the bot: flows and
// automatic replies answer again. Audited and on the timeline
// (return_to_bot).
func (s *Service) ReturnToBot(ctx context.Context, a audit.Actor, workspaceID, conversationID string) error {
	return s.ownerByHand(ctx, a, workspaceID, conversationID, OwnerBot, ReasonReturnToBot)
}

func (s *Service) ownerByHand(ctx context.Context, a audit.Actor, workspaceID, conversationID string, owner Owner, r Reason) error {
	var eff Effects
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		conv, err := s.LockConversation(ctx, tx, workspaceID, conversationID)
		if err != nil {
			return err
		}
		now := s.now()
		_, changed, err := s.transition(ctx, tx, conv, ownerChange{to: owner, reason: r, actor: actorOf(a)}, now, &eff)
		if err != nil || !changed {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionOwner, "conversation", conversationID,
			map[string]string{"owner": string(owner), "reason": string(r)})
	})
	if err != nil {
		return fmt.Errorf("inbox: set owner: %w", err)
	}
	s.Notify(eff)
	return nil
}

// actorOf is the timeline and By form of an audit actor: the member, else
// the API key, else the system.
func actorOf(a audit.Actor) string {
	switch {
	case a.UserID != "":
		return "user:" + a.UserID
	case a.APIKeyID != "":
		return "api_key:" + a.APIKeyID
	default:
		return "system"
	}
}

// KindReturnToBot hands a conversation back to the bot once people have
// been silent for the workspace's Settings.ReturnToBotAfter (on
// Options.Jobs). Its payload is IDs only; it acts only if the conversation
// is still human-owned and nobody on the team wrote since (stale check),
// so every message a person sends may schedule one and only the last acts.
const KindReturnToBot = "inbox.return_to_bot"

// humanWrote notes that a person wrote to conv at at (through Parley or the
// Page inbox): the silence timer restarts, and with the workspace's
// ReturnToBotAfter set, a job is scheduled to hand it back then.
func (s *Service) humanWrote(ctx context.Context, tx bun.Tx, conv Conversation, at, now time.Time, eff *Effects) error {
	if _, err := tx.NewRaw(`UPDATE conversations SET human_at = ?, updated_at = ? WHERE id = ? AND (human_at IS NULL OR human_at < ?)`,
		at, now, conv.ID, at).Exec(ctx); err != nil {
		return fmt.Errorf("note human reply: %w", err)
	}
	if s.opt.Jobs == nil {
		return nil
	}
	set, err := settingsOf(ctx, tx, conv.WorkspaceID)
	if err != nil || set.ReturnToBotAfter <= 0 {
		return err
	}
	if _, err := s.opt.Jobs.Enqueue(ctx, tx, KindReturnToBot, idJob{WS: conv.WorkspaceID, ID: conv.ID},
		job.RunAt(at.Add(set.ReturnToBotAfter))); err != nil {
		return fmt.Errorf("schedule return to bot: %w", err)
	}
	eff.Jobs++
	return nil
}

// handleReturnToBot runs a KindReturnToBot job.
func (s *Service) handleReturnToBot(ctx context.Context, j *job.Job) error {
	var p idJob
	if err := j.Decode(&p); err != nil {
		return err
	}
	return s.returnAfterSilence(ctx, p)
}

// returnAfterSilence hands p's conversation back to the bot if it is still
// human-owned and silent for the workspace's ReturnToBotAfter; otherwise
// (taken back already, a newer message, the setting turned off) it does
// nothing: the job is stale.
func (s *Service) returnAfterSilence(ctx context.Context, p idJob) error {
	var eff Effects
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		conv, err := s.LockConversation(ctx, tx, p.WS, p.ID)
		if errors.Is(err, db.ErrNotFound) {
			return nil // erased meanwhile
		}
		if err != nil {
			return err
		}
		set, err := settingsOf(ctx, tx, p.WS)
		if err != nil {
			return err
		}
		now := s.now()
		if conv.Owner != OwnerHuman || set.ReturnToBotAfter <= 0 || conv.HumanAt.IsZero() ||
			now.Before(conv.HumanAt.Add(set.ReturnToBotAfter)) {
			return nil
		}
		_, _, err = s.transition(ctx, tx, conv, ownerChange{to: OwnerBot, reason: ReasonSilenceTimeout, actor: "system"}, now, &eff)
		return err
	})
	if err != nil {
		return fmt.Errorf("inbox: return to bot: %w", err)
	}
	s.Notify(eff)
	return nil
}

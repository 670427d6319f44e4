package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/timeline"
)

// ErrNotAutomated is Automate's answer when the conversation is not the
// bot's or the AI agent's: a person (or nobody) owns it, so automation
// must stay quiet. Nothing was changed.
var ErrNotAutomated = errors.New("inbox: conversation is not automated")

// LockConversation reads the workspace's conversation inside tx and, on
// PostgreSQL, locks its row until tx ends. Ingest takes the same lock
// (it updates the row) before a Responder runs, so work that an automation
// job does to a conversation (a delay ending, an HTTP answer arriving) is
// ordered with the person's own messages: never both at once. SQLite has
// one writer, which orders them already. db.ErrNotFound when there is no
// such conversation.
func (s *Service) LockConversation(ctx context.Context, tx bun.Tx, workspaceID, id string) (Conversation, error) {
	c, err := s.lockConversation(ctx, tx, workspaceID, id)
	if err != nil {
		return Conversation{}, fmt.Errorf("inbox: lock conversation: %w", err)
	}
	return c, nil
}

// lockConversation is LockConversation without the package's error
// prefix, for the Service's own transactions.
func (s *Service) lockConversation(ctx context.Context, tx bun.Tx, workspaceID, id string) (Conversation, error) {
	q := `SELECT ` + convCols + ` FROM conversations WHERE workspace_id = ? AND id = ?`
	if s.d.Dialect == db.Postgres {
		q += ` FOR UPDATE`
	}
	var r convRow
	if err := tx.NewRaw(q, workspaceID, id).Scan(ctx, r.dest()...); err != nil {
		return Conversation{}, db.NoRows(err)
	}
	return r.conversation(), nil
}

// Automate applies what automation decided outside an inbound event (a
// flow resumed by a job) to the workspace's conversation, inside tx: the
// replies go through the messaging policy and the platform adapter like
// every other message (a refused one is logged and skipped, never an
// error), then the handoff and the resolve apply, audited. It re-reads the
// conversation in tx and returns ErrNotAutomated, changing nothing,
// unless the bot or the AI agent owns it: automation never speaks while a
// person has the conversation. a is the author of the replies (a flow or
// the AI agent). Call Notify with the Effects once tx has committed.
func (s *Service) Automate(ctx context.Context, tx bun.Tx, workspaceID, conversationID string, a Author, r Response) (Effects, error) {
	if a.Type != SenderFlow && a.Type != SenderAI {
		return Effects{}, fmt.Errorf("inbox: automate: %w: %q is not automation", ErrInvalid, a.Type)
	}
	// Locked (on PostgreSQL): a takeover committing between this read and
	// the commit of tx would otherwise not be seen, and the replies would
	// be queued to a conversation a person owns.
	conv, err := s.lockConversation(ctx, tx, workspaceID, conversationID)
	if err != nil {
		return Effects{}, fmt.Errorf("inbox: automate: %w", err)
	}
	if !conv.Owner.automated() {
		return Effects{}, ErrNotAutomated
	}
	ch, err := s.opt.Channels.GetTx(ctx, tx, workspaceID, conv.ChannelID)
	if err != nil {
		return Effects{}, fmt.Errorf("inbox: automate: %w", err)
	}
	// The platform ID the direct path sends to; a contact erased a moment
	// ago has none, and its replies take the job path, which gives up.
	to, err := s.opt.Contacts.ExternalIDOn(ctx, tx, workspaceID, conv.ContactID, conv.ChannelID)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return Effects{}, fmt.Errorf("inbox: automate: %w", err)
	}
	var eff Effects
	if err := s.automate(ctx, tx, ch, conv, to, a, r, s.now(), &eff); err != nil {
		return Effects{}, fmt.Errorf("inbox: automate: %w", err)
	}
	return eff, nil
}

// automate applies r to conv: replies, handoff, resolve, in that order.
// The caller has checked that automation owns conv.
func (s *Service) automate(ctx context.Context, tx bun.Tx, ch channel.Channel, conv Conversation, to string, a Author, r Response, now time.Time, eff *Effects) error {
	if a.ID == "" {
		a.ID = r.FlowID
	}
	answered := r.Jobs > 0 // a flow waiting on a delay or a request is still at work
	for _, c := range r.Replies {
		msgs, fast, err := s.queue(ctx, tx, ch, conv, "", to, a, c, now)
		var pe *PolicyError
		var ce *channel.ContentError
		switch {
		case errors.As(err, &pe):
			s.log.Warn("automatic reply refused by the messaging policy", "conversation", conv.ID, "reason", pe.Decision.Reason)
		case errors.As(err, &ce):
			s.log.Warn("automatic reply refused by the platform adapter", "conversation", conv.ID, "field", ce.Field)
		case errors.Is(err, ErrHumanOwned):
			s.log.Info("automatic reply refused: a person owns the conversation", "conversation", conv.ID)
		case errors.Is(err, ErrRestricted):
			s.log.Info("automatic reply refused: the contact's privacy settings stop automation", "conversation", conv.ID)
		case err != nil:
			return err
		}
		eff.Sends += len(msgs) - len(fast)
		eff.direct = append(eff.direct, fast...)
		if len(msgs) > 0 {
			answered = true
			eff.addChange(Change{Kind: ChangeMessage, WorkspaceID: conv.WorkspaceID, ConversationID: conv.ID, ContactID: conv.ContactID})
		}
	}
	eff.Jobs += r.Jobs
	by := string(a.Type)
	if a.ID != "" {
		by += ":" + a.ID
	}
	actor := automationActor(a)
	if r.Handoff && conv.Owner != OwnerHuman {
		var err error
		var changed bool
		if conv, changed, err = s.transition(ctx, tx, conv, ownerChange{to: OwnerHuman, reason: ReasonHandoff, actor: actor, team: r.Team}, now, eff); err != nil {
			return err
		}
		if changed {
			if err := s.record(ctx, tx, conv, timeline.KindHandoff, actor, handoffData(r.Team), now); err != nil {
				return err
			}
			details := map[string]string{"owner": string(OwnerHuman), "by": by}
			if r.Team != "" {
				details["team"] = r.Team
			}
			if err := audit.Record(ctx, tx, now, conv.WorkspaceID, audit.Actor{}, ActionOwner, "conversation", conv.ID, details); err != nil {
				return err
			}
		}
	}
	if r.Resolve && conv.Status != StatusResolved {
		var err error
		if conv, err = s.setStatus(ctx, tx, conv, StatusResolved, time.Time{}, actor, now); err != nil {
			return fmt.Errorf("resolve conversation: %w", err)
		}
		if err := audit.Record(ctx, tx, now, conv.WorkspaceID, audit.Actor{}, ActionStatus, "conversation", conv.ID,
			map[string]string{"status": string(StatusResolved), "by": by}); err != nil {
			return err
		}
		eff.addChange(conversationChange(conv))
	}
	if answered && conv.Owner.automated() && conv.Status == StatusOpen {
		// Automation answered and still has the conversation: it is
		// pending, the inbox's "Bot" list, until it hands over or gives up.
		var err error
		if conv, err = s.setStatus(ctx, tx, conv, StatusPending, time.Time{}, actor, now); err != nil {
			return fmt.Errorf("mark pending: %w", err)
		}
		eff.addChange(conversationChange(conv))
	}
	return nil
}

// unanswered opens a pending conversation whose automation had nothing to
// say to the person's message (no flow matched, the flow ended): a person
// must look now. It is called only for messages and postbacks, so reads
// and reactions leave the status alone.
func (s *Service) unanswered(ctx context.Context, tx bun.Tx, conv Conversation, now time.Time, eff *Effects) error {
	if conv.Status != StatusPending || !conv.Owner.automated() {
		return nil
	}
	conv, err := s.setStatus(ctx, tx, conv, StatusOpen, time.Time{}, "system", now)
	if err != nil {
		return fmt.Errorf("open unanswered conversation: %w", err)
	}
	eff.addChange(conversationChange(conv))
	return nil
}

// automationActor is the timeline actor of automation's author a: the AI
// agent, the flow, or the system for the channel's fixed automatic reply.
func automationActor(a Author) string {
	switch {
	case a.Type == SenderAI:
		return "ai"
	case a.Type == SenderFlow && a.ID != "":
		return "flow:" + a.ID
	default:
		return "system"
	}
}

// handoffData is the timeline data of a handoff: the team asked for.
func handoffData(team string) map[string]string {
	if team == "" {
		return nil
	}
	return map[string]string{"team": team}
}

package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/timeline"
)

// Teams is what the inbox needs of teams (package team's Store implements
// it; the app wires it in as Options.Teams).
type Teams interface {
	// Pick chooses the member to assign a conversation of teamID ("": the
	// whole workspace's agents) inside tx: "" and nil error when nobody can
	// take it now.
	Pick(ctx context.Context, tx bun.Tx, workspaceID, teamID string) (string, error)
	// Has reports whether the workspace has the team.
	Has(ctx context.Context, idb bun.IDB, workspaceID, teamID string) (bool, error)
	// AutoAssign reports whether conversations of teamID ("": of the
	// workspace as a whole) get an assignee automatically. The switch
	// lives with the teams (one place for people to set it), so the inbox
	// asks instead of keeping its own.
	AutoAssign(ctx context.Context, idb bun.IDB, workspaceID, teamID string) (bool, error)
}

// Audit actions of assignment.
const (
	ActionAssign = "conversation.assign"
	ActionTeam   = "conversation.team"
)

// Assign gives the conversation to a member (userID), or to nobody (""),
// audited and on the timeline. The member must be the workspace's owner,
// an admin or an agent (table members, read here): a viewer or a
// non-member is ErrInvalid. Assigning a member while automation or nobody
// owns the conversation hands it to people (reason assign).
func (s *Service) Assign(ctx context.Context, a audit.Actor, workspaceID, conversationID, userID string) error {
	var eff Effects
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		conv, err := s.lockConversation(ctx, tx, workspaceID, conversationID)
		if err != nil {
			return err
		}
		if userID != "" {
			if err := canBeAssigned(ctx, tx, workspaceID, userID); err != nil {
				return err
			}
		}
		if conv.AssigneeID == userID {
			return nil
		}
		now := s.now()
		actor := actorOf(a)
		if conv, err = s.setAssignee(ctx, tx, conv, userID, actor, "", now); err != nil {
			return err
		}
		if userID != "" && conv.Owner != OwnerHuman {
			if conv, _, err = s.transition(ctx, tx, conv, ownerChange{to: OwnerHuman, reason: ReasonAssign, actor: actor}, now, &eff); err != nil {
				return err
			}
		}
		eff.addChange(conversationChange(conv))
		return audit.Record(ctx, tx, now, workspaceID, a, ActionAssign, "conversation", conversationID,
			map[string]string{"assignee": userID})
	})
	if err != nil {
		return fmt.Errorf("inbox: assign: %w", err)
	}
	s.Notify(eff)
	return nil
}

// canBeAssigned checks that userID is a member of the workspace who may
// answer conversations: owner, admin or agent, never a viewer. It reads
// package workspace's members table (read only).
func canBeAssigned(ctx context.Context, idb bun.IDB, workspaceID, userID string) error {
	var role string
	err := idb.NewRaw(`SELECT role FROM members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID).Scan(ctx, &role)
	if errors.Is(db.NoRows(err), db.ErrNotFound) {
		return fmt.Errorf("%w: the assignee is not a member of the workspace", ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("read member: %w", err)
	}
	if role != "owner" && role != "admin" && role != "agent" {
		return fmt.Errorf("%w: a %s cannot be assigned conversations", ErrInvalid, role)
	}
	return nil
}

// setAssignee sets conv's assignee inside tx and records it on the
// timeline ({"from","to"} user IDs, and reason "auto" when Teams picked).
func (s *Service) setAssignee(ctx context.Context, tx bun.Tx, conv Conversation, userID, actor, reason string, now time.Time) (Conversation, error) {
	var r convRow
	if err := tx.NewRaw(`UPDATE conversations SET assignee_id = ?, updated_at = ? WHERE id = ? RETURNING `+convCols,
		nullable(userID), now, conv.ID).Scan(ctx, r.dest()...); err != nil {
		return conv, fmt.Errorf("set assignee: %w", db.NoRows(err))
	}
	data := map[string]string{"from": conv.AssigneeID, "to": userID}
	if reason != "" {
		data["reason"] = reason
	}
	next := r.conversation()
	if err := s.record(ctx, tx, next, timeline.KindAssignment, actor, data, now); err != nil {
		return conv, err
	}
	return next, nil
}

// SetTeam moves the conversation to a team of the workspace (teamID), or
// out of any (""), audited and on the timeline. An unknown team (or no
// Options.Teams) is ErrInvalid. A human-owned conversation without an
// assignee then gets one from the team when someone can take it.
func (s *Service) SetTeam(ctx context.Context, a audit.Actor, workspaceID, conversationID, teamID string) error {
	var eff Effects
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		conv, err := s.lockConversation(ctx, tx, workspaceID, conversationID)
		if err != nil {
			return err
		}
		// Unchanged first: Has below locks the team's row (PostgreSQL) while
		// this transaction holds the conversation's, and a DeleteTeam of
		// the conversation's current team locks them the other way round
		// (team row, then its conversations in ClearTeam). Asking only
		// about a different team keeps the two from waiting on each other.
		if conv.TeamID == teamID {
			return nil
		}
		if teamID != "" {
			ok := false
			if s.opt.Teams != nil {
				// Has holds the team until this transaction ends, so a
				// concurrent delete cannot clear the team's conversations
				// before this one joins them.
				if ok, err = s.opt.Teams.Has(ctx, tx, workspaceID, teamID); err != nil {
					return fmt.Errorf("find team: %w", err)
				}
			}
			if !ok {
				return fmt.Errorf("%w: no such team", ErrInvalid)
			}
		}
		now := s.now()
		if conv, err = s.setTeam(ctx, tx, conv, teamID, actorOf(a), now); err != nil {
			return err
		}
		if conv.Owner == OwnerHuman && conv.AssigneeID == "" {
			if conv, err = s.autoAssign(ctx, tx, conv, teamID, now); err != nil {
				return err
			}
		}
		eff.addChange(conversationChange(conv))
		return audit.Record(ctx, tx, now, workspaceID, a, ActionTeam, "conversation", conversationID,
			map[string]string{"team": teamID})
	})
	if err != nil {
		return fmt.Errorf("inbox: set team: %w", err)
	}
	s.Notify(eff)
	return nil
}

// setTeam sets conv's team inside tx and records it on the timeline.
func (s *Service) setTeam(ctx context.Context, tx bun.Tx, conv Conversation, teamID, actor string, now time.Time) (Conversation, error) {
	var r convRow
	if err := tx.NewRaw(`UPDATE conversations SET team_id = ?, updated_at = ? WHERE id = ? RETURNING `+convCols,
		nullable(teamID), now, conv.ID).Scan(ctx, r.dest()...); err != nil {
		return conv, fmt.Errorf("set team: %w", db.NoRows(err))
	}
	next := r.conversation()
	if err := s.record(ctx, tx, next, timeline.KindTeam, actor, map[string]string{"from": conv.TeamID, "to": teamID}, now); err != nil {
		return conv, err
	}
	return next, nil
}

// handoffTeam moves a conversation automation hands off to the team it
// asks for, when the workspace has it; an unknown team is logged and
// skipped (a flow naming a deleted team must still hand off).
func (s *Service) handoffTeam(ctx context.Context, tx bun.Tx, conv Conversation, teamID, actor string, now time.Time) (Conversation, error) {
	if s.opt.Teams == nil {
		return conv, nil
	}
	ok, err := s.opt.Teams.Has(ctx, tx, conv.WorkspaceID, teamID)
	if err != nil {
		return conv, fmt.Errorf("find team: %w", err)
	}
	if !ok {
		s.log.Warn("handoff to an unknown team", "conversation", conv.ID, "team", teamID)
		return conv, nil
	}
	return s.setTeam(ctx, tx, conv, teamID, actor, now)
}

// autoAssign asks Options.Teams for an assignee of conv among teamID's
// members ("" for the workspace's) and assigns them inside tx, when that
// team (or the workspace) assigns automatically; nobody available leaves
// it unassigned.
func (s *Service) autoAssign(ctx context.Context, tx bun.Tx, conv Conversation, teamID string, now time.Time) (Conversation, error) {
	if s.opt.Teams == nil || conv.AssigneeID != "" {
		return conv, nil
	}
	on, err := s.opt.Teams.AutoAssign(ctx, tx, conv.WorkspaceID, teamID)
	if err != nil || !on {
		return conv, err
	}
	userID, err := s.opt.Teams.Pick(ctx, tx, conv.WorkspaceID, teamID)
	if err != nil {
		return conv, fmt.Errorf("pick assignee: %w", err)
	}
	if userID == "" {
		return conv, nil
	}
	return s.setAssignee(ctx, tx, conv, userID, "system", "auto", now)
}

// ClearTeam takes a team being deleted off the workspace's conversations,
// inside the deleting transaction (package team calls it through its
// Options.TeamDeleted, wired by the app), each change on the timeline. The
// conversations keep their owner and assignee: they only leave the team's
// queue.
func (s *Service) ClearTeam(ctx context.Context, tx bun.Tx, workspaceID, teamID string) error {
	var rows []convRow
	if err := tx.NewRaw(`SELECT `+convCols+` FROM conversations WHERE workspace_id = ? AND team_id = ?`,
		workspaceID, teamID).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("inbox: clear team: %w", err)
	}
	now := s.now()
	for i := range rows {
		if _, err := s.setTeam(ctx, tx, rows[i].conversation(), "", "system", now); err != nil {
			return fmt.Errorf("inbox: clear team: %w", err)
		}
	}
	return nil
}

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

// KindWake wakes a snoozed conversation when its snooze ends (on
// Options.Jobs). Its payload is IDs only; it acts only if the conversation
// is still snoozed and its SnoozedUntil has come (stale check), so a
// conversation snoozed again, woken by a message or reopened by hand is
// left alone.
const KindWake = "inbox.wake"

// MaxSnooze bounds how far ahead a conversation can be snoozed.
const MaxSnooze = 366 * 24 * time.Hour

// SetStatus sets the conversation's status by hand: open, pending or
// resolved (snoozing takes a time: Snooze). Audited (conversation.status)
// and recorded on the timeline; setting the current status changes
// nothing.
func (s *Service) SetStatus(ctx context.Context, a audit.Actor, workspaceID, conversationID string, status Status) error {
	if !status.Valid() || status == StatusSnoozed {
		return fmt.Errorf("inbox: set status: %w: status must be open, pending or resolved, not %q", ErrInvalid, status)
	}
	return s.statusByHand(ctx, a, workspaceID, conversationID, status, time.Time{})
}

// Resolve marks the conversation resolved (a new message from the person
// reopens it).
func (s *Service) Resolve(ctx context.Context, a audit.Actor, workspaceID, conversationID string) error {
	return s.SetStatus(ctx, a, workspaceID, conversationID, StatusResolved)
}

// Reopen marks a resolved, pending or snoozed conversation open.
func (s *Service) Reopen(ctx context.Context, a audit.Actor, workspaceID, conversationID string) error {
	return s.SetStatus(ctx, a, workspaceID, conversationID, StatusOpen)
}

// Snooze hides the conversation until until: it wakes (open) then, or
// sooner when the person writes. until must be in the future and within
// MaxSnooze (ErrInvalid). A durable KindWake job does the waking.
func (s *Service) Snooze(ctx context.Context, a audit.Actor, workspaceID, conversationID string, until time.Time) error {
	until = until.UTC().Truncate(time.Microsecond)
	now := s.now()
	if !until.After(now) || until.Sub(now) > MaxSnooze {
		return fmt.Errorf("inbox: snooze: %w: snooze until a time in the future, within a year", ErrInvalid)
	}
	return s.statusByHand(ctx, a, workspaceID, conversationID, StatusSnoozed, until)
}

func (s *Service) statusByHand(ctx context.Context, a audit.Actor, workspaceID, conversationID string, status Status, until time.Time) error {
	var eff Effects
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		conv, err := s.LockConversation(ctx, tx, workspaceID, conversationID)
		if err != nil {
			return err
		}
		if conv.Status == status && conv.SnoozedUntil.Equal(until) {
			return nil
		}
		now := s.now()
		if conv, err = s.setStatus(ctx, tx, conv, status, until, actorOf(a), now); err != nil {
			return err
		}
		details := map[string]string{"status": string(status)}
		if status == StatusSnoozed {
			details["until"] = until.Format(time.RFC3339)
			if s.opt.Jobs != nil {
				if _, err := s.opt.Jobs.Enqueue(ctx, tx, KindWake, idJob{WS: workspaceID, ID: conversationID}, job.RunAt(until)); err != nil {
					return fmt.Errorf("schedule wake-up: %w", err)
				}
				eff.Jobs++
			}
		}
		eff.addChange(conversationChange(conv))
		return audit.Record(ctx, tx, now, workspaceID, a, ActionStatus, "conversation", conversationID, details)
	})
	if err != nil {
		return fmt.Errorf("inbox: set status: %w", err)
	}
	s.Notify(eff)
	return nil
}

// setStatus moves conv to status inside tx (until is the end of a snooze,
// ignored otherwise) and records it on the timeline: a snooze as "snooze",
// everything else, waking included, as "status" {"from","to"}.
func (s *Service) setStatus(ctx context.Context, tx bun.Tx, conv Conversation, status Status, until time.Time, actor string, now time.Time) (Conversation, error) {
	if status != StatusSnoozed {
		until = time.Time{}
	}
	var r convRow
	if err := tx.NewRaw(`UPDATE conversations SET status = ?, snoozed_until = ?, updated_at = ? WHERE id = ? RETURNING `+convCols,
		string(status), nullTime(until), now, conv.ID).Scan(ctx, r.dest()...); err != nil {
		return conv, fmt.Errorf("set status: %w", db.NoRows(err))
	}
	next := r.conversation()
	kind, data := timeline.KindStatus, map[string]string{"from": string(conv.Status), "to": string(status)}
	if status == StatusSnoozed {
		kind, data = timeline.KindSnooze, map[string]string{"until": until.Format(time.RFC3339)}
	}
	if err := s.record(ctx, tx, next, kind, actor, data, now); err != nil {
		return conv, err
	}
	return next, nil
}

// handleWake runs a KindWake job.
func (s *Service) handleWake(ctx context.Context, j *job.Job) error {
	var p idJob
	if err := j.Decode(&p); err != nil {
		return err
	}
	return s.wake(ctx, p)
}

// wake opens p's conversation if it is still snoozed and its time has
// come; a stale job (woken, reopened or snoozed again meanwhile) does
// nothing.
func (s *Service) wake(ctx context.Context, p idJob) error {
	var eff Effects
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		conv, err := s.LockConversation(ctx, tx, p.WS, p.ID)
		if errors.Is(err, db.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		if conv.Status != StatusSnoozed || conv.SnoozedUntil.After(now) {
			return nil
		}
		if conv, err = s.setStatus(ctx, tx, conv, StatusOpen, time.Time{}, "system", now); err != nil {
			return err
		}
		eff.addChange(conversationChange(conv))
		return nil
	})
	if err != nil {
		return fmt.Errorf("inbox: wake: %w", err)
	}
	s.Notify(eff)
	return nil
}

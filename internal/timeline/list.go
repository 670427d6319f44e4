package timeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// Entry is an event as the timeline shows it; Note is set for KindNote.
type Entry struct {
	Event
	Note *Note `json:"note,omitempty"`
}

// DefaultPage and MaxPage bound List's n.
const (
	DefaultPage = 50
	MaxPage     = 200
)

// pageSize is n bounded: DefaultPage when n ≤ 0, MaxPage at most.
func pageSize(n int) int {
	if n <= 0 {
		return DefaultPage
	}
	return min(n, MaxPage)
}

const eventCols = `e.id, e.workspace_id, e.conversation_id, e.contact_id, e.kind, e.actor, e.data, e.note, e.edited_at, e.created_at`

// eventRow is a conversation_events row as stored, the note still sealed.
type eventRow struct {
	ID             string     `bun:"id"`
	WorkspaceID    string     `bun:"workspace_id"`
	ConversationID string     `bun:"conversation_id"`
	ContactID      string     `bun:"contact_id"`
	Kind           string     `bun:"kind"`
	Actor          string     `bun:"actor"`
	Data           string     `bun:"data"`
	Note           []byte     `bun:"note"`
	EditedAt       *time.Time `bun:"edited_at"`
	CreatedAt      time.Time  `bun:"created_at"`
}

// event is r without its note.
func (r eventRow) event() Event {
	e := Event{ID: r.ID, WorkspaceID: r.WorkspaceID, ConversationID: r.ConversationID, ContactID: r.ContactID,
		Kind: Kind(r.Kind), Actor: r.Actor, At: r.CreatedAt.UTC()}
	// data is written only by record, from a map[string]string: a row
	// that does not decode is shown without its data rather than hiding
	// the whole timeline.
	if m := map[string]string{}; json.Unmarshal([]byte(r.Data), &m) == nil && len(m) > 0 {
		e.Data = m
	}
	return e
}

// List returns the workspace's conversation's events strictly between
// after and before (a zero time leaves that side open), newest first, with
// notes opened: at most n (DefaultPage when n ≤ 0, MaxPage at most), plus
// any further events at the same instant as the oldest one returned, so
// that the next page, asked with before = that instant, misses none.
// db.ErrNotFound when the workspace has no such conversation.
func (s *Store) List(ctx context.Context, workspaceID, conversationID string, after, before time.Time, n int) ([]Entry, error) {
	entries, err := s.list(ctx, workspaceID, conversationID, after, before, n)
	if err != nil {
		return nil, fmt.Errorf("timeline: list: %w", err)
	}
	return entries, nil
}

func (s *Store) list(ctx context.Context, workspaceID, conversationID string, after, before time.Time, n int) ([]Entry, error) {
	n = pageSize(n)
	if _, err := s.conversationContact(ctx, s.d.R, workspaceID, conversationID); err != nil {
		return nil, err
	}
	q := `SELECT ` + eventCols + ` FROM conversation_events e WHERE e.workspace_id = ? AND e.conversation_id = ?`
	args := []any{workspaceID, conversationID}
	if !after.IsZero() {
		q += ` AND e.created_at > ?`
		args = append(args, after.UTC())
	}
	if !before.IsZero() {
		q += ` AND e.created_at < ?`
		args = append(args, before.UTC())
	}
	var rows []eventRow
	if err := s.d.R.NewRaw(q+` ORDER BY e.created_at DESC, e.id DESC LIMIT ?`, append(args, n)...).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	if len(rows) == n {
		last := rows[len(rows)-1]
		var ties []eventRow
		if err := s.d.R.NewRaw(`SELECT `+eventCols+` FROM conversation_events e
			WHERE workspace_id = ? AND conversation_id = ? AND created_at = ? AND id < ? ORDER BY id DESC`,
			workspaceID, conversationID, last.CreatedAt, last.ID).Scan(ctx, &ties); err != nil {
			return nil, err
		}
		rows = append(rows, ties...)
	}
	return s.open(ctx, rows)
}

// open turns rows into entries, opening the notes and reading their
// mentions.
func (s *Store) open(ctx context.Context, rows []eventRow) ([]Entry, error) {
	out := make([]Entry, 0, len(rows))
	var noteIDs []string
	for _, r := range rows {
		if Kind(r.Kind) == KindNote {
			noteIDs = append(noteIDs, r.ID)
		}
	}
	mentions, err := s.mentionsOf(ctx, rows, noteIDs)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		en := Entry{Event: r.event()}
		if en.Kind == KindNote {
			note := &Note{AuthorID: authorID(r.Actor), Mentions: mentions[r.ID]}
			if note.Mentions == nil {
				note.Mentions = []string{}
			}
			if r.EditedAt != nil {
				note.EditedAt = r.EditedAt.UTC()
			}
			pt, err := s.kr.OpenContact(ctx, noteAAD(r.WorkspaceID, r.ID), r.ContactID, r.Note)
			switch {
			case errors.Is(err, keyring.ErrKeyDestroyed):
				note.Erased = true
			case err != nil:
				return nil, fmt.Errorf("open note %s: %w", r.ID, err)
			default:
				note.Text = string(pt)
			}
			en.Note = note
		}
		out = append(out, en)
	}
	return out, nil
}

// mentionsOf returns the mentioned user IDs of each note, in ID order.
func (s *Store) mentionsOf(ctx context.Context, rows []eventRow, noteIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(noteIDs) == 0 {
		return out, nil
	}
	ws := rows[0].WorkspaceID
	err := db.InLists(noteIDs, func(list []any) error {
		var ms []struct {
			EventID string `bun:"event_id"`
			UserID  string `bun:"user_id"`
		}
		if err := s.d.R.NewRaw(`SELECT DISTINCT event_id, user_id FROM conversation_mentions
			WHERE workspace_id = ? AND event_id IN (`+db.Placeholders(len(list))+`) ORDER BY event_id, user_id`,
			append([]any{ws}, list...)...).Scan(ctx, &ms); err != nil {
			return err
		}
		for _, m := range ms {
			out[m.EventID] = append(out[m.EventID], m.UserID)
		}
		return nil
	})
	return out, err
}

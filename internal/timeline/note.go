package timeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/validate"
)

// MaxNoteRunes is the longest note, in characters.
const MaxNoteRunes = 5000

// ErrNotAuthor reports an edit of someone else's note, or a delete of it
// by someone who is not an admin.
var ErrNotAuthor = errors.New("timeline: only the note's author may do that")

// Note is the private part of a note event, opened.
type Note struct {
	// Text is the note as written, mentions in their @[Name](user:<id>)
	// form; "" when Erased.
	Text string `json:"text"`
	// Mentions are the users the note mentions who were members of the
	// workspace when it was written or last edited (and still are).
	Mentions []string `json:"mentions"`
	// AuthorID is the user (or API key) who wrote it.
	AuthorID string `json:"author_id"`
	// EditedAt is when it was last edited; zero if never.
	EditedAt time.Time `json:"edited_at,omitzero"`
	// Erased is set when the contact's key was destroyed (the person was
	// erased, P-33): the text is gone for good.
	Erased bool `json:"erased,omitempty"`
}

// noteAAD binds a sealed note to its workspace and event, so a note copied
// to another row does not open.
func noteAAD(workspaceID, eventID string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "conversation_events", Column: "note", Row: eventID}
}

// actorOf is how a person acting through the dashboard or the API is
// stored as an event's actor, and the ID compared with a note's author.
func actorOf(a audit.Actor) (string, error) {
	switch {
	case a.UserID != "":
		return "user:" + a.UserID, nil
	case a.APIKeyID != "":
		return "api_key:" + a.APIKeyID, nil
	}
	return "", fmt.Errorf("%w: no user or API key acting", ErrInvalid)
}

// authorID is the ID part of an actor string ("user:<id>" → "<id>").
func authorID(actor string) string {
	_, id, _ := strings.Cut(actor, ":")
	return id
}

// cleanNote trims text and checks it is 1..MaxNoteRunes characters of
// valid UTF-8.
func cleanNote(text string) (string, error) {
	text = strings.TrimSpace(text)
	var msg string
	switch {
	case !utf8.ValidString(text):
		msg = "The note is not valid text."
	case text == "":
		msg = "Write something first."
	case utf8.RuneCountInString(text) > MaxNoteRunes:
		msg = fmt.Sprintf("Use at most %d characters.", MaxNoteRunes)
	default:
		return text, nil
	}
	return "", fmt.Errorf("%w: %w", ErrInvalid, validate.Field("text", msg))
}

// AddNote adds a private note to the workspace's conversation, written by
// a, sealed under the conversation contact's key, and stores a mention for
// each member of the workspace it mentions. Errors: ErrInvalid wrapping a
// *validate.Error for empty, oversized or invalid text; db.ErrNotFound
// when the workspace has no such conversation. The audit log gets the
// note's ID, never its text.
func (s *Store) AddNote(ctx context.Context, a audit.Actor, workspaceID, conversationID, text string) (Entry, error) {
	var out Entry
	err := func() error {
		actor, err := actorOf(a)
		if err != nil {
			return err
		}
		if text, err = cleanNote(text); err != nil {
			return err
		}
		return s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			e := Event{WorkspaceID: workspaceID, ConversationID: conversationID, Kind: KindNote, Actor: actor}
			seal := func(e *Event) ([]byte, error) {
				return s.kr.SealContactTx(ctx, tx, noteAAD(e.WorkspaceID, e.ID), e.ContactID, []byte(text))
			}
			if err := s.record(ctx, tx, &e, seal); err != nil {
				return err
			}
			mentioned, err := s.setMentions(ctx, tx, e, text)
			if err != nil {
				return err
			}
			out = Entry{Event: e, Note: &Note{Text: text, Mentions: mentioned, AuthorID: authorID(actor)}}
			return audit.Record(ctx, tx, e.At, workspaceID, a, "note.create", "conversation_event", e.ID,
				map[string]any{"conversation_id": conversationID, "mentions": len(mentioned)})
		})
	}()
	if err != nil {
		return Entry{}, fmt.Errorf("timeline: add note: %w", err)
	}
	return out, nil
}

// EditNote replaces the text of the workspace's note eventID by text,
// written by a, its author (ErrNotAuthor otherwise), and brings its
// mentions up to date: members no longer mentioned lose the mention,
// members newly mentioned get an unread one, the others keep theirs as
// they are. Errors are those of AddNote, db.ErrNotFound for a note that is
// not the workspace's.
func (s *Store) EditNote(ctx context.Context, a audit.Actor, workspaceID, eventID, text string) (Entry, error) {
	var out Entry
	err := func() error {
		actor, err := actorOf(a)
		if err != nil {
			return err
		}
		if text, err = cleanNote(text); err != nil {
			return err
		}
		return s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			r, err := noteRow(ctx, tx, workspaceID, eventID)
			if err != nil {
				return err
			}
			if r.Actor != actor {
				return ErrNotAuthor
			}
			sealed, err := s.kr.SealContactTx(ctx, tx, noteAAD(workspaceID, eventID), r.ContactID, []byte(text))
			if err != nil {
				return err
			}
			now := s.now().UTC().Truncate(time.Microsecond)
			if err := db.OneRow(tx.NewRaw(`UPDATE conversation_events SET note = ?, edited_at = ? WHERE workspace_id = ? AND id = ?`,
				sealed, now, workspaceID, eventID).Exec(ctx)); err != nil {
				return err
			}
			e := r.event()
			mentioned, err := s.setMentions(ctx, tx, e, text)
			if err != nil {
				return err
			}
			out = Entry{Event: e, Note: &Note{Text: text, Mentions: mentioned, AuthorID: authorID(actor), EditedAt: now}}
			return audit.Record(ctx, tx, now, workspaceID, a, "note.update", "conversation_event", eventID,
				map[string]any{"conversation_id": e.ConversationID, "mentions": len(mentioned)})
		})
	}()
	if err != nil {
		return Entry{}, fmt.Errorf("timeline: edit note: %w", err)
	}
	return out, nil
}

// DeleteNote deletes the workspace's note eventID, and its mentions. Its
// author may; so may anyone the caller vouches for with asAdmin (the
// access layer passes true for the workspace's owners and admins).
// Errors: ErrNotAuthor, db.ErrNotFound for a note that is not the
// workspace's (or not a note).
func (s *Store) DeleteNote(ctx context.Context, a audit.Actor, workspaceID, eventID string, asAdmin bool) error {
	err := func() error {
		actor, err := actorOf(a)
		if err != nil {
			return err
		}
		return s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			r, err := noteRow(ctx, tx, workspaceID, eventID)
			if err != nil {
				return err
			}
			if r.Actor != actor && !asAdmin {
				return ErrNotAuthor
			}
			// Mentions go with the event (ON DELETE CASCADE).
			if err := db.OneRow(tx.NewRaw(`DELETE FROM conversation_events WHERE workspace_id = ? AND id = ? AND kind = 'note'`,
				workspaceID, eventID).Exec(ctx)); err != nil {
				return err
			}
			return audit.Record(ctx, tx, s.now(), workspaceID, a, "note.delete", "conversation_event", eventID,
				map[string]any{"conversation_id": r.ConversationID, "by_author": r.Actor == actor})
		})
	}()
	if err != nil {
		return fmt.Errorf("timeline: delete note: %w", err)
	}
	return nil
}

// GetNote returns the workspace's note eventID, opened, or db.ErrNotFound.
func (s *Store) GetNote(ctx context.Context, workspaceID, eventID string) (Entry, error) {
	r, err := noteRow(ctx, s.d.R, workspaceID, eventID)
	if err != nil {
		return Entry{}, fmt.Errorf("timeline: get note: %w", err)
	}
	entries, err := s.open(ctx, []eventRow{r})
	if err != nil {
		return Entry{}, fmt.Errorf("timeline: get note: %w", err)
	}
	return entries[0], nil
}

// noteRow reads the workspace's note eventID through idb.
func noteRow(ctx context.Context, idb bun.IDB, workspaceID, eventID string) (eventRow, error) {
	var r eventRow
	err := idb.NewRaw(`SELECT `+eventCols+` FROM conversation_events e WHERE e.workspace_id = ? AND e.id = ? AND e.kind = 'note'`,
		workspaceID, eventID).Scan(ctx, &r)
	if err != nil {
		return eventRow{}, db.NoRows(err)
	}
	return r, nil
}

// setMentions makes the note e's mentions those members of its workspace
// that text mentions, keeping the read state of mentions it already had,
// and returns them.
func (s *Store) setMentions(ctx context.Context, tx bun.Tx, e Event, text string) ([]string, error) {
	kept, err := members(ctx, tx, e.WorkspaceID, ParseMentions(text))
	if err != nil {
		return nil, err
	}
	var had []string
	if err := tx.NewRaw(`SELECT user_id FROM conversation_mentions WHERE workspace_id = ? AND event_id = ?`,
		e.WorkspaceID, e.ID).Scan(ctx, &had); err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, id := range kept {
		keep[id] = true
	}
	old := map[string]bool{}
	for _, id := range had {
		old[id] = true
		if !keep[id] {
			if _, err := tx.NewRaw(`DELETE FROM conversation_mentions WHERE workspace_id = ? AND event_id = ? AND user_id = ?`,
				e.WorkspaceID, e.ID, id).Exec(ctx); err != nil {
				return nil, err
			}
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	for _, id := range kept {
		if old[id] {
			continue
		}
		if _, err := tx.NewRaw(`INSERT INTO conversation_mentions (workspace_id, event_id, user_id, conversation_id, created_at)
			VALUES (?, ?, ?, ?, ?)`, e.WorkspaceID, e.ID, id, e.ConversationID, now).Exec(ctx); err != nil {
			return nil, err
		}
	}
	out := append([]string{}, kept...)
	slices.Sort(out) // as List returns them
	return out, nil
}

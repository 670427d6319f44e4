package activity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// MaxNote is the length of a contact note, in characters.
const MaxNote = 5000

// ErrNotAuthor is returned when someone other than a note's author, and
// not an admin, tries to change or delete it.
var ErrNotAuthor = errors.New("activity: only the note's author or an admin may change it")

// CheckNote returns the note text as stored (valid UTF-8, NFC, line breaks
// made "\n", trimmed), or a *validate.Error naming "text" wrapped with
// ErrInvalid: empty, longer than MaxNote characters, or holding control
// characters other than line breaks and tabs.
func CheckNote(text string) (string, error) {
	bad := func(msg string) error { return fmt.Errorf("%w: %w", ErrInvalid, validate.Field("text", msg)) }
	if !utf8.ValidString(text) {
		return "", bad("The note is not valid text.")
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	for _, r := range text {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return "", bad("The note holds characters that cannot be shown.")
		}
	}
	text = norm.NFC.String(strings.TrimSpace(text))
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return "", bad("Write a note.")
	case n > MaxNote:
		return "", bad(fmt.Sprintf("The note is %d characters long; at most %d fit.", n, MaxNote))
	}
	return text, nil
}

// actorOf is the author string of a person or API key acting through the
// dashboard or the API.
func actorOf(a audit.Actor) (string, error) {
	if a.UserID == "" && a.APIKeyID == "" {
		return "", fmt.Errorf("%w: no user or API key", ErrInvalid)
	}
	return contact.ByActor(a).String(), nil
}

// AddNote writes a note on the workspace's contact as actor and returns
// it. The text is checked by CheckNote and sealed under the contact's key.
// A contact that is not the workspace's gets db.ErrNotFound.
func (s *Store) AddNote(ctx context.Context, actor audit.Actor, workspaceID, contactID, text string) (Entry, error) {
	by, err := actorOf(actor)
	if err != nil {
		return Entry{}, fmt.Errorf("activity: add note: %w", err)
	}
	text, err = CheckNote(text)
	if err != nil {
		return Entry{}, fmt.Errorf("activity: add note: %w", err)
	}
	var e Entry
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		e, err = s.record(ctx, tx, Entry{WorkspaceID: workspaceID, ContactID: contactID, Kind: KindNote, Actor: by,
			Data: map[string]string{"text": text}})
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("activity: add note: %w", err)
	}
	return e, nil
}

// note reads the workspace's note id through tx and checks that actor may
// change it: its author, or anyone when admin. An entry that is not a note
// is not found.
func (s *Store) note(ctx context.Context, tx bun.Tx, actor audit.Actor, admin bool, workspaceID, id string) (Entry, error) {
	by, err := actorOf(actor)
	if err != nil {
		return Entry{}, err
	}
	e, err := s.get(ctx, tx, workspaceID, id)
	if err != nil {
		return Entry{}, err
	}
	if e.Kind != KindNote {
		return Entry{}, db.ErrNotFound
	}
	if e.Actor != by && !admin {
		return Entry{}, ErrNotAuthor
	}
	return e, nil
}

// EditNote replaces the text of the workspace's note id and returns the
// note. Only its author may, or an admin (admin is the caller's decision
// from the actor's role). An entry that is not a note, or not the
// workspace's, gets db.ErrNotFound; someone else's note ErrNotAuthor.
func (s *Store) EditNote(ctx context.Context, actor audit.Actor, admin bool, workspaceID, id, text string) (Entry, error) {
	text, err := CheckNote(text)
	if err != nil {
		return Entry{}, fmt.Errorf("activity: edit note: %w", err)
	}
	var e Entry
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		e, err = s.note(ctx, tx, actor, admin, workspaceID, id)
		if err != nil {
			return err
		}
		e.Data = map[string]string{"text": text}
		e.EditedAt = s.now().UTC().Truncate(time.Microsecond)
		sealed, err := s.sealData(ctx, tx, e)
		if err != nil {
			return err
		}
		if err := db.OneRow(tx.NewRaw(`UPDATE contact_activity SET data = ?, edited_at = ? WHERE workspace_id = ? AND id = ?`,
			sealed, e.EditedAt, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		return s.auditOther(ctx, tx, actor, e, "contact.note.edit")
	})
	if err != nil {
		return Entry{}, fmt.Errorf("activity: edit note: %w", err)
	}
	return e, nil
}

// DeleteNote deletes the workspace's note id, with the same rules as
// EditNote.
func (s *Store) DeleteNote(ctx context.Context, actor audit.Actor, admin bool, workspaceID, id string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		e, err := s.note(ctx, tx, actor, admin, workspaceID, id)
		if err != nil {
			return err
		}
		if err := db.OneRow(tx.NewRaw(`DELETE FROM contact_activity WHERE workspace_id = ? AND id = ?`, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		return s.auditOther(ctx, tx, actor, e, "contact.note.delete")
	})
	if err != nil {
		return fmt.Errorf("activity: delete note: %w", err)
	}
	return nil
}

// auditOther audits an admin changing someone else's note, by IDs only:
// people answer for their own notes in the log itself, but an admin
// rewriting or removing a colleague's note is a workspace matter.
func (s *Store) auditOther(ctx context.Context, tx bun.Tx, actor audit.Actor, e Entry, action string) error {
	by, _ := actorOf(actor)
	if e.Actor == by {
		return nil
	}
	return audit.Record(ctx, tx, s.now(), e.WorkspaceID, actor, action, "contact_activity", e.ID,
		map[string]string{"contact_id": e.ContactID, "author": e.Actor})
}

package app

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
)

// MergeDataContact is the key of a merge activity entry's details: the ID
// of the contact merged in, and nothing else (its names are gone with it).
const MergeDataContact = "contact_id"

// MergeContacts makes the workspace's contacts keepID and goneID one
// person, keepID (contact.Store.Merge, issue 5, promise P-25), with every
// package's rows of the gone contact moved to the kept one in the merge's
// transaction: conversations and messages (inbox), timeline events and
// private notes (timeline), flow sessions (flow runs), the activity log
// (activity), cards on the boards (pipeline), the call-log
// deduplication keys (calllog) and the search index (search), each
// re-sealed under the kept contact's key where sealed. The kept contact's
// log then says, as a's, that another contact was merged into it.
//
// Errors are contact.Store.Merge's: contact.ErrInvalid for a contact
// merged with itself or two contacts on one channel, db.ErrNotFound when
// either is not the workspace's. A refused or failed merge changes
// nothing.
func (a *App) MergeContacts(ctx context.Context, actor audit.Actor, workspaceID, keepID, goneID string) (contact.Contact, error) {
	return a.Contacts.Merge(ctx, actor, workspaceID, keepID, goneID, a.mergeMovers()...)
}

// mergeMovers are the Movers of every package that keeps rows of a
// contact, in an order where none depends on another: each moves only its
// own tables. The search index re-points the gone contact's message
// documents to the kept contact and drops its profile document.
func (a *App) mergeMovers() []contact.Mover {
	return []contact.Mover{
		func(ctx context.Context, tx bun.Tx, m contact.Merging) error {
			return a.Inbox.MoveContact(ctx, tx, m.WorkspaceID, m.GoneID, m.KeepID)
		},
		a.Timeline.MoveContact,
		a.FlowRuns.MoveContact,
		a.Activity.MoveContact,
		a.Pipelines.MoveContact,
		a.CallLogs.MoveContact,
		a.Search.MoveContact,
		func(ctx context.Context, tx bun.Tx, m contact.Merging) error { // attachments, re-sealed (media.go)
			return a.Media.MoveContact(ctx, tx, m.WorkspaceID, m.GoneID, m.KeepID)
		},
		a.DSR.MoveContact, // consent, flags and privacy requests (dsr.go)
		a.recordMerge,
		a.tombstoneMerged,
	}
}

// tombstoneMerged writes the gone contact's tombstone in the merge's
// transaction (erasure.Service.RecordContact), as an erasure does: the
// merge deletes it and destroys its key, and a backup from before the
// merge, once restored, must not bring it back as a second copy of the
// person (M-6; a later erasure of the kept contact would not name it).
func (a *App) tombstoneMerged(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	if err := a.Erasure.RecordContact(ctx, tx, m.WorkspaceID, m.GoneID); err != nil {
		return fmt.Errorf("app: merge contacts: %w", err)
	}
	return nil
}

// recordMerge writes the "merge" entry on the kept contact's activity
// log, by the merge's author, at its time.
func (a *App) recordMerge(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	err := a.Activity.Record(ctx, tx, activity.Entry{
		WorkspaceID: m.WorkspaceID, ContactID: m.KeepID, Kind: activity.KindMerge, Actor: m.By.String(), At: m.At,
		Data: map[string]string{MergeDataContact: m.GoneID},
	})
	if err != nil {
		return fmt.Errorf("app: merge contacts: %w", err)
	}
	return nil
}

// Package timeline owns what happens to a conversation besides its
// messages (issue 5): ownership, assignment, team, status and snooze
// changes, flow and AI events, hand-offs, "seen", and agents' private notes
// with @mentions. Migration 00018: tables conversation_events and
// conversation_mentions.
//
// # Events
//
// Store.Record appends an Event inside the caller's transaction, so an
// event exists exactly when the change it tells of does (package inbox
// records every owner/assignment/team/status/snooze change that way). An
// event's Data is a map of strings kept in clear: it must hold no personal
// data — IDs, states and reasons only. A composite foreign key on
// (workspace_id, conversation_id) keeps an event from pointing at another
// workspace's conversation, and deleting a conversation deletes its events.
// Prepare, called once at start, has the engine parse Record's two
// statements once instead of per event.
//
// Store.List returns a conversation's events newest first between two
// instants, notes opened; package inbox merges them with the messages. A
// page never ends in the middle of several events at one instant, so
// paging with before = the oldest instant returned misses none.
//
// # Private notes (promise P-33)
//
// A note's text is personal data (agents write about the person), so it is
// sealed under the contact's key, bound to workspace, table, column and
// event ID: destroying the contact's key erases every note about them,
// backups included. Note text never goes to logs or audit details; the
// audit log records the note's ID only. A note is visible only inside its
// workspace, edited only by its author, deleted by its author or an admin
// (the caller says which, see DeleteNote).
//
// Mentions are written in the text as @[Display name](user:<uuid>) (the
// composer's autocomplete inserts that form). Only current members of the
// note's workspace are kept; each becomes a row of conversation_mentions,
// so a member can list the notes that mention them and mark them read.
//
// # Merging contacts
//
// Store.MoveContact is the contact.Mover of timelines: it re-points the
// gone contact's events to the kept one and re-seals their notes under the
// kept contact's key, inside the merge transaction.
//
// # Tables of others (read only)
//
//   - conversations: Record and AddNote read workspace_id and contact_id of
//     the conversation, to check it is the workspace's (db.ErrNotFound
//     otherwise) and to seal under its contact's key. timeline must not
//     import package inbox, which sits above it and imports timeline.
//   - members: AddNote and EditNote read which mentioned users are members
//     of the workspace, in the same transaction as the insert (the foreign
//     key from conversation_mentions to members is the final guard).
//
// # Imports
//
// timeline sits on contact's line of the dependency rule: it imports db,
// keyring, audit, validate and contact (for contact.Merging). It must not
// import inbox, which imports it, or any package above it.
package timeline

// Package activity owns a contact's activity log (promise P-25): what
// happened to the person, newest first, on their CRM profile — notes people
// write, lead stage and pipeline moves, synced calls, imports, merges.
//
// # Storage
//
// Table contact_activity of migration 00021. One row per entry: kind and
// actor in clear (a closed list of kinds, constants below; actors as
// contact.By strings), and the entry's details (Data) as one JSON object
// sealed under the contact's key, bound to workspace, table, column and
// the entry's ID. Details may therefore hold personal data (note text,
// call numbers and durations); destroying the contact's key erases them
// everywhere, backups included (P-33), and deleting the contact deletes the
// rows (composite foreign key on (workspace_id, contact_id), ON DELETE
// CASCADE).
//
// Store.Record appends inside the caller's transaction, so an entry exists
// exactly when the change it tells of does (a pipeline move, a merge, a
// call import). Store.List pages newest first by keyset on the UUIDv7 ID.
//
// # Notes
//
// Contact notes are entries of kind KindNote whose Data holds the text.
// AddNote, EditNote and DeleteNote are their write side; only the author
// (or an admin, which the caller decides from the role) may edit or delete
// one. Notes are the contact's data, kept with their author, and are not
// copied to the audit log (whose details must never hold personal data);
// an admin editing or deleting another person's note is audited, by IDs
// only.
//
// # Imports
//
// activity sits on contact's line: it imports contact (the author form,
// and Check, that the contact is the workspace's), keyring, audit,
// validate and db. It must not import inbox or anything
// above it (pipeline, segment, csvio, calllog import activity, not the
// other way round).
//
// # Tables of others
//
// contacts is read (never written) to check that a contact is the
// workspace's before anything is sealed for it.
package activity

// Package contact owns the people who message a connected channel: table
// contacts of migration 00006, one row per (channel, platform-scoped ID),
// since a PSID means something only for the Page that issued it — and,
// since migration 00024, people added by hand, by a CSV import or through
// the API before they ever wrote (Create: no channel identity), and people
// known on several channels after merging contacts (Merge).
//
// # What is kept (promise P-14)
//
// The platform-scoped ID, and what the platform's profile API gives:
// first and last name, locale and profile picture URL — nothing more. The
// names and the picture URL are personal data: they are sealed under the
// contact's own key (keyring.SealContactTx, associated data workspace,
// "contacts", column, contact ID), so destroying that key erases them
// everywhere, backups included (P-33). The locale is kept in clear: it
// identifies nobody and replies are chosen by it.
//
// # The hot path
//
// Store.Upsert runs for every inbound event, inside the webhook's
// transaction. It costs one SELECT when the contact exists (the common
// case) and an INSERT … ON CONFLICT DO NOTHING plus at most one more SELECT
// the first time; it never opens sealed fields, so the Contact it returns
// has empty names. Get, GetMany and List open them. Prepare, called once
// at start, has the engine parse that SELECT once instead of per event.
//
// A contact's first channel identity is on its own row; identities merged
// in from other contacts are in contact_identities (identities.go), which
// Lookup reads only when the first statement misses — so a new person costs
// one more SELECT before the insert, and a known one still exactly one.
//
// Inside a transaction on PostgreSQL those SELECTs carry FOR SHARE (the
// same prepared statements, with the clause), so the contact an inbound
// event resolves to cannot be merged away — deleted, its key destroyed —
// while the event's transaction seals its message under that key: Merge
// waits for the transaction, or the lookup waits for the Merge and then
// finds the kept contact through the merged identity. SQLite keeps the
// statements unchanged: its single writer already serialises the two.
//
// Profiles are fetched by a job (package inbox runs it), not on the hot
// path: ProfileDue says when a contact's profile should be (re)fetched, and
// SetProfile stores the answer.
//
// # Custom fields and tags (promises P-15, P-20, P-25)
//
// Migration 00009. Each workspace defines typed fields (contact_fields:
// text, number, date, boolean, email, phone, choice) under stable keys, and
// tags (unique ignoring letter case). Field definitions and tags are
// workspace configuration, kept in clear and audited. A contact's values
// are personal data: Field.Parse checks and normalizes them (phone numbers
// to E.164, digits of any script accepted), and they are sealed under the
// contact's key, bound to the contact and the field. SetField, ClearField,
// TagContact and UntagContact take the caller's bun.IDB so that a flow
// changes them inside its own transaction. Composite foreign keys on
// (workspace_id, id) keep any row from linking two workspaces, and deleting
// a contact deletes its values and tags. Setting or clearing a phone or
// e-mail value calls the OnSearchableChange listener in the same
// transaction (the app queues the contact for the search index, which
// contact must not import).
//
// # Lead stage and subscription (promises P-25, P-26, P-40)
//
// Migration 00013. A contact has a lead stage (a short label until issue
// 5 gives stages definitions) and a broadcast subscription: nobody is
// subscribed until they opt in, and the last opt-in and the last
// withdrawal are kept with their times and author, the consent record.
// Both are in clear on contacts, for segments and broadcasts to select on.
// SetStage and SetSubscribed take the caller's bun.IDB like SetField, and
// like values and tags they keep their author beside them rather than in
// the audit log.
//
// Interaction count and last interaction are not duplicated here: a
// contact has exactly one conversation per channel identity, whose
// interaction_count, last_inbound_at and last_activity_at package
// inbox already keeps on every event. A copy on contacts would cost the
// hot path a second write per event for nothing a join cannot answer.
//
// # Channel identities and merging (issue 5, promise P-25)
//
// Identities lists every identity of a contact for its profile, and
// ExternalIDOn gives the PSID a message on a given channel goes to (package
// inbox reads it for replies). Merge (merge.go) makes two contacts one:
// identities, names, field values (re-sealed under the kept contact's key),
// tags, stage and the consent record are combined by the rules on Merge;
// other packages' rows move through Movers run in the same transaction
// (package inbox's MoveContact for conversations and messages); then the
// merged contact is deleted and its key destroyed (P-33). Two contacts with
// an identity on the same channel are never merged: to that Page they are
// two people.
//
// # Imports
//
// contact imports channel, keyring, audit, validate and db. It must not
// import inbox or any package above it in the dependency rule.
package contact

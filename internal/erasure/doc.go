// Package erasure makes deleting a contact or a conversation complete
// (issue 6 item 4, promises P-33 and P-34, security.md §2.5 and §3.O):
//
//   - EraseContact deletes every row of a contact everywhere in one
//     transaction — its conversations with their messages, timeline
//     events, private notes and mentions, flow sessions, activity log and
//     notes, cards on the boards, channel identities, phone and call-log
//     blind keys, tags, field values, search documents and queue entries,
//     the jobs whose payload names it or its conversations or messages,
//     and the raw webhook deliveries not yet applied that carry its
//     platform IDs — then destroys its key (keyring.DestroyContactKey), so
//     that any copy of what was sealed for it, in this database or in a
//     backup, no longer opens. What other packages keep of a contact
//     (media objects, data-subject exports) goes through Hooks they
//     register at wiring time (OnErase, AfterErase).
//   - DeleteConversation deletes one conversation and everything of it
//     (the contact stays), and leaves a conversation tombstone.
//   - Each erasure leaves a tombstone (tombstones table, migration 00025)
//     and an audit entry whose subject is pseudonymised: a hex
//     HMAC-SHA256 of the ID under a key derived from the master key
//     (Master.Derive(PurposeTombstones)), never the ID, a name or a
//     platform ID. Replay erases again, in a database restored from a
//     backup, every contact, conversation and workspace a tombstone names
//     (M-6).
//     RecordContact writes the same tombstone for a contact that ceases
//     to exist otherwise (the one merged into another), in the caller's
//     transaction.
//   - Inventory is the data inventory (O-3): every column of the schema,
//     its class and how it is erased; a test fails for any column it does
//     not classify.
//
// It owns the tombstones table. Besides the standard library, bun and
// uuid, it imports only db, keyring and audit; it must not import the
// domain packages (contact,
// inbox, search, flow …) whose tables it deletes from, so that they can
// register hooks with it without a cycle: it reaches their tables by
// SQL, by the table and column names the Inventory records, and the
// inventory test keeps that list honest.
package erasure

// Package dsr owns data-subject requests for one contact (promises P-34
// and P-40, security.md §1.4 and §3.O O-7..O-9): the tables
// contact_privacy, contact_consents, dsr_requests and dsr_exports of
// migration 00029.
//
// # Requests
//
// A Request records that a person asked for access, export, correction,
// erasure, restriction, objection or consent withdrawal, with its
// deadlines (GDPR Art 12(3)): acknowledge within AcknowledgeWithin (7
// days) and complete within CompleteWithin (30 days) of receipt. States
// go received → acknowledged → completed, or to refused with a reason.
// Every change is audit-logged (target type "dsr_request"); details hold
// IDs and kinds only, never personal data.
//
// # Operations
//
// Summary (access), StartExport (a durable "dsr.export" job with progress
// producing a zip sealed under the contact's key; downloadable until it
// expires, then the archive is dropped; it holds the contact's data, the
// team's private notes on their conversations (read through package
// timeline) and their attachments, lists attachments whose file is lost
// as not included, and fails at once, saying why, past MaxArchiveBytes),
// Correct (names and field values through package contact), Erase
// (through a ContactEraser: package erasure), SetFlags (restricted,
// objected, minor) and RecordConsent (given or withdrawn, per channel or
// for all channels, with time, source and actor; a later record for all
// channels supersedes every earlier one). Each can name an open request
// of the matching kind, which it completes in the same transaction (a
// restriction only by restricting, an objection only by recording it).
//
// # Enforcement
//
// Blocked says whether automation may touch a contact. The inbox's
// Options.Automation calls Service.Automation on its one outbound path
// (every flow, AI and broadcast send), and the app wraps the inbox's
// Responder so that inbound messages of a blocked contact start no flow.
// People on the team can still reply.
//
// dsr imports contact, activity, timeline (private notes on
// conversations, for exports), inbox, channel, keyring, job, audit, db
// and validate; it must
// not import net/http, api, web, app or erasure (erasure reaches it through
// ForgetContact, registered at wiring; it reaches erasure through the
// ContactEraser interface).
package dsr

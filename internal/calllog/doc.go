// Package calllog syncs a phone's call log into the CRM (issue 5 item 7,
// promise P-28): an authorised mobile client (an API key carrying
// workspace.ScopeCallLogsWrite, or a signed-in agent) uploads a batch of
// calls; Parley keeps only the calls whose number is a lead's phone, as
// activity entries of kind "call" on that contact (direction, type,
// duration, time, device ID, syncing user), and discards everything else.
//
// # What is never stored
//
// Unmatched calls and every contact name the phone sends are discarded
// before anything is written: not to the database, not to logs (this
// package logs nothing), not to the audit log, not to job payloads, and
// not echoed in the Result (counts and row indexes only) or in errors
// (fixed messages that never repeat a value). A call that matches leaves
// only its activity entry, sealed under the contact's key, and a blind
// deduplication key (below). The number itself is not kept with the call:
// it is the contact's phone, already in the contact's fields.
//
// # Matching
//
// Numbers are normalized to E.164 with contact.NormalizePhone, read in
// the workspace's region when Options.Region gives one (numbers written
// without their country code otherwise cannot match), and looked up in
// contact's phone blind index (contact.Store.ByPhone), which is bound to
// the workspace: another workspace's contact with the same number is never
// matched. A number that does not parse (withheld, a service code) is
// simply unmatched.
//
// # Deduplication
//
// Phones upload the same calls again. Each matched call gets a key,
// HMAC(blind-index key of the workspace, "call:" number | Unix seconds |
// direction), stored per contact in call_log_seen (migration 00023) in the
// same transaction as the activity entry; a call whose key is already
// there is counted as a duplicate and adds nothing. Keys exist only for
// matched calls and are deleted with their contact.
//
// # Tables of others
//
// calllog writes call_log_seen (its own) and, through their packages,
// contact_activity (package activity); it reads contact_phones and
// contact_fields only through contact.Store.ByPhone.
//
// # Imports
//
// calllog imports contact, activity, keyring, validate and db. It sits on
// the flow line of the dependency rule and must not import api, web or
// app; it does not import net/http (the lead's API handler decodes the
// request and calls Sync).
package calllog

// Package segment owns saved filters over a workspace's contacts (table
// segments of migration 00022), promise P-25: "VIP customers in Phnom Penh
// who wrote this week". Broadcasts (a later issue) and CSV export select
// their audience through Members.
//
// # A closed language, compiled to parameterized SQL
//
// A Definition is data, never SQL: a list of conditions, each a field from
// a closed list (tag, stage, subscribed, channel, channel_type, created_at,
// last_interaction, field:<key>) and an operator from the closed list of
// that field's type. Anything else is refused with ErrInvalid naming the
// condition's index before any SQL exists. Peers shipped SQL injection in
// exactly this feature (security.md §1.7, Chatwoot CVE-2025-21628 and
// CVE-2026-44706; test plan J-7), so compile.go builds its SQL only by
// concatenating constant fragments of this package and "?" placeholders;
// every value (tag IDs, stages, times, field IDs) is a bound argument, and
// queries run on database/sql with real placeholders ($n on PostgreSQL),
// not through bun's client-side formatting. No fmt.Sprintf ever touches
// SQL here.
//
// # Sealed field values
//
// Custom field values are personal data sealed under each contact's key,
// so SQL cannot compare them. A field condition splits in two: is_set and
// is_not_set are SQL (existence of a contact_field_values row); value
// comparisons (equals, contains, greater_than, before …) are evaluated in
// Go after opening the candidate's values, with SQL narrowing the
// candidates to contacts that have a value of that field. Evaluation is
// keyset-paged by contact ID and bounded per call: Members scans at most
// MaxScan candidates per call and may return fewer than n members with a
// NextCursor to continue from; Count is exact when every condition is SQL
// and otherwise scans at most MaxCountScan candidates, saying whether the
// result is exact.
//
// # Saved definitions name no one
//
// segments.definition is plain JSON, not sealed and outside erasure, so a
// saved segment must not hold one person's personal data in clear. Create
// and Update refuse equals and not_equals on a custom field of type email
// or phone (an exact match names one person) with ErrInvalid naming the
// condition: "Saved segments cannot name one person's e-mail or phone; use
// contains with a domain or prefix, or search instead." Members and Count
// of an unsaved Definition (a preview, never stored) and Check still
// accept them.
//
// # Tables of others (read-only)
//
// contacts, contact_identities, contact_tags, contact_field_values and
// contact_fields (package contact), tags' ids, channels (package channel)
// and conversations (package inbox). A contact's channels are the one on
// its row and those merged into it (contact_identities); a contact created
// without a channel has none, so it matches channel is_not and
// channel_type is_not. "Last interaction" is the latest
// conversations.last_inbound_at of the contact, the person's last message,
// which inbox keeps on every event; a contact who never wrote matches no
// last_interaction condition.
// Migration 00022 adds an index on conversations(contact_id) for it.
//
// # Imports
//
// segment imports contact, audit, validate and db. It sits on the
// flow line of the dependency rule and must not import csvio, broadcast or
// anything that imports segment.
package segment

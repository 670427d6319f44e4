// Package retention enforces how long Parley keeps each class of a
// workspace's data (promise P-35, security.md §3.N): per workspace, per
// class, with defaults and limits a workspace cannot go beyond, by a
// periodic job that deletes in small batches, each in its own short
// transaction, so it never holds the database's single writer (SQLite)
// for long.
//
// # Classes, defaults and limits
//
// Periods are whole days; 0 means "for the workspace's lifetime".
//
//	class             default    allowed           what it is
//	message_content   lifetime   1 d … lifetime    messages in both directions (and their search entries)
//	attachments       lifetime   1 d … lifetime    files sent or received (package media registers it)
//	raw_payloads      90 d       1 d … 90 d        webhook bodies as received from the platforms
//	operational_logs  90 d       1 d … 90 d        flow errors, finished contact imports and their reports,
//	                                               ended invitations, Facebook logins, redelivery keys
//	audit_log         365 d      365 d … 730 d     who did what (never less than a year: P-06)
//	exports           7 d        1 d … 30 d        data-subject export archives (package dsr registers it)
//
// Rows are deleted once they are strictly older than the period: with 90
// days, a row 90 days old to the second stays and one 90 days and one
// second old goes (N-1).
//
// Some operational data carries no workspace: webhook deliveries that
// could not be processed (they are deleted as soon as they are processed,
// so only quarantined ones are purged here; pending ones, acknowledged and
// waiting out a pause, are never deleted), events from accounts no
// workspace connected (unknown_accounts), dead jobs, ended sign-in
// sessions, the platform's own audit entries and those of workspaces
// deleted and purged (the run visits live workspaces only). Those follow
// the platform's period, the class's default (raw payloads and
// operational logs 90 d, audit log 365 d).
//
// # Derived copies (N-3)
//
// Deleting a message deletes its search documents and postings in the same
// transaction (package search's cascading foreign keys, and any hook
// registered with OnMessagesDeleted: the app wires the search index's
// Forget, package media its objects). Classes owned by other packages come
// in through Register (media: attachments; dsr: exports).
//
// # Legal hold (N-7)
//
// A workspace-wide hold stops every deletion of the workspace, its audit
// entries included; a contact hold stops the deletion of that contact's
// messages. Registered purgers must skip held contacts too (NotHeld gives
// them the SQL condition).
//
// # Resumable (N-4)
//
// Each batch selects the oldest expired rows, deletes them and commits;
// a run stopped anywhere leaves whole batches done and the next run
// continues from what is left. Between batches the run yields (Options.Pause)
// so webhooks, sends and the indexer get the writer.
//
// # Tables
//
// Owns retention_settings and retention_holds (migration 00028). Deletes,
// by age only, from tables owned by others: messages (inbox; search_docs
// and search_grams go by cascade), webhook_deliveries (webhook),
// flow_errors (flow/run), contact_imports (csvio; their errors cascade),
// invitations and sessions (workspace, account), channel_logins
// (channel/connect), inbound_keys (inbox), unknown_accounts
// (channel), dead jobs (job) and audit_log (audit; the database's trigger
// refuses rows younger than a year in any case).
//
// # Imports
//
// retention imports db, audit and job. It must not import inbox, search,
// media, dsr or any HTTP package: those reach it through Register,
// OnMessagesDeleted and the app's wiring.
package retention

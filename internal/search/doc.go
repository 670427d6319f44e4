// Package search finds a workspace's contacts (by name, phone, e-mail) and
// messages (by text) without keeping any of that text in clear: a blind
// index of keyed digests of normalized grams (docs/adr/0005).
//
// # How
//
// Text is normalized (Normalize: NFKD, Latin diacritics dropped, NFC, case
// folded, Khmer/Thai/Lao/Myanmar digits to ASCII, spaces collapsed) and cut
// into grams: every trigram and five-gram (three and five code points, so
// unspaced Khmer and Thai match inside words; five-grams keep long queries
// selective) and the first one and two code points of every word (for
// queries that short). Phones are indexed as their E.164 digits.
// Each gram is stored only as a 64-bit digest keyed per workspace
// (digester), in search_grams (gram, doc) beside one search_docs row per
// contact profile or message.
//
// A query is normalized the same way; its rarest gram (postings counted up
// to a cap) drives a bounded, newest-first walk that keeps documents having
// every other probed gram, and each candidate is verified against its
// opened text, so digests that collide or grams out of order never show.
//
// # Erasure (P-33)
//
// search_docs rows cascade from contacts and messages and search_grams rows
// from search_docs: deleting a contact (which package contact does together
// with destroying its key) deletes every document and posting of it in the
// same statement. Nothing else keeps text: the indexer holds it in memory
// only while it computes digests. Forget removes a message the person
// unsent (the app calls it from inbox Options.Unsent). MoveContact, a
// contact.Mover, re-points a merged contact's message documents to the
// kept contact in the merge's transaction (move.go), so they are neither
// deleted with the merged contact nor found under it.
//
// # Indexing off the hot path
//
// Index.Start runs a loop (or a job calls Index.Step) that follows durable
// cursors in search_cursors: contacts by (updated_at, id), messages by
// (created_at, id), a Lag behind the clock, in batches, each batch in one
// transaction with its cursor (idempotent, resumable after a crash).
// Touch queues a contact whose phone or e-mail changed (search_pending).
// Nothing in the webhook's transaction changes except two index entries
// (migration 00020's feed indexes on contacts and messages).
//
// # Tables
//
// Owns search_docs, search_grams, search_cursors and search_pending
// (migration 00020). Tables of others, read-only: contacts,
// contact_field_values, contact_fields and messages, through
// package contact's and package inbox's feed functions (ContactSource,
// MessageSource).
//
// # Imports
//
// search imports inbox and contact (for their feed functions only),
// keyring and db. It must not be imported by inbox, contact or any package
// below them.
package search

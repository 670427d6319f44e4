// Package csvio owns CSV import and export of contacts (tables
// contact_imports and contact_import_errors of migration 00022), promise
// P-25.
//
// # Import
//
// Parse reads an upload (at most MaxBytes and MaxRows, UTF-8 with or
// without a byte-order mark, delimiter ',' ';' or tab detected from the
// header line) and returns its headers and a few sample rows for the
// column-mapping step. Importer.Start checks a Mapping (column →
// first_name, last_name, field:<key>, tag, stage or skip) against the
// workspace, stores the file sealed under the workspace key and enqueues a
// durable job whose payload holds only the workspace and import IDs.
//
// The job (Importer.Process) validates every row with contact's own
// parsing (Field.Parse, CheckStage, Create's name checks) and commits the
// rows in batches: each batch, its created contacts, its refused rows and
// the progress counters commit in one transaction, so a job retried after
// a crash resumes after the last committed batch and never creates a
// contact twice. Each row runs in a savepoint: a row refused half-way
// leaves nothing behind. Refused rows are reported (row number, column,
// message) and skipped; Report writes them as a CSV with the original
// cells, neutralized against formula injection. When the import finishes
// the sealed file is set to NULL; the refused rows stay (sealed) until the
// import is deleted.
//
// Deduplication: with Options.DedupeColumn mapped to a phone field, a row
// whose number a contact of the workspace already has (contact.Store.ByPhone,
// the phone blind index) updates that contact (the oldest, when several
// have it) instead of creating one; with an e-mail field, the job opens
// that field's existing values once per run and matches in memory, keeping
// only the file's own addresses in memory. A matched contact keeps its
// names; the row's fields, tags and stage are applied to it.
//
// # Export
//
// Exporter.Export streams a workspace's contacts (all, or a segment's
// members through segment.Store.Members) as CSV, in ID order, a page at a
// time, with the columns asked for from a closed list. Every cell that a
// spreadsheet would read as a formula (starting with = + - @ tab or CR) is
// prefixed with ' (ASVS 1.2.10, security.md J-8); an import strips that
// prefix again, so an export round-trips. Every export is audited
// (contact.export, with the segment and the columns, never the data).
//
// # Tables of others (read-only)
//
// contacts (IDs in order, for an export of all contacts) and
// contact_field_values (the sealed values of the e-mail field matched on),
// both package contact's. Everything else goes through contact's Store.
//
// # Imports
//
// csvio imports segment, contact, activity, job, keyring, audit, validate
// and db. It sits on the flow line and must not import inbox's callers,
// api or web.
package csvio

// Package backup writes and restores backups that keep Parley's erasure
// promises (issue 6 item 7, promise P-33, security.md §2.5 caveat 1 and
// §3.M M-6).
//
// A backup of a SQLite instance (Backup) is a directory holding:
//
//   - parley.db: a consistent snapshot of the database taken with VACUUM
//     INTO, from which every data key (the rows of KeyTables) has been
//     deleted and the file rewritten, so the snapshot alone opens nothing
//     sealed — not even with the master key;
//   - keys.json: those key rows, still wrapped under the master key, to be
//     stored apart from the snapshots (a different bucket, other
//     credentials): losing both a snapshot and its keys file is what it
//     takes to read it, and deleting a keys file shreds its snapshot;
//   - manifest.json: when it was taken, the schema version, and the
//     SHA-256 of both files.
//
// The master key is in none of them: the operator keeps it
// (PARLEY_MASTER_KEY or data/master.key) as documented in
// docs/operations/backup.md.
//
// Restore puts a backup back into an empty data directory: it copies the
// snapshot to a scratch file, migrates it to the running version, puts the
// keys back, and replays the tombstone log (erasures and workspace purges
// recorded since, exported with `parley tombstones export`) through a
// Replayer (erasure.Service) — all before the file takes the name the
// server opens, so a restored instance never serves a contact, conversation
// or workspace that was erased after the backup was taken. PostgreSQL is backed up with
// pg_dump and restored with pg_restore followed by `parley tombstones
// replay` (docs/operations/backup.md); the tombstone file format
// (ReadTombstones, WriteTombstones) is the same.
//
// backup imports db and keyring's table layout only through SQL. It must
// not import erasure or anything above db: the Replayer interface is
// satisfied by an adapter that app wires.
package backup

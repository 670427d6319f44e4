// Package dataset builds the large data set of the inbox and memory
// benchmarks (issue 5, `make bench`): one workspace on SQLite with two
// million contacts, a million conversations over them with one or two
// messages each, a few agents, teams and tags — a real, migrated Parley
// database that a parley process can serve (its master key is beside it).
//
// # How
//
// Generate writes the rows in bulk: prepared multi-row INSERTs inside
// large transactions on the single writer connection, foreign keys off and
// the secondary indexes dropped while loading and created again from their
// own migration SQL afterwards. It seals exactly as Parley does: every
// contact gets its own random key, wrapped under the workspace key with the
// keyring's associated data (security.md §2.3: "contact-dek", workspace,
// contact, key ID), and the names and message bodies are sealed under it
// with the associated data packages contact and inbox use. The sealing runs
// on every core while the writer inserts. The package test generates a
// small set and reads it back through contact.Store and inbox.Service, so a
// change in either's format shows there.
//
// Ensure caches a finished set under os.TempDir(), keyed by the set's size,
// this generator's DataVersion and the schema (the newest migration): a
// set whose schema is behind is generated again. A lock file keeps two
// processes from generating the same set at once; a set without its
// "complete" mark is discarded.
//
// # Imports
//
// dataset imports db, keyring, channel, workspace and audit to set up the
// workspace as the services would. It must not import inbox or contact
// (inbox's own benchmark imports dataset); it only writes their tables,
// and its test reads them back through those packages.
package dataset

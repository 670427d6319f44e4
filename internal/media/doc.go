// Package media owns Parley's encrypted object storage (promise P-31): the
// files agents attach to replies (and, later, media kept from customers),
// each sealed under the key of the contact it belongs to BEFORE it is
// written, so the disk or a storage provider only ever holds ciphertext,
// and destroying the contact's key (erasure) shreds every copy.
//
// Two layers:
//
//   - Backend is the object store itself, a small Put/Get/Delete-by-key
//     interface. Disk keeps objects under a directory (by default
//     DataDir/media), through an os.Root so no key can name a path outside
//     it. An S3-compatible backend can implement the same interface; on
//     PostgreSQL with several replicas the directory must be shared by all
//     of them (or such a backend configured), since any replica may serve a
//     file another stored.
//   - Store keeps the media_objects rows (migration 00031) and does the
//     sealing: Put checks an upload (size, type sniffed from its bytes,
//     image dimensions), seals it under the contact key with associated
//     data binding workspace, contact and object ID, writes it, then
//     records it; Open reads, opens and returns it, scoped by workspace.
//
// Keys in the store are server-generated ("<workspace>/<contact>/<object>")
// and never derived from a file name. No digest of the plaintext is kept
// (it would be a fingerprint that outlives the key).
//
// Erasure and retention reach media through hooks wired in internal/app:
// EraseContact runs inside the erasing transaction and UnlinkContact after
// it commits; Purge deletes objects older than a cutoff in bounded batches
// (skipping contacts under a legal hold: it reads retention_holds, package
// retention's table, read-only) and sweeps files no row points at any
// more; ForgetMessages drops the objects of messages whose content expires.
//
// Signed tokens (Token, VerifyToken) name one object until an expiry, for
// the unguessable URL the platform fetches a reply's attachment from.
//
// media imports db, keyring and validate. It must not import net/http or
// any domain package above it (inbox, channel, web, api): the surfaces call
// it, and internal/app wires it to the inbox.
package media

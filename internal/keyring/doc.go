// Package keyring owns every key Parley uses and the one format it seals
// data in: a versioned AES-256-GCM envelope whose associated data binds each
// value to its workspace, table, column and row (security.md §2.2).
//
// The key hierarchy (security.md §2.3):
//
//	master key (PARLEY_MASTER_KEY or data/master.key, never in the database)
//	 ├─ derived with HKDF, one per purpose: DEK wrapping, platform secrets,
//	 │  session signing, password pepper, blind indexes, confirmation codes
//	 └─ per-workspace keys (workspace_keys): random, stored wrapped under the
//	    derived DEK-wrap key with associated data "ws-dek" ‖ workspace ‖ key
//	    ID; they seal the workspace's tokens and wrap per-contact keys
//	     └─ per-contact keys (contact_keys): random, one per contact, stored
//	        wrapped under a workspace key with associated data
//	        "contact-dek" ‖ workspace ‖ contact ‖ key ID; they seal message
//	        bodies, contact details and raw payloads
//
// Keyring manages the random keys. The workspace package calls
// CreateWorkspaceKey in the transaction that creates a workspace; stores
// seal with SealWorkspace / SealContact and open with OpenWorkspace /
// OpenContact, passing the AAD of the row the value lives in. A caller that
// holds a transaction uses the …Tx variants, which read and write through
// it (on SQLite the one writer connection is taken by that transaction).
//
// Destroying a random key shreds everything it sealed, in the live database
// and in every copy of the sealed values (promise P-33): DestroyContactKey
// when a contact is erased, DestroyWorkspaceKeys when a workspace is. Key
// rows are deleted, not marked; afterwards opening returns ErrKeyDestroyed.
// Rotation adds a new primary workspace key; old keys still open what they
// sealed, including contact keys they wrapped.
//
// Unwrapped keys are cached in memory (bounded LRU, one-minute TTL, cleared
// on eviction as far as Go allows). The TTL is how long a destroy made by
// another replica can take to reach this one; this process's own destroys
// take effect at once.
//
// BlindIndex gives searchable, per-workspace HMACs of identifiers (PSIDs,
// phone numbers) so they can be looked up without being stored in clear.
//
// keyring imports only db. It must not import any domain package: every
// other package may seal through it.
package keyring

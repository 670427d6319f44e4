// Package keyring owns every key Parley uses and the one format it seals
// data in: a versioned AES-256-GCM envelope whose associated data binds each
// value to its workspace, table, column and row (security.md §2.2).
//
// The key hierarchy (security.md §2.3):
//
//	master key (PARLEY_MASTER_KEY or data/master.key, never in the database)
//	 ├─ derived with HKDF, one per purpose: DEK wrapping, platform secrets,
//	 │  session signing, password pepper, blind indexes, confirmation codes
//	 └─ per-workspace keys: random, stored wrapped under the derived DEK-wrap
//	    key; they seal the workspace's tokens and wrap per-contact keys
//	     └─ per-contact keys: random, stored wrapped under the workspace key;
//	        they seal message bodies, contact details and raw payloads
//
// Destroying a random key shreds everything it sealed, in the live database
// and in every backup (promise P-33). Rotation adds a new primary key; old
// keys still open what they sealed.
//
// keyring imports only db.
package keyring

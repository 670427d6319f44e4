// Package metacallback answers Meta's data-deletion and deauthorize
// callbacks (promise P-32, security.md §3.H) and keeps the identity map
// they need. It owns the tables meta_identities and meta_deletion_requests
// (migration 00026).
//
// Meta identifies the person in a callback by an app-scoped user ID (ASID):
// an ID that exists only for people who logged into Parley's Meta app with
// Facebook Login. In Parley that is a member who connected Pages through
// Facebook Login, so the identity map records, for each channel connected
// that way, the HMAC of the ASID whose token it holds (RecordLogin, called
// by internal/channel/connect through its Identities hook). Contacts, the
// customers who write to a Page, are known by page-scoped IDs (PSIDs) that
// no callback ever carries; a contact is linked to an ASID only where
// Parley can prove it (LinkContact: an opt-in that carries the person's
// app-scoped ID) or where Meta's ID matching (GET /{asid}/ids_for_pages,
// which works only for Pages in the same Business Manager as the app)
// returns their PSIDs. The status page says so plainly (security.md §4.4).
//
// A deletion request (callback or an operator's import, ImportASIDs) is a
// row and a durable job, created in one transaction, and answered with a
// status URL and a confirmation code: 128 random-looking bits derived with
// HMAC from the request ID under a key only the server holds, so the same
// request always gets the same code while only its SHA-256 is stored. The
// job disconnects the channels whose token came from that person
// (unsubscribing while the token still works, destroying it, audit-logged),
// erases the linked contacts through ContactEraser, forgets the identity
// rows and marks the request completed. The deauthorize callback
// disconnects the same channels and nothing else.
//
// Every refusal of a callback creates nothing: malformed input is 400, a
// wrong signature 403, an oversized body 413, a flood 429.
//
// # Imports
//
// metacallback imports channel, contact, meta, job, keyring, audit,
// validate, access, db and httpx (for its two callback routes, as the
// webhook intake does). Contact
// erasure and channel disconnection are reached through the small
// interfaces declared here, wired in internal/app; it must not import
// inbox, webhook, web or api.
package metacallback

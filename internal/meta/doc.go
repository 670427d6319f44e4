// Package meta talks to Meta's platform: the Graph API client that sends
// Messenger messages, reads profiles, lists and subscribes Pages, sets Page
// profiles and exchanges Facebook Login codes (Client); and the signatures
// Meta uses towards us: the X-Hub-Signature-256 of webhook deliveries
// (VerifySignature, Sign), the appsecret_proof we add to Graph calls
// (AppSecretProof) and the signed_request of the data-deletion and
// deauthorize callbacks (ParseSignedRequest). The protocol is described in
// /work/shared/reference/meta-platform.md (§1.2, §2, §5, §6).
//
// # Secrets
//
// A token travels only in the Authorization header, never in a URL, and
// every call that carries one adds appsecret_proof when the app secret is
// configured. Errors never contain a token, a proof or a URL: Graph failures
// are *Error (the decoded Graph error body), transport failures *NetError
// (which says whether the request was written, so a caller can tell "not
// sent, retry" from "maybe sent"), and both are scrubbed of the secrets of
// the call that failed (security.md §3.L).
//
// All MAC comparisons use hmac.Equal (constant time); an empty secret never
// verifies anything.
//
// # Imports
//
// meta imports only the standard library and httpx (for the guarded
// outbound client). It knows nothing of workspaces or the database, and must
// not import db, keyring, channel or anything above them.
package meta

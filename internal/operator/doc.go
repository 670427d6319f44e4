// Package operator is the platform operators' side of Parley (promise
// P-06): what the operator console at /admin shows about every workspace
// (health and usage), and impersonation — a platform administrator acting
// as a user to see what they see.
//
// Impersonation is bound to the administrator's own session: a row of
// impersonations names that session, and the access guard looks it up
// only through the session cookie the administrator signed in with. It
// therefore ends when that session ends (sign-out, expiry, idle timeout,
// revocation) as well as on "stop impersonating" or after MaxDuration.
// Starting and stopping are audit-logged in the platform's log and in the
// log of every workspace the user belongs to; each write made while
// impersonating is recorded, before it runs, with the real and the
// effective actor in the log of the workspace it touches, so the
// workspace's owner sees it (security.md §3.Q Q-1).
//
// Owns: the impersonations table. Reads (never writes) workspaces,
// members, channels, contacts, conversations and messages for the
// summaries. Must not import net/http, web or api.
package operator

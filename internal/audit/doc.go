// Package audit keeps the append-only log of security-relevant actions
// (sign-ins, role changes, keys issued, impersonation …), per workspace and
// per user (promise P-06). The database refuses to change a row and to
// delete one younger than a year (see migration 00002).
//
// Entries record who did what to which object, from which address and in
// which request; never passwords, tokens, message content or other personal
// data beyond the actor's own identifiers.
//
// audit imports only db.
package audit

// Package account owns the people who sign in to the dashboard: users,
// sign-up, login, sessions, password changes and two-factor authentication
// (TOTP with one-time recovery codes). Its tables are users, sessions and
// recovery_codes (migration 00001).
//
// # Sign-up (promise P-01)
//
// A user signs up with an e-mail address, a password, an optional display
// name (at most 100 characters) and an attestation of being 18 or older,
// recorded as users.age_confirmed_at. E-mail addresses are stored as given
// and looked up by their lower-cased form (users.email_key), so
// "Sokha@Example.com" and "sokha@example.com" are one account.
//
// # Password policy (promise P-01, security.md §2.6 and §3.F F-4)
//
//   - At least 8 and at most 256 characters (Unicode code points, not
//     bytes). ASVS 5.0 6.2.9 asks that at least 64 be accepted; the upper
//     cap only bounds work and storage, and anything longer is refused with
//     a *validate.Error naming the field, never truncated.
//   - Not one of the few hundred most common passwords (common_passwords.txt,
//     compared case-insensitively), and not the e-mail address or its local
//     part.
//   - No composition rules (no "one digit, one capital"): they push people
//     towards predictable patterns and NIST SP 800-63B advises against them.
//   - Passwords are compared byte for byte as typed: no Unicode
//     normalisation and no trimming.
//
// # Password hashes and the 72-byte bcrypt limit
//
// bcrypt reads at most 72 bytes of input; 25 Khmer characters are already
// 75 bytes. Rather than cap passwords at 72 bytes, every password is
// pre-hashed:
//
//	users.password_hash = "v1$" + bcrypt(base64std(HMAC-SHA256(pepper, password)))
//
// The HMAC output is 32 bytes whatever the password's length, so nothing is
// truncated; base64 keeps NUL bytes out of bcrypt's input (44 bytes, under
// the limit). The pepper is derived from the master key
// (keyring.PurposePasswordPepper) and never stored in the database, so a
// stolen database alone does not allow offline guessing. "v1" names the
// pepper version, leaving room to rotate it. The bcrypt cost defaults to 12
// (Options.BcryptCost); a stored hash of lower cost is re-hashed at the next
// successful login.
//
// Login answers ErrInvalidCredentials alike for an unknown e-mail and a
// wrong password, and for an unknown e-mail it still runs one bcrypt
// comparison against a dummy hash of the same cost, so the two take the same
// time (§3.F F-3).
//
// # Sessions (promise P-02, security.md §3.C)
//
// A login creates a sessions row with a fresh random ID (160 bits, so a
// session chosen before login can never be the one used after it) and
// returns a JWT for the session cookie: HS256 under the key derived for
// keyring.PurposeSessionJWT, with claims iss, aud "parley-dashboard", sub
// (user ID), sid (session ID), typ "session", iat, nbf and exp. The token
// only points at the row: a session ends when its row is revoked (logout,
// password change, RevokeOtherSessions), when its absolute lifetime
// (Options.SessionTTL, default 12 h) runs out, or when it has been idle for
// Options.IdleTimeout (default 3 h). last_seen_at is written at most once a
// minute, so the idle timeout is exact to within a minute and a busy
// dashboard does not write on every request.
//
// # Two-factor authentication (promise P-05, security.md §3.F F-6, F-7)
//
// BeginTOTP stores a new secret sealed with the platform key (AAD names
// users.totp_secret and the user's row, so a sealed secret copied to another
// user does not open); EnableTOTP turns it on once the user proves their
// authenticator app with a code, and returns ten recovery codes, shown once
// and stored as SHA-256 hashes. Codes use 30-second steps and are accepted
// one step either side of now; each step is accepted once
// (users.totp_last_step), so an observed code cannot be replayed. A recovery
// code works once in place of a TOTP code; regenerating them deletes the old
// set. Platform administrators cannot turn 2FA off (ErrTOTPEnforced).
//
// Throttling guesses (§3.F F-1, F-2, F-6) is the HTTP layer's job, with
// httpx.Limiter; this package gives every failure a distinct sentinel so the
// caller can count them.
//
// # Deleting an account (promise P-33)
//
// DeleteAccount (delete.go) deletes a person's own account after checking
// their password and the last-owner rule, which the caller supplies as an
// OwnerCheck (workspace.Service.SoleOwnerships): the users row goes, and
// by cascade their sessions, recovery codes and memberships, so every
// signed-in browser is out at once. The audit log keeps their random ID.
//
// account imports db, keyring, audit and validate. It must not import
// net/http or any other domain package: the HTTP surfaces (api, web,
// access) call it.
package account

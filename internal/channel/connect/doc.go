// Package connect connects Messenger Pages to workspaces (promise P-10): by
// a Page access token pasted by the operator (ConnectToken), or through
// Facebook Login (BeginLogin, FinishLogin, Pages, ConnectPages); and it
// disconnects them (Disconnect) and pushes their Page settings to Meta
// (Configure).
//
// Every connection checks the token with Graph first (a Page token must be
// the token of the Page it claims to be for), subscribes Parley's app to the
// Page's webhooks, and only then stores the channel, with its token sealed
// under the workspace key by channel.Store. A token that fails any check is
// never stored. A Page active in another workspace is refused: its events
// can only be routed to one place.
//
// Facebook Login state lives in table channel_logins (migration 00005): one
// row per login in progress, owned by the workspace and the user who
// started it, holding the long-lived user token sealed under the workspace
// key once the callback has exchanged the code. The OAuth state parameter is
// the row ID, the workspace and an expiry, signed with HMAC-SHA256 under a
// key derived from the master key, so a forged or replayed callback is
// refused before Graph is called. Rows live 15 minutes and PurgeLogins
// deletes expired ones.
//
// When Options.Identities is set, ConnectPages asks Graph who logged in
// (GET /me with the user token: the app-scoped ID) and records each
// channel's origin through it, so Meta's deauthorize and data-deletion
// callbacks can find the channels whose token came from that person
// (package metacallback, P-32); a pasted token forgets the origin.
//
// # Imports
//
// connect imports channel, meta, keyring, db, audit and validate. It must
// not import inbox, webhook or anything above them.
package connect

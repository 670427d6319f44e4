// Package channel is the contract between Parley and the messaging
// platforms: which accounts are connected (table channels of migration
// 00005, Store), what a platform event means once normalized (Inbound),
// what a message says in either direction (Content), how a message goes out
// (Sender, SendError), and whether it may go out at all (the messaging-policy
// engine, Decide).
//
// Platform adapters live below it (channel/messenger, later instagram,
// whatsapp, webchat): they turn webhook payloads into Inbound events and
// Content into platform requests. Everything above (inbox, flows, the AI
// agent, broadcasts) speaks only these types, so a flow written for
// Messenger works unchanged on the next platform.
//
// # Tokens (promise P-10)
//
// A channel's access token is sealed under its workspace's key, bound to the
// row (table channels, column token, row ID). It is opened only to call the
// platform (Store.Token), never returned by any API or page, and destroyed
// when the channel is disconnected.
//
// # Imports
//
// channel imports db, keyring and audit. It must not import net/http (the
// adapters do) nor any package above it in the dependency rule.
package channel

// Package messenger is the Facebook Messenger adapter: it turns webhook
// payloads of object "page" into channel.Inbound events (Parse), fits
// outgoing channel.Content to Messenger's limits (Adapt), sends it through
// the Send API at a pace Meta accepts (Adapter, a channel.Sender and
// channel.ProfileFetcher), and classifies Graph errors by what Parley must
// do about them (Classify).
//
// It owns no state beyond the in-memory per-Page pacing buckets and no
// table: inbox decides what to send and records what happened.
//
// # Imports
//
// messenger imports channel and meta (the Graph client) and the standard
// library. It must not import db, inbox, webhook or any package above
// channel in the dependency rule.
package messenger

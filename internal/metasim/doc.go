// Package metasim simulates Meta's Graph API and webhook sender for
// Messenger, so Parley's tests, benchmarks and `make run` (the built-in
// "test page") never need Meta. It follows the protocol digest in
// shared/reference/meta-platform.md (§1, §2, §5, §6.4, §8).
//
// metasim imports only the standard library and never Parley's packages:
// it is an independent implementation of Meta's behaviour, so a mistake in
// Parley's meta package cannot hide by being repeated here.
//
// # What it does
//
// A Sim holds a small world — users who can log in, pages they own with
// their tokens, people (PSIDs) who talk to pages — and serves, under any
// /vNN.N/ prefix:
//
//   - the Send API (POST /me/messages, /{page-id}/messages) with Meta's
//     checks: the page's own token, recipient PSID of that page
//     (100/2018001), messaging_type and tags (HUMAN_AGENT within 7 days;
//     CONFIRMED_EVENT_UPDATE, ACCOUNT_UPDATE, POST_PURCHASE_UPDATE → 100),
//     the 24-hour window (10/2018278), unreachable people (551/1545041),
//     message shape and limits (text ≤ 2000 characters, ≤ 13 quick
//     replies, button and generic templates, attachments by URL or saved
//     ID, sender actions alone, metadata < 1000, reply_to);
//   - the User Profile API, GET /me and /{page-id}, /me/accounts with
//     paging, subscribed_apps, messenger_profile, message_attachments and
//     the handover calls;
//   - Meta's ID matching, GET /{user-id}/ids_for_pages with the app token
//     (app-id|app-secret): the user's PSIDs on Pages in the app's
//     business only (LinkPerson, SetBusinessPage);
//   - the login dialog (plain HTML, one "Continue as NAME" button per
//     user, and Cancel) and /oauth/access_token (single-use, expiring code
//     bound to its redirect_uri; fb_exchange_token).
//
// Every call checks the access token (2500 when missing, 190 when unknown,
// invalidated (460) or expired (463)) and appsecret_proof (required unless
// Options.NoProof; a wrong one is always refused), answers Meta's error
// bodies {"error":{"message","type","code","error_subcode","fbtrace_id"}}
// with Meta's HTTP statuses, and is recorded (Calls, Sent, Actions).
// Errors, latency and rate limits can be injected (InjectError,
// SetLatency, SetRateLimit).
//
// The Sim also plays Messenger users: SendText, Postback, Read, … build a
// webhook, sign it (X-Hub-Signature-256 and the legacy X-Hub-Signature)
// and POST it to Options.WebhookURL. Bodies are serialised the way Meta
// does — ASCII only, \uXXXX escapes with lowercase hex and "\/" — unless
// RawUTF8 is asked for. After each accepted send the page's echo follows
// (is_echo, app_id as a JSON number). Rejected deliveries are retried on a
// compressed schedule and then recorded as Failures.
//
// The 24-hour window is computed only from inbound events the simulator
// itself delivered (messages, postbacks, referrals, reactions, opt-ins;
// never echoes, reads or deliveries), on the Options.Now clock.
//
// # Simplifications (deliberate, documented)
//
//   - Only recipient {"id": PSID} is supported (no user_ref, comment_id,
//     post_id, phone_number); only button and generic templates; no
//     personas (persona_id is refused).
//   - The simulator is stricter than Meta where Meta is lenient in ways
//     that hide bugs: messaging_type is required for messages, a tag with
//     RESPONSE/UPDATE is refused, unknown top-level Send API parameters
//     (e.g. a top-level "metadata", which belongs in message.metadata) and
//     unknown fields in the message object are refused.
//   - The 2026 tag deprecation applies whatever the clock says.
//   - Media URLs are checked for shape, never fetched.
//   - Permissions: tokens from the dialog carry the requested scopes;
//     /me/accounts needs pages_show_list (else empty), sends and the
//     profile need pages_messaging (#230), subscribed_apps needs
//     pages_manage_metadata (#200). Tokens from UserToken and PageToken
//     have every permission. Login for Business (config_id) grants all.
//   - Short-lived user tokens live 2 hours; page tokens from a long-lived
//     user token never expire; codes live 10 minutes.
//   - Graph paging links carry the access token in the query string, as
//     Meta's do: a client that follows them verbatim leaks the token into
//     URLs (Call.Query shows it).
//   - Webhook retries are compressed (Options.RetryDelays); Meta's
//     unsubscribe-after-an-hour is not simulated. Delivery events carry no
//     timestamp, as in Meta's documentation.
//   - Several messages (exact wording of some 100 errors, the OAuth code
//     subcodes 36007–36009) follow Meta's style but are not verified
//     against live Meta; the codes and subcodes Parley acts on (190, 10/
//     2018278, 551/1545041, 100/2018001, 613, 2018218) are.
//   - Instagram and WhatsApp are not simulated yet; the envelope and
//     routing leave room for them (object "instagram", other ID kinds).
//
// The /_sim/ endpoints (state, playing a person, setting the webhook URL,
// profile pictures) are the simulator's own, for the standalone tool (Run);
// they have no authentication, so the simulator listens on loopback.
//
// metasim must not import any Parley package.
package metasim

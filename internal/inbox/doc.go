// Package inbox owns conversations and their messages (tables
// conversations, messages and inbound_keys of migration 00007, reshaped by
// 00017, and inbox_settings of 00017): what people write, what the bot,
// the AI agent and human agents answer, the one path every outgoing
// message takes to the platform (promises P-15 to P-17), and the shared
// inbox around them (P-24): statuses, ownership, assignment, the list and
// the full timeline.
//
// # Statuses (status.go)
//
// open (a person must answer), pending (the bot or the AI agent handles
// it), snoozed (until SnoozedUntil) and resolved. A message from the person
// reopens a resolved conversation and wakes a snoozed one; a pending one
// stays with automation until a person takes over, which opens it. Snooze
// schedules a durable "inbox.wake" job carrying IDs only, which does
// nothing if the conversation was woken, reopened or snoozed again
// meanwhile.
//
// # Ownership (owner.go)
//
// The owner (bot, ai, human, nobody) changes only through transition,
// which checks the change against a table of allowed transitions per
// Reason (agent_reply, takeover, page_echo, handover, handoff, assign,
// return_to_bot, silence_timeout, to_ai, release) and records it on the
// timeline. A member's reply (Reply with SenderAgent) and a reply from the
// Page inbox (a foreign echo) make the conversation human-owned; while it
// is, queue — the path of every message — refuses every automated sender
// (flow, AI agent, broadcast) with ErrHumanOwned. "Return to bot" is by
// hand (ReturnToBot, SetOwner) or automatic after the workspace's
// Settings.ReturnToBotAfter of silence: each message from a person
// schedules an "inbox.return_to_bot" job, and only one that finds the
// silence complete acts.
//
// # Assignment and teams (assign.go)
//
// Assign gives a conversation to a member who may answer (owner, admin or
// agent; never a viewer). SetTeam moves it to a team Options.Teams knows.
// When automation hands off (to a team or not), and for new conversations
// when the workspace auto-assigns, Options.Teams.Pick chooses the assignee
// inside the same transaction.
//
// # Reading (list.go, history.go, seen.go)
//
// List filters by status, assignee, team, channel, tag and unread and
// pages by an opaque keyset cursor over (last_activity_at, id), through
// indexes ordered like the list, so that a deep page costs what the first
// does at a million conversations. Timeline merges messages with timeline
// events (package timeline), newest first. MarkSeen clears unread and
// tells the platform (mark_seen, a job) once per new inbound message
// inside the window; Typing sends typing indicators, throttled, for
// human-owned conversations.
//
// # Inbound: Service.Ingest
//
// The webhook intake calls Ingest with a batch of normalized events inside
// its own transaction. For each event, in order: the contact (package
// contact) and its conversation are found or created, the event is
// deduplicated (by platform message ID through the unique index on
// messages, or by Inbound.Key through inbound_keys) so that a redelivered
// webhook changes nothing and produces no second reply, the message is
// stored with its body sealed, the conversation's window and counters move,
// and — unless the event came on standby or the conversation is owned by a
// human — the Responder is asked for replies, which are queued in the same
// transaction. Ingest returns Effects; the caller Notifies the queues after
// commit.
//
// Echoes of Parley's own sends (Options.AppID) are matched to the outgoing
// message by the message ID Parley put in the send's metadata, or by
// platform ID: never a second row. Echoes from anyone else (another app, a
// person in Meta's inbox) are stored as the Page's messages and hand the
// conversation to a human, so the bot stops talking. Deliveries and reads
// move outgoing messages forward (sent → delivered → read, never back).
//
// # Outbound: Service.Reply and the "inbox.send" job
//
// Every sender (agents through Reply, responders inside Ingest, later
// flows and broadcasts) goes through queue: channel.Decide says whether the
// message may go out now and how (promise P-16), the platform adapter
// splits or refuses the content, each part is stored as a queued message
// and an "inbox.send" job is enqueued with the conversation as ordering
// key, so one conversation's messages go out one at a time, in order. The
// job checks the policy again, commits status "sending" before calling the
// platform, and never sends a message twice: a send whose outcome is
// unknown (a timeout after the request was written, or a worker that died
// mid-call) is resolved by waiting for its echo, and marked failed
// "unknown_outcome" if none comes.
//
// # Automation: Responder and Automate
//
// The Responder (the flow runner, or the fixed AutoReply) answers inside
// Ingest's transaction with a Response: replies, then optionally a handoff
// to people and a resolve. Work automation does later, outside an inbound
// event (a delay ending, an HTTP answer), goes through Automate in the
// job's own transaction, after LockConversation has ordered it with the
// conversation's inbound events. Both apply a Response the same way
// (automate.go): every reply through queue, so policy and adapter decide as
// for anyone; the handoff and the resolve audited with the flow as their
// author; and nothing at all, ErrNotAutomated, once a person owns the
// conversation.
//
// A new person's profile (names) is fetched by a "contact.profile" job
// queued in the transaction that stored their first message, so a
// Responder cannot know the name yet: Incoming.ProfilePending says so, and
// Options.OnProfile (a ProfileListener) hears when the fetch has ended and
// its outcome is stored, so that a responder that chose to wait for the
// name (the flow runner) can answer then.
//
// # Sealing (promises P-15, P-30, P-33)
//
// Message bodies are the JSON of channel.Content sealed under the
// contact's key, bound to (workspace, "messages", "body", message ID), so
// erasing a contact shreds their messages. A message the person unsent is
// kept with its body replaced by a sealed {"deleted":true}, and
// Options.Unsent hears of it in the same transaction so that derived
// copies (the search index) go with the text. No message text reaches
// logs or job payloads: jobs carry IDs only.
//
// # Changes: Options.Changed
//
// Open dashboards update live: Options.Changed hears a Change (IDs and a
// kind, never content) once the work is committed — inbound messages and
// automatic replies through the Effects the caller Notifies, agents'
// replies, send results, owner, status, snooze, assignment and team
// changes, foreign echoes, policy blocks and unblocks, unsends and fetched
// profiles as they commit.
// Nothing rolled back or refused is told. The app adapts Changes to
// package realtime, which inbox must not import (it sits above inbox).
//
// # Tables of others
//
// inbox reads contacts.external_id in joins (the PSID a send goes to),
// and contact_identities.external_id for a conversation on a channel whose
// identity was merged into its contact (send.go's sqlLoadOutgoing); it never
// writes them, which belong to package contact. MoveContact (merge.go) is
// the inbox's part of contact.Store.Merge: it re-points conversations and
// messages and re-seals message bodies under the kept contact's key. An
// inbound event racing a merge of its contact is safe because the
// contact's lookup (Upsert/Lookup, inside the ingest transaction) holds
// the contact's row FOR SHARE on PostgreSQL until the event is stored:
// the merge waits, or the event waits and resolves to the kept contact.
// SetTeam and handoffs route to a team through Teams.Has inside their
// transaction, which holds the team against a concurrent delete (package
// team's doc gives the lock order).
//
// # Imports
//
// inbox imports contact, channel, timeline, job, keyring, db and audit. It must not
// import channel adapters, net/http or anything above it in the dependency
// rule: the app wires adapters in through Options.
package inbox

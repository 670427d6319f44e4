// Package run executes flows: the runner of issue 4. It owns the tables
// flow_sessions, flow_node_stats and flow_errors (migration 00012).
//
// # The pure core
//
// Program.Step is a step machine without I/O, clock or randomness of its
// own: given a compiled flow version (Compile), a session State, an Input
// (a message, a tap, a delay's end, a question's timeout, an HTTP
// outcome) and an Env (the contact, the time, the time zone, a random
// source), it executes nodes until the session must wait or ends, and
// returns an Output: the replies (channel.Content, which the channel's
// adapter fits to the platform), the actions (rendered, to apply), what
// the session waits for, a handoff, node events for statistics and
// problems for the author. A run executes at most Env.MaxSteps nodes
// (DefaultMaxSteps) without waiting: a flow that jumps forever stops with
// an error the author sees. Simulate and BenchmarkStepMessage
// (flow_step_cpu_us) use the core directly.
//
// # The runner
//
// Runner is the inbox's Responder, so it runs inside the transaction that
// stored the person's message: per-conversation ordering and
// deduplication come from the inbox, a redelivered message never reaches
// it, and it is never asked while a person owns the conversation. It
// loads the conversation's session; a tap on a payload it generated
// continues that flow version's node (payloads carry flow, version, node
// and choice under a MAC: see Payloads); a session waiting for the
// contact takes the answer (validated, retried up to its limit, saved to
// its custom field in the same transaction); otherwise the workspace's
// published flows' triggers are matched (compiled once per workspace and
// revision of the flow store) and the winner's live version starts. With
// nothing matched the channel's fixed automatic reply answers, as before
// flows. A session is pinned to the version it started on.
//
// A flow that reads names and starts for a new contact whose profile is
// still being fetched is held (StatusStarting) until the inbox's profile
// job ends (Runner.ProfileSettled, an inbox.ProfileListener) or a short
// durable timeout fires, so the first reply greets the person by name;
// a message arriving meanwhile starts it first (profile.go).
//
// Waits are durable jobs: KindResume for a delay's end or a question's
// timeout (run_at the deadline), KindHTTP for a request, made outside
// any transaction and applied in one of its own. Each job carries the
// session's token, which grows with every step, so a job made stale by a
// reply or a newer run does nothing. They have no ordering key (that would
// hold the conversation's sends back for the whole wait); a job's
// transaction locks the conversation (inbox.LockConversation) first, and
// replies leave through inbox.Automate, so the policy, the adapter,
// ownership and the send order are the inbox's as for any reply. What a
// job resumes waits while the kill switch pauses processing
// (Options.Paused) and ends without a word for a contact automation may
// not touch or in a workspace being deleted (Options.Blocked; stop.go).
//
// Session variables are personal data (answers): they are sealed under
// the contact's key. Problems recorded in flow_errors are Parley's words
// and never carry contact data; job payloads carry IDs and the token only.
//
// # Imports
//
// run imports flow, flow/trigger, inbox, contact, channel, job, keyring,
// db and validate. It must not import net/http (package flow/httpcall
// implements Caller over the guarded outbound client) nor anything above
// the flow line of the dependency rule (api, web, app).
package run

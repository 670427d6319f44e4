// Package flow owns the flow document: the JSON format (version 1) in which
// businesses write their chatbots — triggers, a start node and typed nodes
// joined by stable IDs — and everything that can be said about a document
// without running it.
//
//   - Parse reads a document strictly: unknown fields, unknown node or
//     trigger types, oversized documents and future format versions are
//     refused with an error naming the node and field (ParseError).
//   - Document.MarshalJSON writes the same flat shape back, so
//     Parse → MarshalJSON → Parse gives an equal Document; Export writes the
//     indented, secret-free form for "bots as code"; KeepSecrets puts the
//     stored secret header values back into a document that came back
//     without them (only where a node still calls the same origin).
//   - Validate lists what stops a document from being published (Problem
//     with a Severity): dangling edges, unreachable nodes, loops that never
//     wait for the contact, unknown custom fields, teams or flows, bad
//     patterns, durations and addresses.
//   - Render and Variables implement the {{contact.first_name|there}}
//     variables; RenderJSON renders them inside a JSON request body.
//   - QuestionNode.Check validates and normalizes typed answers (phone
//     numbers to E.164); BusinessHours.Open evaluates opening hours.
//
// The format itself is documented for authors in docs/flows.md; example
// flows in examples/flows are parsed and validated by this package's tests.
//
// # Storage
//
// Store (store*.go) keeps each workspace's flows: an editable draft and
// numbered, immutable published versions, all sealed whole under the
// workspace key (they hold secret header values). Publish validates the
// draft against the workspace's custom fields, tags and flows and, in one
// transaction, stores the next version, makes it live, bumps the
// workspace's flow revision (flow_revisions, which runners cache compiled
// triggers by) and audits. Version, Published and Revision read through
// the caller's transaction so the runner can use them on its hot path;
// versions are cached in memory, bounded.
//
// # Imports
//
// The document model (everything but store*.go) is pure: it imports
// channel (channel type names), validate (e-mail addresses) and the phone
// number library. The store imports db, keyring, audit and contact (field
// and tag definitions), all below it in the dependency rule, and gets its
// database, keyring and clock from its constructor. Nothing here imports
// net/http or anything above flow. Trigger matching lives in flow/trigger,
// which does not import this package.
package flow

// Package canned owns canned responses (issue 5): replies a workspace's
// agents write once and insert in the reply box by typing "/" and a
// shortcut. Migration 00018: table canned_responses.
//
// A canned response is workspace content written for every contact, not
// personal data: it is kept in clear (a placeholder such as
// {{contact.first_name}} is filled in when the agent inserts it, by
// Render, and what is sent is then sealed with the message like any
// reply). Creating, updating and deleting one is audited with its ID and
// shortcut, never its body.
//
// Shortcuts are unique per workspace and match [a-z0-9][a-z0-9_-]{0,31};
// List finds responses whose shortcut or title starts with what the agent
// typed, for the reply box's autocomplete.
//
// # Rendering
//
// Render fills {{name}} and {{name|default}} like flow.Render does. It is
// a deliberate small duplicate: package flow sits on a higher line of the
// dependency rule, and canned must not import it.
//
// # Imports
//
// canned sits on contact's line of the dependency rule: it imports db,
// audit and validate. It must not import inbox, flow or any package above
// them. It reads no other package's tables.
package canned

package contact

import (
	"strings"

	"github.com/parleyhq/parley/internal/audit"
)

// ByKind is what kind of author changed a contact's fields or tags.
type ByKind string

// Authors of a change. Agents act as users (or API keys through the API);
// flows, the AI agent and Parley itself (imports, merges) act on their own.
const (
	ByUser   ByKind = "user"
	ByAPIKey ByKind = "api_key"
	ByFlow   ByKind = "flow"
	ByAI     ByKind = "ai"
	BySystem ByKind = "system"
)

// By names who set a field value or added a tag, kept beside it so the CRM
// can say "set by the flow Welcome" or "tagged by Dara". Kind is required;
// ID is the user, API key or flow ID ("" for ai and system).
type By struct {
	Kind ByKind
	ID   string
}

// ByActor is the author of a change made through the dashboard or the API
// by a (the API key when the actor has no user).
func ByActor(a audit.Actor) By {
	if a.UserID == "" && a.APIKeyID != "" {
		return By{Kind: ByAPIKey, ID: a.APIKeyID}
	}
	return By{Kind: ByUser, ID: a.UserID}
}

// String is how By is stored: "kind:id", or "kind" without an ID.
func (b By) String() string {
	if b.ID == "" {
		return string(b.Kind)
	}
	return string(b.Kind) + ":" + b.ID
}

// parseBy reads what String wrote.
func parseBy(s string) By {
	kind, id, _ := strings.Cut(s, ":")
	return By{Kind: ByKind(kind), ID: id}
}

// valid reports whether b names a known kind of author.
func (b By) valid() bool {
	switch b.Kind {
	case ByUser, ByAPIKey, ByFlow:
		return b.ID != ""
	case ByAI, BySystem:
		return true
	}
	return false
}

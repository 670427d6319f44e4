package inbox

import "context"

// ChangeKind says what changed in a Change.
type ChangeKind string

// Change kinds.
const (
	// ChangeConversation is a conversation's owner, status or assignee.
	ChangeConversation ChangeKind = "conversation"
	// ChangeMessage is a message stored, queued, sent or failed in a
	// conversation.
	ChangeMessage ChangeKind = "message"
)

// Change names something that changed, by ID only: never content, names
// or any other personal data. Options.Changed hears it once the
// transaction that made it has committed.
type Change struct {
	Kind           ChangeKind
	WorkspaceID    string
	ConversationID string
	ContactID      string
}

// ChangeListener hears committed changes (Options.Changed). It is called
// on the goroutine that committed, so it must not block; its failures are
// its own (log them): the change has happened whatever it does.
type ChangeListener func(ctx context.Context, c Change)

// changed tells Options.Changed about c. Call it only after the
// transaction that made c has committed.
func (s *Service) changed(ctx context.Context, c Change) {
	if s.opt.Changed != nil {
		s.opt.Changed(ctx, c)
	}
}

// addChange records c in e, once: a batch touching a conversation many
// times tells about it once per kind.
func (e *Effects) addChange(c Change) {
	for _, o := range e.changes {
		if o == c {
			return
		}
	}
	e.changes = append(e.changes, c)
}

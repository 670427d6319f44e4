package search

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/inbox"
)

// NewContactSource returns the ContactSource of package contact.
func NewContactSource(s *contact.Store) ContactSource { return contactSource{s} }

type contactSource struct{ s *contact.Store }

func (c contactSource) FeedContacts(ctx context.Context, idb bun.IDB, afterAt time.Time, afterID string, until time.Time, n int) ([]ContactText, error) {
	cs, err := c.s.FeedSearchable(ctx, idb, afterAt, afterID, until, n)
	if err != nil {
		return nil, err
	}
	out := make([]ContactText, len(cs))
	for i, x := range cs {
		out[i] = ContactText(x)
	}
	return out, nil
}

func (c contactSource) Contacts(ctx context.Context, idb bun.IDB, workspaceID string, ids []string) (map[string]ContactText, error) {
	cs, err := c.s.SearchableByID(ctx, idb, workspaceID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ContactText, len(cs))
	for id, x := range cs {
		out[id] = ContactText(x)
	}
	return out, nil
}

// NewMessageSource returns the MessageSource of package inbox.
func NewMessageSource(s *inbox.Service) MessageSource { return messageSource{s} }

type messageSource struct{ s *inbox.Service }

func (m messageSource) FeedMessages(ctx context.Context, idb bun.IDB, afterAt time.Time, afterID string, until time.Time, n int) ([]MessageText, error) {
	ms, err := m.s.FeedMessageTexts(ctx, idb, afterAt, afterID, until, n)
	if err != nil {
		return nil, err
	}
	out := make([]MessageText, len(ms))
	for i, x := range ms {
		out[i] = MessageText(x)
	}
	return out, nil
}

func (m messageSource) Messages(ctx context.Context, idb bun.IDB, workspaceID string, ids []string) (map[string]MessageText, error) {
	ms, err := m.s.MessageTextsByID(ctx, idb, workspaceID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]MessageText, len(ms))
	for id, x := range ms {
		out[id] = MessageText(x)
	}
	return out, nil
}

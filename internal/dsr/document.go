package dsr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/timeline"
)

// FormatVersion names the layout of contact.json in export archives.
const FormatVersion = "parley.contact-export/1"

// Document is everything Parley holds about one contact, as an export
// carries it (contact.json). It holds the contact's own data and the
// business's records about them, never secrets (tokens, keys, sealed
// bytes) and never another contact's data (security.md §3.O O-7).
type Document struct {
	Format     string            `json:"format"`
	ExportedAt time.Time         `json:"exported_at"`
	Contact    DocContact        `json:"contact"`
	Identities []DocIdentity     `json:"identities"`
	Fields     map[string]string `json:"fields"`
	Tags       []string          `json:"tags"`
	// Activity holds the contact's notes and every other activity entry,
	// oldest first (notes on a conversation are in Conversations).
	Activity      []DocActivity     `json:"activity"`
	Conversations []DocConversation `json:"conversations"`
	Consents      []DocConsent      `json:"consents"`
	Privacy       DocPrivacy        `json:"privacy"`
	Requests      []DocRequest      `json:"requests"`
	// Attachments lists the files under attachments/ in the archive.
	Attachments []string `json:"attachments"`
	// NotIncluded lists the attachments that could not be included (their
	// file is missing or unreadable), so the person knows they exist.
	NotIncluded []DocNotIncluded `json:"attachments_not_included"`
	// SharedWith names where the contact's messages went: the platforms of
	// the channels they wrote on.
	SharedWith []string `json:"shared_with"`
}

// DocNotIncluded is an attachment that could not be included in the
// archive, and why.
type DocNotIncluded struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// DocContact is the contact's profile.
type DocContact struct {
	ID             string    `json:"id"`
	FirstName      string    `json:"first_name"`
	LastName       string    `json:"last_name"`
	Locale         string    `json:"locale"`
	PictureURL     string    `json:"picture_url"`
	Stage          string    `json:"stage"`
	Subscribed     bool      `json:"subscribed"`
	SubscribedAt   time.Time `json:"subscribed_at,omitzero"`
	UnsubscribedAt time.Time `json:"unsubscribed_at,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
}

// DocIdentity is one platform identity of the contact.
type DocIdentity struct {
	ChannelID  string    `json:"channel_id"`
	Platform   string    `json:"platform"`
	ExternalID string    `json:"external_id"`
	Since      time.Time `json:"since"`
}

// DocActivity is one activity entry (notes included).
type DocActivity struct {
	Kind  string            `json:"kind"`
	Actor string            `json:"actor"`
	Data  map[string]string `json:"data"`
	At    time.Time         `json:"at"`
}

// DocConversation is one conversation with its messages and the team's
// private notes on it, each oldest first.
type DocConversation struct {
	ID        string       `json:"id"`
	ChannelID string       `json:"channel_id"`
	Status    string       `json:"status"`
	CreatedAt time.Time    `json:"created_at"`
	Messages  []DocMessage `json:"messages"`
	Notes     []DocNote    `json:"notes"`
}

// DocNote is one private note the team wrote on a conversation: notes are
// about the person, so they are theirs to see (Art 15).
type DocNote struct {
	ID string `json:"id"`
	// Author is who wrote it ("user:<id>" or "api_key:<id>").
	Author   string    `json:"author"`
	At       time.Time `json:"at"`
	EditedAt time.Time `json:"edited_at,omitzero"`
	// Text is the note as written; "" when Erased.
	Text string `json:"text"`
	// Erased: the text was erased for good (the key it was sealed under is
	// destroyed) and cannot be exported.
	Erased bool `json:"erased,omitempty"`
}

// DocMessage is one message, its content opened.
type DocMessage struct {
	ID        string          `json:"id"`
	Direction string          `json:"direction"`
	Sender    string          `json:"sender"`
	Kind      string          `json:"kind"`
	Content   channel.Content `json:"content"`
	Deleted   bool            `json:"deleted,omitempty"`
	Status    string          `json:"status"`
	At        time.Time       `json:"at"`
}

// DocConsent is one consent change.
type DocConsent struct {
	ChannelID string    `json:"channel_id"`
	State     string    `json:"state"`
	Source    string    `json:"source"`
	Actor     string    `json:"actor"`
	At        time.Time `json:"at"`
}

// DocPrivacy is the contact's flags.
type DocPrivacy struct {
	Restricted bool `json:"restricted"`
	Objected   bool `json:"objected"`
	Minor      bool `json:"minor"`
}

// DocRequest is one data-subject request of the contact.
type DocRequest struct {
	Kind       string    `json:"kind"`
	State      string    `json:"state"`
	ReceivedAt time.Time `json:"received_at"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
}

// progress hears how far building a document got (steps done of total).
type progress func(done, total int) error

// document gathers the workspace's contact's data. report, when set, is
// called after each conversation so that a job can show progress.
func (s *Service) document(ctx context.Context, workspaceID, contactID string, report progress) (Document, error) {
	ct, err := s.opt.Contacts.Get(ctx, workspaceID, contactID)
	if err != nil {
		return Document{}, fmt.Errorf("contact: %w", err)
	}
	doc := Document{
		Format: FormatVersion, ExportedAt: s.now(), Fields: map[string]string{}, Tags: []string{},
		Activity: []DocActivity{}, Conversations: []DocConversation{}, Consents: []DocConsent{}, Requests: []DocRequest{},
		Attachments: []string{}, NotIncluded: []DocNotIncluded{}, SharedWith: []string{}, Identities: []DocIdentity{},
		Contact: DocContact{ID: ct.ID, FirstName: ct.FirstName, LastName: ct.LastName, Locale: ct.Locale, PictureURL: ct.PictureURL,
			Stage: ct.Stage, Subscribed: ct.Subscribed, SubscribedAt: ct.SubscribedAt, UnsubscribedAt: ct.UnsubscribedAt, CreatedAt: ct.CreatedAt},
	}
	ids, err := s.opt.Contacts.Identities(ctx, workspaceID, contactID)
	if err != nil {
		return Document{}, fmt.Errorf("identities: %w", err)
	}
	platforms := map[string]string{}
	for _, id := range ids {
		p, err := s.platform(ctx, workspaceID, id.ChannelID, platforms)
		if err != nil {
			return Document{}, err
		}
		doc.Identities = append(doc.Identities, DocIdentity{ChannelID: id.ChannelID, Platform: p, ExternalID: id.ExternalID, Since: id.Since})
	}
	vals, err := s.opt.Contacts.FieldValues(ctx, workspaceID, contactID)
	if err != nil {
		return Document{}, fmt.Errorf("fields: %w", err)
	}
	for k, v := range vals {
		doc.Fields[k] = v.Text
	}
	tags, err := s.opt.Contacts.ContactTags(ctx, workspaceID, contactID)
	if err != nil {
		return Document{}, fmt.Errorf("tags: %w", err)
	}
	for _, t := range tags {
		doc.Tags = append(doc.Tags, t.Name)
	}
	if doc.Activity, err = s.activity(ctx, workspaceID, contactID); err != nil {
		return Document{}, err
	}
	hist, err := consents(ctx, s.d.R, workspaceID, contactID)
	if err != nil {
		return Document{}, fmt.Errorf("consents: %w", err)
	}
	for _, c := range hist {
		doc.Consents = append(doc.Consents, DocConsent{ChannelID: c.ChannelID, State: string(c.State), Source: c.Source, Actor: c.Actor, At: c.At})
	}
	f, err := readFlags(ctx, s.d.R, workspaceID, contactID)
	if err != nil {
		return Document{}, fmt.Errorf("flags: %w", err)
	}
	doc.Privacy = DocPrivacy{Restricted: f.Restricted, Objected: f.Objected, Minor: f.Minor}
	reqs, err := s.List(ctx, workspaceID, Filter{ContactID: contactID})
	if err != nil {
		return Document{}, err
	}
	for _, r := range reqs {
		doc.Requests = append(doc.Requests, DocRequest{Kind: string(r.Kind), State: string(r.State), ReceivedAt: r.ReceivedAt, ClosedAt: r.ClosedAt})
	}
	convs, err := s.conversations(ctx, workspaceID, contactID)
	if err != nil {
		return Document{}, err
	}
	for i, c := range convs {
		dc, err := s.conversation(ctx, workspaceID, contactID, c)
		if err != nil {
			return Document{}, err
		}
		doc.Conversations = append(doc.Conversations, dc)
		if _, err := s.platform(ctx, workspaceID, c.ChannelID, platforms); err != nil {
			return Document{}, err
		}
		if report != nil {
			if err := report(i+1, len(convs)); err != nil {
				return Document{}, err
			}
		}
	}
	for _, p := range platforms {
		if p != "" && !contains(doc.SharedWith, p) {
			doc.SharedWith = append(doc.SharedWith, p)
		}
	}
	return doc, nil
}

// platform names the channel's platform (memoized in seen; "" for a
// channel that is gone).
func (s *Service) platform(ctx context.Context, workspaceID, channelID string, seen map[string]string) (string, error) {
	if p, ok := seen[channelID]; ok || channelID == "" {
		return p, nil
	}
	var types []string
	if err := s.d.R.NewRaw(`SELECT type FROM channels WHERE workspace_id = ? AND id = ?`, workspaceID, channelID).Scan(ctx, &types); err != nil {
		return "", fmt.Errorf("channel: %w", err)
	}
	p := ""
	if len(types) > 0 {
		p = types[0]
	}
	seen[channelID] = p
	return p, nil
}

// activity reads every activity entry of the contact, oldest first.
func (s *Service) activity(ctx context.Context, workspaceID, contactID string) ([]DocActivity, error) {
	var all []activity.Entry
	before := ""
	for {
		page, err := s.opt.Activity.List(ctx, workspaceID, contactID, before, activity.MaxPage)
		if err != nil {
			return nil, fmt.Errorf("activity: %w", err)
		}
		all = append(all, page...)
		if len(page) < activity.MaxPage {
			break
		}
		before = page[len(page)-1].ID
	}
	out := make([]DocActivity, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		data := e.Data
		if data == nil {
			data = map[string]string{}
		}
		out = append(out, DocActivity{Kind: e.Kind, Actor: e.Actor, Data: data, At: e.At})
	}
	return out, nil
}

type convRef struct {
	ID        string    `bun:"id"`
	ChannelID string    `bun:"channel_id"`
	Status    string    `bun:"status"`
	CreatedAt time.Time `bun:"created_at"`
}

// conversations lists the contact's conversations, oldest first.
func (s *Service) conversations(ctx context.Context, workspaceID, contactID string) ([]convRef, error) {
	var out []convRef
	if err := s.d.R.NewRaw(`SELECT id, channel_id, status, created_at FROM conversations WHERE workspace_id = ? AND contact_id = ?
		ORDER BY created_at, id`, workspaceID, contactID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	return out, nil
}

// conversation reads every message of c, oldest first, opened by the
// inbox, and its private notes.
func (s *Service) conversation(ctx context.Context, workspaceID, contactID string, c convRef) (DocConversation, error) {
	var msgs []inbox.Message
	before := ""
	for {
		page, err := s.opt.Inbox.Messages(ctx, workspaceID, c.ID, inbox.MaxLimit, before)
		if err != nil {
			return DocConversation{}, fmt.Errorf("messages: %w", err)
		}
		msgs = append(msgs, page...)
		if len(page) < inbox.MaxLimit {
			break
		}
		before = page[len(page)-1].ID
	}
	dc := DocConversation{ID: c.ID, ChannelID: c.ChannelID, Status: c.Status, CreatedAt: c.CreatedAt.UTC(), Messages: make([]DocMessage, 0, len(msgs))}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		dc.Messages = append(dc.Messages, DocMessage{ID: m.ID, Direction: string(m.Direction), Sender: string(m.SenderType), Kind: m.Kind,
			Content: m.Content, Deleted: m.Deleted, Status: string(m.Status), At: m.CreatedAt})
	}
	notes, err := s.notes(ctx, workspaceID, contactID, c.ID)
	if err != nil {
		return DocConversation{}, err
	}
	dc.Notes = notes
	return dc, nil
}

// notes reads the private notes of the contact's conversation, oldest
// first, opened by the timeline (none without Options.Timeline). A note
// whose event names another contact is left out: an export never carries
// another person's data.
func (s *Service) notes(ctx context.Context, workspaceID, contactID, conversationID string) ([]DocNote, error) {
	out := []DocNote{}
	if s.opt.Timeline == nil {
		return out, nil
	}
	var all []timeline.Entry
	var before time.Time
	for {
		page, err := s.opt.Timeline.List(ctx, workspaceID, conversationID, time.Time{}, before, timeline.MaxPage)
		if errors.Is(err, db.ErrNotFound) {
			return out, nil // the conversation was deleted meanwhile: nothing of it is held
		}
		if err != nil {
			return nil, fmt.Errorf("notes: %w", err)
		}
		all = append(all, page...)
		if len(page) < timeline.MaxPage {
			break
		}
		// A page ends with every event at its oldest instant: the next
		// one starts strictly before it.
		before = page[len(page)-1].At
	}
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		if e.Kind != timeline.KindNote || e.Note == nil || e.ContactID != contactID {
			continue
		}
		out = append(out, DocNote{ID: e.ID, Author: e.Actor, At: e.At, EditedAt: e.Note.EditedAt, Text: e.Note.Text, Erased: e.Note.Erased})
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

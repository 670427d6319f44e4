package inbox

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Unassigned is the ListOptions.Assignee of conversations nobody is
// assigned.
const Unassigned = "none"

// ListOptions select and page conversations. Every filter is optional and
// they combine with AND.
type ListOptions struct {
	// Status keeps conversations in any of these statuses (none: all).
	Status []Status
	// Assignee keeps one member's conversations (a user ID), or Unassigned.
	Assignee string
	// TeamID keeps a team's conversations; ChannelID one channel's.
	TeamID    string
	ChannelID string
	// TagID keeps conversations whose contact has the tag.
	TagID string
	// Unread keeps conversations where the person wrote since an agent
	// last opened them (MarkSeen).
	Unread bool
	// Limit caps the page (default DefaultLimit, at most MaxLimit).
	Limit int
	// Cursor is Page.NextCursor of the previous page ("" for the first).
	Cursor string
}

// Page is a page of conversations.
type Page struct {
	Conversations []Summary
	// NextCursor continues the list after this page ("" when it is the
	// last).
	NextCursor string
}

// cursor is the keyset position after a conversation: the list is ordered
// by (last_activity_at, id) descending.
type cursor struct {
	at time.Time
	id string
}

// encode makes c opaque: base64url of "<unix micros>.<id>". It carries no
// workspace: every query is scoped by the caller's, so a cursor taken from
// another workspace only positions, it never lets that one's rows through.
func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%s", c.at.UnixMicro(), c.id)))
}

// decodeCursor reads what encode wrote; anything else is ErrInvalid.
func decodeCursor(s string) (cursor, error) {
	bad := fmt.Errorf("%w: malformed cursor", ErrInvalid)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 200 {
		return cursor{}, bad
	}
	micros, id, ok := strings.Cut(string(b), ".")
	if !ok || id == "" || strings.ContainsAny(id, " \t\n") {
		return cursor{}, bad
	}
	var us int64
	if _, err := fmt.Sscanf(micros, "%d", &us); err != nil || fmt.Sprint(us) != micros {
		return cursor{}, bad
	}
	return cursor{at: time.UnixMicro(us).UTC(), id: id}, nil
}

// List lists the workspace's conversations matching opt, most recently
// active first, each with its contact's name and its newest message
// opened. A malformed cursor, an unknown status or a negative limit is
// ErrInvalid.
//
// Every filter the list opens with has an index ordered like the list
// (migration 00017: conversations_recent, _status, _assignee, _team), so a
// page walks one index from the cursor on and stops after Limit rows, the
// first page as a deep one, whatever the workspace's size. Filters beyond
// the first are checked on the rows walked.
func (s *Service) List(ctx context.Context, workspaceID string, opt ListOptions) (Page, error) {
	if opt.Limit < 0 {
		return Page{}, fmt.Errorf("inbox: list: %w: negative limit", ErrInvalid)
	}
	q, args, err := listQuery(workspaceID, opt)
	if err != nil {
		return Page{}, fmt.Errorf("inbox: list: %w", err)
	}
	n := limit(opt.Limit)
	var rows []convRow
	if err := s.d.R.NewRaw(q, append(args, n+1)...).Scan(ctx, &rows); err != nil {
		return Page{}, fmt.Errorf("inbox: list: %w", err)
	}
	page := Page{}
	if len(rows) > n {
		rows = rows[:n]
		last := rows[n-1]
		page.NextCursor = cursor{at: last.LastActivityAt.UTC(), id: last.ID}.encode()
	}
	if page.Conversations, err = s.summaries(ctx, workspaceID, rows); err != nil {
		return Page{}, fmt.Errorf("inbox: list: %w", err)
	}
	return page, nil
}

// Conversations is List's first page without its cursor, for callers that
// need one page and no paging (tests and fixtures today).
func (s *Service) Conversations(ctx context.Context, workspaceID string, opt ListOptions) ([]Summary, error) {
	p, err := s.List(ctx, workspaceID, opt)
	return p.Conversations, err
}

// listQuery builds List's query; its last placeholder is the LIMIT. The
// index is chosen by the filter written first: the INDEXED BY of SQLite is
// not used, the equality terms on the index's leading columns lead the
// planner there.
func listQuery(workspaceID string, opt ListOptions) (string, []any, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + convCols + ` FROM conversations WHERE workspace_id = ?`)
	args := []any{workspaceID}
	switch len(opt.Status) {
	case 0:
	case 1:
		if !opt.Status[0].Valid() {
			return "", nil, fmt.Errorf("%w: unknown status %q", ErrInvalid, opt.Status[0])
		}
		b.WriteString(` AND status = ?`)
		args = append(args, string(opt.Status[0]))
	default:
		ss := make([]string, len(opt.Status))
		for i, st := range opt.Status {
			if !st.Valid() {
				return "", nil, fmt.Errorf("%w: unknown status %q", ErrInvalid, st)
			}
			ss[i] = string(st)
		}
		// An expression (status || '') keeps the planner off the status
		// index, which cannot give several statuses in list order: the walk
		// goes through the order of a better index and checks each row.
		b.WriteString(` AND status || '' IN (?)`)
		args = append(args, bun.In(ss))
	}
	switch opt.Assignee {
	case "":
	case Unassigned:
		b.WriteString(` AND assignee_id IS NULL`)
	default:
		b.WriteString(` AND assignee_id = ?`)
		args = append(args, opt.Assignee)
	}
	if opt.TeamID != "" {
		b.WriteString(` AND team_id = ?`)
		args = append(args, opt.TeamID)
	}
	if opt.ChannelID != "" {
		b.WriteString(` AND channel_id = ?`)
		args = append(args, opt.ChannelID)
	}
	if opt.TagID != "" {
		b.WriteString(` AND EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = conversations.contact_id
			AND t.tag_id = ? AND t.workspace_id = conversations.workspace_id)`)
		args = append(args, opt.TagID)
	}
	if opt.Unread {
		b.WriteString(` AND last_inbound_at IS NOT NULL AND (agent_last_seen_at IS NULL OR agent_last_seen_at < last_inbound_at)`)
	}
	if opt.Cursor != "" {
		c, err := decodeCursor(opt.Cursor)
		if err != nil {
			return "", nil, err
		}
		b.WriteString(` AND (last_activity_at < ? OR (last_activity_at = ? AND id < ?))`)
		args = append(args, c.at, c.at, c.id)
	}
	b.WriteString(` ORDER BY last_activity_at DESC, id DESC LIMIT ?`)
	return b.String(), args, nil
}

// summaries dresses rows for a list: the contact's name and the newest
// message of each, opened.
func (s *Service) summaries(ctx context.Context, workspaceID string, rows []convRow) ([]Summary, error) {
	if len(rows) == 0 {
		return []Summary{}, nil
	}
	ids := make([]string, len(rows))
	contactIDs := make([]string, len(rows))
	for i := range rows {
		ids[i], contactIDs[i] = rows[i].ID, rows[i].ContactID
	}
	// The newest message of each: one query, through messages_conversation.
	var last []msgRow
	if err := s.d.R.NewRaw(`SELECT `+msgCols+` FROM messages WHERE id IN (
		SELECT (SELECT m.id FROM messages m WHERE m.conversation_id = v.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
		FROM conversations v WHERE v.workspace_id = ? AND v.id IN (?))`, workspaceID, bun.In(ids)).Scan(ctx, &last); err != nil {
		return nil, fmt.Errorf("last messages: %w", err)
	}
	byConv := make(map[string]*Message, len(last))
	for i := range last {
		m, err := s.open(ctx, &last[i])
		if err != nil {
			return nil, err
		}
		byConv[m.ConversationID] = &m
	}
	contacts, err := s.opt.Contacts.GetMany(ctx, workspaceID, contactIDs)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(rows))
	for i := range rows {
		c := rows[i].conversation()
		m := byConv[c.ID]
		out[i] = Summary{
			Conversation: c, ContactName: contacts[c.ContactID].DisplayName(), LastMessage: m,
			Unanswered: m != nil && m.Direction == In,
		}
	}
	return out, nil
}

package inbox

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/parleyhq/parley/internal/timeline"
)

// Item is one entry of a conversation's full timeline: a message (either
// way, with its delivery and read state and attachments) or a timeline
// event (owner, assignment, team, status, snooze, handoff, flow, AI, seen,
// or a private note). Exactly one of Message and Event is set.
type Item struct {
	// At orders the timeline: a message's CreatedAt, an event's At.
	At      time.Time
	Message *Message
	Event   *timeline.Entry
}

// id is the tie-breaker of items at the same instant.
func (it Item) id() string {
	if it.Message != nil {
		return it.Message.ID
	}
	return it.Event.ID
}

// newerThan reports whether it sorts before (is newer than) c in the
// timeline.
func (it Item) newerThan(c cursor) bool {
	return it.At.After(c.at) || (it.At.Equal(c.at) && it.id() > c.id)
}

// TimelinePage is a page of a conversation's timeline, newest first.
type TimelinePage struct {
	Items []Item
	// NextCursor continues with older items ("" when this page holds the
	// oldest).
	NextCursor string
}

// Timeline returns a page of the conversation's full timeline, newest
// first: its messages merged with its timeline events (Options.Timeline;
// without it, messages only). cur is the NextCursor of the previous page
// ("" for the newest); a malformed one is ErrInvalid. n is the page size
// (default DefaultLimit, at most MaxLimit). db.ErrNotFound when the
// conversation is not the workspace's.
//
// Each source is read by keyset for one page more than asked; where a
// source had more, items older than the oldest it returned are left for
// the next page, so nothing between two pages is ever skipped.
func (s *Service) Timeline(ctx context.Context, workspaceID, conversationID, cur string, n int) (TimelinePage, error) {
	page, err := s.timeline(ctx, workspaceID, conversationID, cur, limit(n))
	if err != nil {
		return TimelinePage{}, fmt.Errorf("inbox: timeline: %w", err)
	}
	return page, nil
}

func (s *Service) timeline(ctx context.Context, workspaceID, conversationID, cur string, n int) (TimelinePage, error) {
	var c cursor
	if cur != "" {
		var err error
		if c, err = decodeCursor(cur); err != nil {
			return TimelinePage{}, err
		}
	}
	if _, err := getConversation(ctx, s.d.R, workspaceID, conversationID); err != nil {
		return TimelinePage{}, err
	}
	var items []Item
	var floor *cursor // items older than this may have gaps: next page
	raise := func(f cursor) {
		if floor == nil || f.at.After(floor.at) || (f.at.Equal(floor.at) && f.id > floor.id) {
			floor = &f
		}
	}

	// Messages, by keyset on (created_at, id).
	q := `SELECT ` + msgCols + ` FROM messages WHERE conversation_id = ? AND workspace_id = ?`
	args := []any{conversationID, workspaceID}
	if cur != "" {
		q += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, c.at, c.at, c.id)
	}
	var rows []msgRow
	if err := s.d.R.NewRaw(q+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, n+1)...).Scan(ctx, &rows); err != nil {
		return TimelinePage{}, fmt.Errorf("messages: %w", err)
	}
	for i := range rows {
		m, err := s.open(ctx, &rows[i])
		if err != nil {
			return TimelinePage{}, err
		}
		items = append(items, Item{At: m.CreatedAt, Message: &m})
	}
	if len(rows) > n {
		last := rows[len(rows)-1]
		raise(cursor{at: last.CreatedAt.UTC(), id: last.ID})
	}

	// Events: those at the cursor's very instant that sort after it, then
	// a page of strictly older ones.
	if s.opt.Timeline != nil {
		var older []timeline.Entry
		var err error
		if cur != "" {
			ties, err := s.opt.Timeline.List(ctx, workspaceID, conversationID, c.at.Add(-time.Microsecond), c.at.Add(time.Microsecond), timeline.MaxPage)
			if err != nil {
				return TimelinePage{}, err
			}
			for i := range ties {
				if it := (Item{At: ties[i].At, Event: &ties[i]}); !it.newerThan(c) && it.id() != c.id {
					items = append(items, it)
				}
			}
			older, err = s.opt.Timeline.List(ctx, workspaceID, conversationID, time.Time{}, c.at, n+1)
			if err != nil {
				return TimelinePage{}, err
			}
		} else if older, err = s.opt.Timeline.List(ctx, workspaceID, conversationID, time.Time{}, time.Time{}, n+1); err != nil {
			return TimelinePage{}, err
		}
		for i := range older {
			items = append(items, Item{At: older[i].At, Event: &older[i]})
		}
		if len(older) > n {
			last := older[len(older)-1]
			raise(cursor{at: last.At, id: last.ID})
		}
	}

	sort.Slice(items, func(i, j int) bool {
		if !items[i].At.Equal(items[j].At) {
			return items[i].At.After(items[j].At)
		}
		return items[i].id() > items[j].id()
	})
	more := false
	if floor != nil {
		for i, it := range items {
			if !it.newerThan(*floor) && it.id() != floor.id {
				items, more = items[:i], true
				break
			}
		}
	}
	if len(items) > n {
		items, more = items[:n], true
	}
	page := TimelinePage{Items: items}
	if page.Items == nil {
		page.Items = []Item{}
	}
	if more && len(items) > 0 {
		last := items[len(items)-1]
		page.NextCursor = cursor{at: last.At, id: last.id()}.encode()
	}
	return page, nil
}

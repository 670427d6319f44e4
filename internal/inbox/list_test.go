package inbox

import (
	"context"
	"encoding/base64"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// Promise P-24: the conversation list filters by status (one or many),
// assignee (a member or nobody), team, channel, tag and unread, and pages
// by an opaque keyset cursor without skipping or repeating, including
// conversations active at the same instant.
func TestListFiltersAndCursor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		agent := h.member("agent")
		teams := &fakeTeams{teams: map[string]bool{"sales": true}}
		h.withTeams(teams)
		ids := map[string]string{}
		for _, p := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
			ids[p] = h.newConv(p).ID
			if p != "p2" { // p2 and p3 are active at the same instant
				h.clock.Advance(time.Minute)
			}
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// Everything is unread until seen; p1..p3 are seen.
		for _, p := range []string{"p1", "p2", "p3"} {
			must(h.svc.MarkSeen(ctx, auditActor, h.ws, ids[p]))
		}
		must(h.svc.Resolve(ctx, auditActor, h.ws, ids["p1"]))
		must(h.svc.Snooze(ctx, auditActor, h.ws, ids["p2"], h.clock.Now().Add(time.Hour)))
		must(h.svc.SetStatus(ctx, auditActor, h.ws, ids["p3"], StatusPending))
		must(h.svc.Assign(ctx, auditActor, h.ws, ids["p4"], agent))
		must(h.svc.SetTeam(ctx, auditActor, h.ws, ids["p5"], "sales"))
		tagID := "tag-vip"
		p6 := h.conversationOf("p6")
		if _, err := d.W.NewRaw(`INSERT INTO tags (id, workspace_id, name, name_key, created_at, updated_at) VALUES (?, ?, 'VIP', 'vip', ?, ?)`,
			tagID, h.ws, fixture.Epoch, fixture.Epoch).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.NewRaw(`INSERT INTO contact_tags (contact_id, tag_id, workspace_id, created_at) VALUES (?, ?, ?, ?)`,
			p6.ContactID, tagID, h.ws, fixture.Epoch).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		page2 := fixture.Messenger(t, h.channels, h.ws, "page-two-"+h.ws, "token")
		if _, err := h.ingestOn(page2, h.text("p7", "m_p7", "other page")); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Minute)
		var p7 string
		if err := d.R.NewRaw(`SELECT id FROM conversations WHERE channel_id = ?`, page2.ID).Scan(ctx, &p7); err != nil {
			t.Fatal(err)
		}
		name := map[string]string{p7: "p7"}
		for p, id := range ids {
			name[id] = p
		}
		names := func(opt ListOptions) []string {
			t.Helper()
			p, err := h.svc.List(ctx, h.ws, opt)
			if err != nil {
				t.Fatalf("%+v: %v", opt, err)
			}
			var out []string
			for _, s := range p.Conversations {
				out = append(out, name[s.ID])
			}
			sort.Strings(out)
			return out
		}
		tests := []struct {
			name string
			opt  ListOptions
			want []string
		}{
			{"all", ListOptions{}, []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"}},
			// p5 and p6 were answered by the bot (pending); p7's page has no
			// automatic reply (open); p4 was given to an agent (open).
			{"open", ListOptions{Status: []Status{StatusOpen}}, []string{"p4", "p7"}},
			{"pending", ListOptions{Status: []Status{StatusPending}}, []string{"p3", "p5", "p6"}},
			{"snoozed", ListOptions{Status: []Status{StatusSnoozed}}, []string{"p2"}},
			{"resolved", ListOptions{Status: []Status{StatusResolved}}, []string{"p1"}},
			{"open or pending", ListOptions{Status: []Status{StatusOpen, StatusPending}}, []string{"p3", "p4", "p5", "p6", "p7"}},
			{"mine", ListOptions{Assignee: agent}, []string{"p4"}},
			{"unassigned and open", ListOptions{Assignee: Unassigned, Status: []Status{StatusOpen}}, []string{"p7"}},
			{"team", ListOptions{TeamID: "sales"}, []string{"p5"}},
			{"channel", ListOptions{ChannelID: page2.ID}, []string{"p7"}},
			{"tag", ListOptions{TagID: tagID}, []string{"p6"}},
			{"unread", ListOptions{Unread: true}, []string{"p4", "p5", "p6", "p7"}},
			{"unknown tag", ListOptions{TagID: "nope"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, names(tt.opt)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}

		// Pages of two walk the whole list in order, once each.
		full, err := h.svc.List(ctx, h.ws, ListOptions{})
		if err != nil || full.NextCursor != "" {
			t.Fatalf("full list: %v, next %q", err, full.NextCursor)
		}
		var want, got []string
		for _, s := range full.Conversations {
			want = append(want, s.ID)
		}
		cur := ""
		for range 10 {
			p, err := h.svc.List(ctx, h.ws, ListOptions{Limit: 2, Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Conversations {
				got = append(got, s.ID)
			}
			if cur = p.NextCursor; cur == "" {
				break
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("paged (-want +got):\n%s", diff)
		}

		// Malformed cursors and bad options are refused.
		for _, bad := range []string{"!!", base64.RawURLEncoding.EncodeToString([]byte("abc")),
			base64.RawURLEncoding.EncodeToString([]byte("12.")), base64.RawURLEncoding.EncodeToString([]byte("012.x")),
			base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("1", 300)))} {
			if _, err := h.svc.List(ctx, h.ws, ListOptions{Cursor: bad}); !errors.Is(err, ErrInvalid) {
				t.Errorf("cursor %q = %v, want ErrInvalid", bad, err)
			}
		}
		for _, opt := range []ListOptions{{Status: []Status{"closed"}}, {Status: []Status{StatusOpen, "x"}}, {Limit: -1}} {
			if _, err := h.svc.List(ctx, h.ws, opt); !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v = %v, want ErrInvalid", opt, err)
			}
		}

		// Another workspace's cursor positions, and shows only this
		// workspace's rows; this cursor shows another workspace nothing.
		other := fixture.Workspace(t, d, h.kr)
		first, err := h.svc.List(ctx, h.ws, ListOptions{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := h.svc.List(ctx, other, ListOptions{Cursor: first.NextCursor}); err != nil || len(p.Conversations) != 0 {
			t.Errorf("other workspace with this cursor: %d rows, %v", len(p.Conversations), err)
		}
	})
}

// The list's queries walk an index in list order on SQLite (no sort of the
// workspace's conversations), first page and deep page alike, for each
// filter a list opens with. Asserted on the plan, not timed.
func TestListUsesIndexes(t *testing.T) {
	d := dbtest.SQLite(t)
	tests := []struct {
		opt   ListOptions
		index string
	}{
		{ListOptions{}, "conversations_recent"},
		{ListOptions{Status: []Status{StatusOpen}}, "conversations_status"},
		{ListOptions{Status: []Status{StatusOpen, StatusPending}}, "conversations_recent"},
		{ListOptions{Assignee: "user-1"}, "conversations_assignee"},
		{ListOptions{Assignee: Unassigned}, "conversations_assignee"},
		{ListOptions{TeamID: "t"}, "conversations_team"},
		{ListOptions{Unread: true, TagID: "x"}, "conversations_recent"},
	}
	deep := cursor{at: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), id: "01900000-0000-7000-8000-000000000000"}.encode()
	for _, tt := range tests {
		for _, cur := range []string{"", deep} {
			opt := tt.opt
			opt.Cursor = cur
			q, args, err := listQuery("ws", opt)
			if err != nil {
				t.Fatal(err)
			}
			var rows []struct {
				ID     int    `bun:"id"`
				Parent int    `bun:"parent"`
				NotUse int    `bun:"notused"`
				Detail string `bun:"detail"`
			}
			if err := d.R.NewRaw(`EXPLAIN QUERY PLAN `+q, append(args, 50)...).Scan(context.Background(), &rows); err != nil {
				t.Fatal(err)
			}
			var plan []string
			for _, r := range rows {
				plan = append(plan, r.Detail)
			}
			p := strings.Join(plan, "; ")
			if !strings.Contains(p, "INDEX "+tt.index+" ") || strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("%+v: plan %q, want a walk of %s without sorting", opt, p, tt.index)
			}
		}
	}
}

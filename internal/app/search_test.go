package app_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type searchHits struct {
	Contacts []struct{ ID, Name string }
	Messages []struct {
		ID        string
		ContactID string `json:"contact_id"`
	}
}

// Issue 5 item 5 end to end, through the Meta simulator on both databases:
// messages received through the signed webhook become searchable once the
// background indexer (started with the app) has run; after a merge the
// merged contact's message is found under the kept contact at once, never
// under the merged one; after the kept contact is erased (row and key
// deleted, as erasure does), nothing of theirs is found.
func TestMessagesBecomeSearchable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		owner := a.SignUp(t, "search")
		ws := owner.CreateWorkspace(t, "Search")
		actor := audit.Actor{UserID: owner.ID}
		sim := a.Sim.Sim()
		write := func(text, first, last string) string {
			t.Helper()
			ch, err := a.Sim.ConnectTestPage(ctx, actor, ws)
			if err != nil {
				t.Fatal(err)
			}
			psid := sim.AddPerson(ch.ExternalID, metasim.Person{FirstName: first, LastName: last})
			if _, status, err := sim.SendText(ctx, ch.ExternalID, psid, text); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
			for ctx.Err() == nil {
				list, err := a.Inbox.Conversations(ctx, ws, inbox.ListOptions{ChannelID: ch.ID})
				if err != nil {
					t.Fatal(err)
				}
				// Once the profile fetch has named the contact.
				if len(list) == 1 {
					if c, err := a.Contacts.Get(ctx, ws, list[0].ContactID); err == nil && c.DisplayName() != "" {
						return list[0].ContactID
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatal("the message never reached the inbox, or its contact was never named")
			return ""
		}
		search := func(q string) searchHits {
			t.Helper()
			var r searchHits
			owner.Do("GET", "/api/v1/workspaces/"+ws+"/search?q="+url.QueryEscape(q), nil).Must(t, 200).JSON(t, &r)
			return r
		}
		// until searches q until found says yes, or the deadline.
		until := func(q string, found func(searchHits) bool) searchHits {
			t.Helper()
			for {
				r := search(q)
				if found(r) {
					return r
				}
				if ctx.Err() != nil {
					t.Fatalf("%q: still %+v at the deadline", q, r)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		keep := write("ខ្ញុំចង់ទិញអាវពណ៌ខៀវ", "Sokha", "Chan")
		gone := write("Delivery to Kampot please", "Dara", "Sok")
		// Past the indexer's lag behind the (test) clock.
		a.Clock.Advance(time.Minute)
		r := until("អាវ", func(r searchHits) bool { return len(r.Messages) == 1 })
		if r.Messages[0].ContactID != keep {
			t.Errorf("the Khmer message is found under %s, want %s", r.Messages[0].ContactID, keep)
		}
		r = until("kampot", func(r searchHits) bool { return len(r.Messages) == 1 })
		if r.Messages[0].ContactID != gone {
			t.Errorf("the Latin message is found under %s, want %s", r.Messages[0].ContactID, gone)
		}
		until("dara sok", func(r searchHits) bool { return len(r.Contacts) == 1 && r.Contacts[0].ID == gone })

		if _, err := a.MergeContacts(ctx, actor, ws, keep, gone); err != nil {
			t.Fatal(err)
		}
		r = search("kampot")
		if len(r.Messages) != 1 || r.Messages[0].ContactID != keep {
			t.Errorf("after the merge the merged contact's message = %+v, want it under %s", r.Messages, keep)
		}
		for _, c := range search("dara sok").Contacts {
			if c.ID == gone {
				t.Error("the merged contact is still found")
			}
		}

		// Erasure: the contact's row (its conversations, messages and
		// index documents cascade) and its key, in one transaction.
		if err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := db.OneRow(tx.NewRaw(`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, ws, keep).Exec(ctx)); err != nil {
				return err
			}
			return a.Keyring.DestroyContactKey(ctx, tx, ws, keep)
		}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"អាវ", "kampot", "sokha", "dara"} {
			if r := search(q); len(r.Messages) != 0 || len(r.Contacts) != 0 {
				t.Errorf("%q after erasure: %+v", q, r)
			}
		}
		var docs int
		if err := d.R.NewRaw(`SELECT count(*) FROM search_docs WHERE workspace_id = ?`, ws).Scan(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		if docs != 0 {
			t.Errorf("%d search documents left after erasing the workspace's only contact", docs)
		}
	})
}

package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type searchResults struct {
	Contacts []struct{ ID, Name string }
	Messages []struct {
		ID             string
		ConversationID string `json:"conversation_id"`
		ContactID      string `json:"contact_id"`
		Snippet        string
		At             time.Time
	}
	Partial bool
}

// indexAll runs the search indexer until it has caught up, past its lag.
func indexAll(t *testing.T, a *apptest.App) {
	t.Helper()
	a.Clock.Advance(time.Minute)
	for range 100 {
		n, err := a.Search.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the indexer never caught up")
}

// Issue 5 item 5: GET …/search finds a workspace's contacts by name and
// phone and its messages by text (Khmer included), never another
// workspace's (security.md §3.A A-5, two tenants with the same data);
// bad queries are 422 and each member's searches are rate-limited.
func TestSearchAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		ctx := context.Background()
		type side struct {
			ws     string
			owner  *apptest.User
			viewer *apptest.User
			seed   seeded
		}
		mk := func(name string) side {
			s := side{owner: a.SignUp(t, name+"-owner"), viewer: a.SignUp(t, name+"-viewer")}
			s.ws = s.owner.CreateWorkspace(t, name)
			a.Join(t, s.owner, s.ws, s.viewer, "viewer")
			s.seed = seedConversation(t, a, s.ws, "ខ្ញុំចង់ទិញអាវពណ៌ខៀវ")
			if err := a.Contacts.SetProfile(ctx, s.ws, s.seed.contactID, channel.Profile{FirstName: "Sokha", LastName: "Chan"}, contact.ProfileFetched); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Contacts.DefineField(ctx, audit.Actor{UserID: s.owner.ID}, s.ws, "phone", contact.FieldSpec{Label: "Phone", Type: contact.FieldPhone}); err != nil {
				t.Fatal(err)
			}
			// Through the store: the app's hook queues the contact for the index.
			if _, err := a.Contacts.SetField(ctx, nil, s.ws, s.seed.contactID, "phone", "+855 12 345 678",
				contact.SetOptions{By: contact.By{Kind: contact.ByUser, ID: s.owner.ID}}); err != nil {
				t.Fatal(err)
			}
			return s
		}
		A, B := mk("alpha"), mk("bravo")
		indexAll(t, a)

		get := func(u *apptest.User, ws, query string) searchResults {
			t.Helper()
			var r searchResults
			u.Do("GET", "/api/v1/workspaces/"+ws+"/search?"+query, nil).Must(t, 200).JSON(t, &r)
			for _, c := range r.Contacts {
				if c.ID == B.seed.contactID {
					t.Errorf("%s: B's contact found from A", query)
				}
			}
			for _, m := range r.Messages {
				if m.ContactID == B.seed.contactID || m.ConversationID == B.seed.conversationID {
					t.Errorf("%s: B's message found from A", query)
				}
			}
			return r
		}
		r := get(A.viewer, A.ws, "q="+url.QueryEscape("អាវ"))
		if len(r.Messages) != 1 || r.Messages[0].ConversationID != A.seed.conversationID || r.Messages[0].ContactID != A.seed.contactID ||
			r.Messages[0].Snippet != "ខ្ញុំចង់ទិញអាវពណ៌ខៀវ" || r.Messages[0].At.IsZero() || len(r.Contacts) != 0 {
			t.Errorf("Khmer message search = %+v", r)
		}
		r = get(A.viewer, A.ws, "q=sokha&type=contacts")
		if len(r.Contacts) != 1 || r.Contacts[0].ID != A.seed.contactID || r.Contacts[0].Name != "Sokha Chan" || len(r.Messages) != 0 {
			t.Errorf("name search = %+v", r)
		}
		r = get(A.viewer, A.ws, "q="+url.QueryEscape("+855 12 345"))
		if len(r.Contacts) != 1 || r.Contacts[0].ID != A.seed.contactID {
			t.Errorf("phone search = %+v", r)
		}
		r = get(A.viewer, A.ws, "q="+url.QueryEscape("អាវ")+"&type=contacts")
		if len(r.Contacts) != 0 || len(r.Messages) != 0 {
			t.Errorf("type=contacts gave %+v", r)
		}
		// B's workspace through A's member: 404, whatever the query.
		A.viewer.Do("GET", "/api/v1/workspaces/"+B.ws+"/search?q=sokha", nil).Must(t, 404)
		// B finds only B's.
		var rb searchResults
		B.viewer.Do("GET", "/api/v1/workspaces/"+B.ws+"/search?q=sokha", nil).Must(t, 200).JSON(t, &rb)
		if len(rb.Contacts) != 1 || rb.Contacts[0].ID != B.seed.contactID {
			t.Errorf("B's search = %+v", rb)
		}

		for _, bad := range []string{"", "q=", "q=%20%20", "q=" + strings.Repeat("a", 101), "q=sok&type=people", "q=sok&limit=0", "q=sok&limit=101", "q=sok&limit=x"} {
			if res := A.viewer.Do("GET", "/api/v1/workspaces/"+A.ws+"/search?"+bad, nil); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("?%s: %d %s, want 422", bad, res.Status, res.Body)
			}
		}

		// A member's budget: spent, 429 with Retry-After; others unaffected.
		a.API.SearchLimit = httpx.NewLimiter(2, time.Minute, a.Clock.Now)
		for range 2 {
			A.viewer.Do("GET", "/api/v1/workspaces/"+A.ws+"/search?q=sokha", nil).Must(t, 200)
		}
		res := A.viewer.Do("GET", "/api/v1/workspaces/"+A.ws+"/search?q=sokha", nil).Must(t, 429)
		if res.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		A.owner.Do("GET", "/api/v1/workspaces/"+A.ws+"/search?q=sokha", nil).Must(t, 200)
		a.Clock.Advance(time.Minute)
		A.viewer.Do("GET", "/api/v1/workspaces/"+A.ws+"/search?q=sokha", nil).Must(t, 200)
	})
}

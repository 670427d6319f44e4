package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type retentionOut struct {
	Retention struct {
		Classes []struct {
			Class           string
			Days            int
			Chosen          bool
			Default, Min    int
			Max             *int
			LifetimeAllowed bool `json:"lifetime_allowed"`
		}
		LegalHold *struct {
			ID, Reason string
		} `json:"legal_hold"`
		ContactHolds int `json:"contact_holds"`
		Holds        []struct {
			ContactID string `json:"contact_id"`
			Reason    string
		}
	}
}

func (o retentionOut) days(class string) int {
	for _, c := range o.Retention.Classes {
		if c.Class == class {
			return c.Days
		}
	}
	return -1
}

// Promise P-35, N-2: every member reads the periods with their allowed
// ranges; admins change them; a value out of range is 422 naming the class
// and the range, and changes nothing (not even the valid values sent with
// it); agents and viewers cannot change anything.
func TestRetentionAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "ret-owner")
		ws := owner.CreateWorkspace(t, "Retention shop")
		admin, agent, viewer := a.SignUp(t, "ret-admin"), a.SignUp(t, "ret-agent"), a.SignUp(t, "ret-viewer")
		a.Join(t, owner, ws, admin, "admin")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws + "/retention"

		var got retentionOut
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &got)
		if len(got.Retention.Classes) != 6 || got.days("message_content") != 0 || got.days("raw_payloads") != 90 || got.days("audit_log") != 365 {
			t.Fatalf("defaults %+v", got)
		}
		for _, c := range got.Retention.Classes {
			if c.Class == "audit_log" && (c.Min != 365 || c.Max == nil || *c.Max != 730) {
				t.Errorf("audit log range %+v", c)
			}
			if c.Class == "message_content" && (c.Max != nil || !c.LifetimeAllowed) {
				t.Errorf("message content range %+v", c)
			}
		}

		admin.Do("PUT", base, map[string]any{"days": map[string]int{"message_content": 30, "raw_payloads": 14}}).Must(t, 200).JSON(t, &got)
		if got.days("message_content") != 30 || got.days("raw_payloads") != 14 || got.days("exports") != 7 {
			t.Fatalf("after PUT %+v", got)
		}

		for _, c := range []struct {
			body any
			code string
		}{
			{map[string]any{"days": map[string]int{"message_content": 10, "raw_payloads": 91}}, "invalid_raw_payloads"},
			{map[string]any{"days": map[string]int{"audit_log": 364}}, "invalid_audit_log"},
			{map[string]any{"days": map[string]int{"exports": 0}}, "invalid_exports"},
			{map[string]any{"days": map[string]int{"billing": 10}}, "invalid_billing"},
			{map[string]any{"days": map[string]any{"operational_logs": nil}}, "invalid_operational_logs"},
			{map[string]any{}, "invalid_days"},
		} {
			res := admin.Do("PUT", base, c.body).Must(t, 422)
			if res.ErrorCode() != c.code {
				t.Errorf("PUT %v: code %q, want %q", c.body, res.ErrorCode(), c.code)
			}
		}
		res := admin.Do("PUT", base, map[string]any{"days": map[string]int{"raw_payloads": 91}})
		if !strings.Contains(string(res.Body), "from 1 day to 90 days") {
			t.Errorf("422 does not name the limit: %s", res.Body)
		}
		admin.Do("PUT", base, `{"days": {"message_content": "thirty"}}`).Must(t, 400)
		for _, u := range []*apptest.User{agent, viewer} {
			u.Do("PUT", base, map[string]any{"days": map[string]int{"message_content": 1}}).Must(t, 403)
		}
		owner.Do("GET", base, nil).Must(t, 200).JSON(t, &got)
		if got.days("message_content") != 30 || got.days("raw_payloads") != 14 || got.days("audit_log") != 365 {
			t.Fatalf("a refused PUT changed something: %+v", got)
		}
	})
}

// N-7 through the API: admins place and lift the workspace's hold and
// contacts' holds; members below admin see that the workspace is held but
// not why, nor which contacts; a contact of another workspace is 404.
func TestLegalHoldAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "hold-owner")
		ws := owner.CreateWorkspace(t, "Held shop")
		viewer := a.SignUp(t, "hold-viewer")
		a.Join(t, owner, ws, viewer, "viewer")
		seed := seedConversation(t, a, ws, "Keep this")
		otherOwner := a.SignUp(t, "hold-other")
		otherWS := otherOwner.CreateWorkspace(t, "Other shop")
		foreign := seedConversation(t, a, otherWS, "Not yours")
		base := "/api/v1/workspaces/" + ws

		owner.Do("PUT", base+"/retention/legal-hold", map[string]string{}).Must(t, 422)
		viewer.Do("PUT", base+"/retention/legal-hold", map[string]string{"reason": "x"}).Must(t, 403)
		var h struct{ Hold struct{ ID, Reason string } }
		owner.Do("PUT", base+"/retention/legal-hold", map[string]string{"reason": "Case 114"}).Must(t, 200).JSON(t, &h)
		if h.Hold.Reason != "Case 114" {
			t.Fatalf("hold %+v", h)
		}
		owner.Do("PUT", base+"/contacts/"+seed.contactID+"/legal-hold", map[string]string{"reason": "Dispute"}).Must(t, 200)
		owner.Do("PUT", base+"/contacts/"+foreign.contactID+"/legal-hold", map[string]string{"reason": "Dispute"}).Must(t, 404)
		otherOwner.Do("PUT", base+"/retention/legal-hold", map[string]string{"reason": "x"}).Must(t, 404)

		var seen retentionOut
		viewer.Do("GET", base+"/retention", nil).Must(t, 200).JSON(t, &seen)
		if seen.Retention.LegalHold == nil || seen.Retention.LegalHold.Reason != "" || seen.Retention.Holds != nil || seen.Retention.ContactHolds != 1 {
			t.Errorf("viewer sees %+v", seen.Retention)
		}
		var full retentionOut
		owner.Do("GET", base+"/retention", nil).Must(t, 200).JSON(t, &full)
		if full.Retention.LegalHold == nil || full.Retention.LegalHold.Reason != "Case 114" || len(full.Retention.Holds) != 2 {
			t.Errorf("owner sees %+v", full.Retention)
		}
		owner.Do("DELETE", base+"/retention/legal-hold", nil).Must(t, 204)
		owner.Do("DELETE", base+"/retention/legal-hold", nil).Must(t, 404)
		owner.Do("DELETE", base+"/contacts/"+seed.contactID+"/legal-hold", nil).Must(t, 204)
		owner.Do("GET", base+"/retention", nil).Must(t, 200).JSON(t, &full)
		if full.Retention.LegalHold != nil || full.Retention.ContactHolds != 0 {
			t.Errorf("after lifting %+v", full.Retention)
		}
		var actions []string
		if err := d.R.NewRaw(`SELECT action FROM audit_log WHERE workspace_id = ? AND action LIKE 'retention.%' ORDER BY id`, ws).Scan(context.Background(), &actions); err != nil {
			t.Fatal(err)
		}
		if strings.Join(actions, ",") != "retention.hold,retention.hold,retention.release,retention.release" {
			t.Errorf("audit %v", actions)
		}
	})
}

// N-1/N-3 end to end in the app: a workspace that keeps messages 30 days
// loses a 31-day-old message and its search entry at the next run of the
// registered job handler, and keeps a new one.
func TestRetentionRunInApp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "run-owner")
		ws := owner.CreateWorkspace(t, "Run shop")
		old := seedConversation(t, a, ws, "An old message")
		owner.Do("PUT", "/api/v1/workspaces/"+ws+"/retention", map[string]any{"days": map[string]int{"message_content": 30}}).Must(t, 200)
		a.Clock.Advance(31 * 24 * time.Hour)
		ingest(t, a, old.channel, old.psid, "m_new_run", "A new message", a.Clock.Now())
		ctx := context.Background()
		a.Clock.Advance(time.Minute) // past the indexer's lag
		if _, err := a.Search.Step(ctx); err != nil {
			t.Fatal(err)
		}
		count := func(q string) int {
			var n int
			if err := d.R.NewRaw(q, ws).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT count(*) FROM search_docs WHERE workspace_id = ? AND message_id IS NOT NULL`); n != 2 {
			t.Fatalf("indexed messages %d, want 2", n)
		}
		if err := a.Retention.Handle(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if n := count(`SELECT count(*) FROM messages WHERE workspace_id = ?`); n != 1 {
			t.Errorf("messages left %d, want 1", n)
		}
		if n := count(`SELECT count(*) FROM search_docs WHERE workspace_id = ? AND message_id IS NOT NULL`); n != 1 {
			t.Errorf("message documents left %d, want 1", n)
		}
		var details string
		if err := d.R.NewRaw(`SELECT details FROM audit_log WHERE workspace_id = ? AND action = 'retention.purged'`, ws).Scan(ctx, &details); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(details, `"message_content":1`) {
			t.Errorf("purge entry %s", details)
		}
	})
}

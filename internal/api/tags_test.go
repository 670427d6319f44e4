package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type tagOut struct {
	ID, Name, Color string
}

func tagNamesOf(ts []tagOut) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// Promise P-25: admins keep a list of tags, unique ignoring letter case;
// renaming onto another tag's name is a conflict; deleting takes the tag
// off every contact.
func TestTagsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "tags")
		ws := owner.CreateWorkspace(t, "Tags")
		agent, viewer := a.SignUp(t, "tags-agent"), a.SignUp(t, "tags-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws + "/tags"

		var vip, cafe struct{ Tag tagOut }
		owner.Do("POST", base, map[string]string{"name": " VIP ", "color": "#1A7F5A"}).Must(t, 201).JSON(t, &vip)
		if vip.Tag.Name != "VIP" || vip.Tag.Color != "#1a7f5a" || vip.Tag.ID == "" {
			t.Fatalf("created %+v", vip.Tag)
		}
		owner.Do("POST", base, map[string]string{"name": "Café"}).Must(t, 201).JSON(t, &cafe)
		owner.Do("POST", base, map[string]string{"name": "ភ្ញៀវថ្មី"}).Must(t, 201)

		for _, tc := range []struct {
			body        any
			status      int
			code, field string
		}{
			{map[string]string{"name": "vip"}, 409, "tag_exists", "name"},
			{map[string]string{"name": "CAFÉ"}, 409, "tag_exists", "name"},
			{map[string]string{"name": "Cafe\u0301"}, 409, "tag_exists", "name"},
			{map[string]string{"name": ""}, 422, "invalid_name", "name"},
			{map[string]string{"name": "Red", "color": "red"}, 422, "invalid_color", "color"},
			{map[string]any{"name": 1}, 400, "wrong_type", "name"},
		} {
			res := owner.Do("POST", base, tc.body)
			if e := errorOf(t, res); res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("POST %v: %d %s", tc.body, res.Status, res.Body)
			}
		}

		var list struct{ Tags []tagOut }
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if diff := cmp.Diff([]string{"Café", "VIP", "ភ្ញៀវថ្មី"}, tagNamesOf(list.Tags)); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}

		var up struct{ Tag tagOut }
		owner.Do("PATCH", base+"/"+vip.Tag.ID, map[string]string{"name": "Gold", "color": ""}).Must(t, 200).JSON(t, &up)
		if up.Tag.Name != "Gold" || up.Tag.Color != "" {
			t.Errorf("patched %+v", up.Tag)
		}
		owner.Do("PATCH", base+"/"+vip.Tag.ID, map[string]string{"name": "GOLD"}).Must(t, 200) // only the case
		if e := errorOf(t, owner.Do("PATCH", base+"/"+vip.Tag.ID, map[string]string{"name": "café", "color": "#000000"}).Must(t, 409)); e.Error.Code != "tag_exists" {
			t.Errorf("renaming onto another tag: %+v", e)
		}
		owner.Do("PATCH", base+"/"+vip.Tag.ID, map[string]string{"color": "blue"}).Must(t, 422)
		if code := owner.Do("PATCH", base+"/"+vip.Tag.ID, map[string]string{}).Must(t, 400).ErrorCode(); code != "nothing_to_change" {
			t.Errorf("empty patch: %s", code)
		}
		owner.Do("PATCH", base+"/no-such-tag", map[string]string{"name": "x"}).Must(t, 404)
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if diff := cmp.Diff([]tagOut{{cafe.Tag.ID, "Café", ""}, {vip.Tag.ID, "GOLD", ""}}, list.Tags[:2]); diff != "" {
			t.Errorf("after refused patches (-want +got):\n%s", diff)
		}

		// Deleting takes the tag off its contacts.
		s := seedConversation(t, a, ws, "hi")
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/contacts/"+s.contactID+"/tags", map[string]any{"name": "gold"}).Must(t, 201)
		owner.Do("DELETE", base+"/"+vip.Tag.ID, nil).Must(t, 204)
		owner.Do("DELETE", base+"/"+vip.Tag.ID, nil).Must(t, 404)
		viewer.Do("GET", "/api/v1/workspaces/"+ws+"/contacts/"+s.contactID+"/tags", nil).Must(t, 200).JSON(t, &list)
		if len(list.Tags) != 0 {
			t.Errorf("the contact keeps a deleted tag: %+v", list.Tags)
		}

		// Promise P-04: only admins manage tags.
		for _, u := range []*apptest.User{agent, viewer} {
			u.Do("POST", base, map[string]string{"name": "Mine"}).Must(t, 403)
			u.Do("PATCH", base+"/"+cafe.Tag.ID, map[string]string{"name": "Mine"}).Must(t, 403)
			u.Do("DELETE", base+"/"+cafe.Tag.ID, nil).Must(t, 403)
		}
	})
}

// Promises P-15 and P-25: agents tag contacts by name (creating a tag
// only when asked), tagging twice is harmless, and a tag comes off by ID.
func TestContactTagsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "ctags")
		ws := owner.CreateWorkspace(t, "Contact tags")
		agent, viewer := a.SignUp(t, "ctags-agent"), a.SignUp(t, "ctags-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		s := seedConversation(t, a, ws, "hi")
		base := "/api/v1/workspaces/" + ws + "/contacts/" + s.contactID + "/tags"

		if e := errorOf(t, agent.Do("POST", base, map[string]any{"name": "Lead"}).Must(t, 422)); e.Error.Code != "unknown_tag" || e.Error.Field != "name" {
			t.Errorf("an unknown tag without create: %+v", e)
		}
		var out struct {
			Tag   tagOut
			Added bool
		}
		agent.Do("POST", base, map[string]any{"name": "Lead", "create": true}).Must(t, 201).JSON(t, &out)
		if out.Tag.Name != "Lead" || !out.Added {
			t.Errorf("tagged %+v", out)
		}
		lead := out.Tag.ID
		agent.Do("POST", base, map[string]any{"name": "LEAD"}).Must(t, 200).JSON(t, &out)
		if out.Tag.ID != lead || out.Added {
			t.Errorf("tagging again %+v", out)
		}
		agent.Do("POST", base, map[string]any{"name": " "}).Must(t, 422)

		var list struct{ Tags []tagOut }
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Tags) != 1 || list.Tags[0].ID != lead {
			t.Fatalf("contact tags = %+v", list.Tags)
		}
		viewer.Do("POST", base, map[string]any{"name": "Lead"}).Must(t, 403)
		viewer.Do("DELETE", base+"/"+lead, nil).Must(t, 403)

		agent.Do("DELETE", base+"/"+lead, nil).Must(t, 204)
		agent.Do("DELETE", base+"/"+lead, nil).Must(t, 204)
		agent.Do("DELETE", base+"/no-such-tag", nil).Must(t, 404)
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Tags) != 0 {
			t.Errorf("after untagging: %+v", list.Tags)
		}
		agent.Do("GET", "/api/v1/workspaces/"+ws+"/contacts/no-such-contact/tags", nil).Must(t, 404)
		agent.Do("POST", "/api/v1/workspaces/"+ws+"/contacts/no-such-contact/tags", map[string]any{"name": "Lead"}).Must(t, 404)
	})
}

type contactOut struct {
	ID             string
	Stage          *string
	StageUpdatedAt *time.Time `json:"stage_updated_at"`
	Subscribed     bool
	SubscribedAt   *time.Time `json:"subscribed_at"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at"`
}

// Promises P-25, P-26 and P-40: an agent sets a contact's lead stage and
// broadcast subscription; a bad stage changes neither; the times of
// opting in and out are kept.
func TestContactStageAndSubscriptionAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "stage")
		ws := owner.CreateWorkspace(t, "Stage")
		viewer := a.SignUp(t, "stage-viewer")
		a.Join(t, owner, ws, viewer, "viewer")
		s := seedConversation(t, a, ws, "hi")
		base := "/api/v1/workspaces/" + ws + "/contacts/" + s.contactID

		var c contactOut
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &c)
		if c.Stage != nil || c.Subscribed || c.SubscribedAt != nil {
			t.Fatalf("a new contact: %+v", c)
		}
		owner.Do("PATCH", base, map[string]any{"stage": " Qualified ", "subscribed": true}).Must(t, 200).JSON(t, &c)
		now := a.Clock.Now()
		if c.Stage == nil || *c.Stage != "Qualified" || !c.Subscribed || c.SubscribedAt == nil || !c.SubscribedAt.Equal(now) || c.StageUpdatedAt == nil {
			t.Fatalf("after PATCH: %+v", c)
		}

		for _, tc := range []struct {
			body        string
			status      int
			code, field string
		}{
			{`{"stage":"two\nlines","subscribed":false}`, 422, "invalid_stage", "stage"},
			{`{"stage":5}`, 400, "wrong_type", "stage"},
			{`{"subscribed":"no"}`, 400, "wrong_type", "subscribed"},
			{`{}`, 400, "nothing_to_change", ""},
		} {
			res := owner.Do("PATCH", base, tc.body)
			if e := errorOf(t, res); res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field {
				t.Errorf("PATCH %s: %d %s", tc.body, res.Status, res.Body)
			}
		}
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &c)
		if *c.Stage != "Qualified" || !c.Subscribed {
			t.Errorf("refused patches changed the contact: %+v", c)
		}

		a.Clock.Advance(time.Hour)
		owner.Do("PATCH", base, map[string]any{"stage": nil, "subscribed": false}).Must(t, 200).JSON(t, &c)
		if c.Stage != nil || c.Subscribed || c.UnsubscribedAt == nil || !c.UnsubscribedAt.Equal(a.Clock.Now()) || !c.SubscribedAt.Equal(now) {
			t.Errorf("after clearing and withdrawing: %+v", c)
		}
		viewer.Do("PATCH", base, map[string]any{"stage": "Won"}).Must(t, http.StatusForbidden)
		owner.Do("PATCH", "/api/v1/workspaces/"+ws+"/contacts/no-such-contact", map[string]any{"stage": "Won"}).Must(t, 404)
	})
}

// Promise P-03: workspace A's owner aims every field, tag and contact CRM
// write at workspace B's objects, with valid bodies, both under A's
// workspace and under B's: each answers 404 and B is unchanged.
func TestCRMTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		A, B := newTenant(t, a, "crma"), newTenant(t, a, "crmb")
		before := snapshot(t, d, B.ws)
		for _, ws := range []string{A.ws, B.ws} {
			base := "/api/v1/workspaces/" + ws
			for _, tc := range []struct {
				method, path string
				body         any
			}{
				{"PATCH", "/fields/" + B.fieldKey, map[string]any{"label": "pwned"}},
				{"POST", "/fields/" + B.fieldKey + "/archive", nil},
				{"PATCH", "/tags/" + B.tagID, map[string]any{"name": "pwned"}},
				{"DELETE", "/tags/" + B.tagID, nil},
				{"GET", "/contacts/" + B.contactID + "/fields", nil},
				{"PUT", "/contacts/" + B.contactID + "/fields/" + B.fieldKey, map[string]any{"value": "pwned"}},
				{"PUT", "/contacts/" + B.contactID + "/fields/" + A.fieldKey, map[string]any{"value": "pwned"}},
				{"DELETE", "/contacts/" + B.contactID + "/fields/" + B.fieldKey, nil},
				{"GET", "/contacts/" + B.contactID + "/tags", nil},
				{"POST", "/contacts/" + B.contactID + "/tags", map[string]any{"name": "Tag crma", "create": true}},
				{"DELETE", "/contacts/" + B.contactID + "/tags/" + B.tagID, nil},
				{"DELETE", "/contacts/" + A.contactID + "/tags/" + B.tagID, nil},
				{"PATCH", "/contacts/" + B.contactID, map[string]any{"stage": "pwned", "subscribed": true}},
			} {
				if ws == B.ws && tc.path == "/contacts/"+A.contactID+"/tags/"+B.tagID {
					continue
				}
				res := A.owner.Do(tc.method, base+tc.path, tc.body)
				if res.Status != 404 {
					t.Errorf("%s %s%s: %d %s, want 404", tc.method, base, tc.path, res.Status, res.Body)
				}
			}
		}
		if after := snapshot(t, d, B.ws); after != before {
			t.Fatalf("workspace B changed:\nbefore %s\nafter  %s", before, after)
		}
		// A's lists show only A's fields and tags.
		var fs struct{ Fields []fieldOut }
		A.owner.Do("GET", "/api/v1/workspaces/"+A.ws+"/fields?archived=true", nil).Must(t, 200).JSON(t, &fs)
		var ts struct{ Tags []tagOut }
		A.owner.Do("GET", "/api/v1/workspaces/"+A.ws+"/tags", nil).Must(t, 200).JSON(t, &ts)
		if len(fs.Fields) != 1 || fs.Fields[0].Key != A.fieldKey || len(ts.Tags) != 1 || ts.Tags[0].ID != A.tagID {
			t.Errorf("A lists %+v and %+v", fs.Fields, ts.Tags)
		}
	})
}

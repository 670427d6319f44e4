package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// seedCRM gives the tenant a text field with a value on its contact and a
// tag on it, so that the matrix tests have a field and a tag to aim at and
// their snapshots see any change to them.
func seedCRM(t *testing.T, tn *tenant, name string) {
	t.Helper()
	base := "/api/v1/workspaces/" + tn.ws
	tn.fieldKey = "f_" + name
	tn.owner.Do("POST", base+"/fields", map[string]any{"key": tn.fieldKey, "label": "Field of " + name, "type": "text"}).Must(t, 201)
	tn.owner.Do("PUT", base+"/contacts/"+tn.contactID+"/fields/"+tn.fieldKey, map[string]any{"value": "value of " + name}).Must(t, 200)
	var tag struct{ Tag tagOut }
	tn.owner.Do("POST", base+"/contacts/"+tn.contactID+"/tags", map[string]any{"name": "Tag " + name, "create": true}).Must(t, 201).JSON(t, &tag)
	tn.tagID = tag.Tag.ID
}

type fieldOut struct {
	ID, Key, Label, Type string
	Choices              []string
	ArchivedAt           *time.Time `json:"archived_at"`
}

// valueOut is a field with a contact's value, which stays raw JSON so the
// test sees its JSON type.
type valueOut struct {
	fieldOut
	Value     json.RawMessage
	UpdatedBy *struct{ Type, ID string } `json:"updated_by"`
}

type errorOut struct {
	Error struct{ Code, Field, Message string }
}

func errorOf(t *testing.T, res *apptest.Response) errorOut {
	t.Helper()
	var e errorOut
	res.JSON(t, &e)
	return e
}

// Promise P-20: admins define typed custom fields; bad definitions are
// refused naming what is wrong; keys are never reused; archiving hides a
// field and restoring brings it back; viewers and agents may only read.
func TestFieldDefinitionsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "fields")
		ws := owner.CreateWorkspace(t, "Fields")
		agent, viewer := a.SignUp(t, "fields-agent"), a.SignUp(t, "fields-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws + "/fields"

		var created struct{ Field fieldOut }
		owner.Do("POST", base, map[string]any{"key": "city", "label": " City ", "type": "choice", "choices": []string{"Phnom Penh", "Siem Reap"}}).
			Must(t, 201).JSON(t, &created)
		if diff := cmp.Diff(fieldOut{ID: created.Field.ID, Key: "city", Label: "City", Type: "choice", Choices: []string{"Phnom Penh", "Siem Reap"}}, created.Field); diff != "" || created.Field.ID == "" {
			t.Fatalf("defined (-want +got):\n%s", diff)
		}
		owner.Do("POST", base, map[string]any{"key": "age", "label": "Age", "type": "number"}).Must(t, 201)

		for _, tc := range []struct {
			name        string
			body        any
			status      int
			code, field string
		}{
			{"taken key", map[string]any{"key": "city", "label": "Town", "type": "text"}, 409, "field_exists", "key"},
			{"bad key", map[string]any{"key": "City Name", "label": "City", "type": "text"}, 422, "invalid_key", "key"},
			{"reserved key", map[string]any{"key": "first_name", "label": "First", "type": "text"}, 422, "invalid_key", "key"},
			{"no label", map[string]any{"key": "x", "label": " ", "type": "text"}, 422, "invalid_label", "label"},
			{"bad type", map[string]any{"key": "x", "label": "X", "type": "colour"}, 422, "invalid_type", "type"},
			{"choice without choices", map[string]any{"key": "x", "label": "X", "type": "choice"}, 422, "invalid_choices", "choices"},
			{"choices on text", map[string]any{"key": "x", "label": "X", "type": "text", "choices": []string{"a"}}, 422, "invalid_choices", "choices"},
			{"wrong JSON type", map[string]any{"key": "x", "label": 5, "type": "text"}, 400, "wrong_type", "label"},
			{"unknown member", map[string]any{"key": "x", "label": "X", "type": "text", "required": true}, 400, "unknown_field", "required"},
		} {
			res := owner.Do("POST", base, tc.body)
			if e := errorOf(t, res); res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%s: %d %s", tc.name, res.Status, res.Body)
			}
		}

		var list struct{ Fields []fieldOut }
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Fields) != 2 || list.Fields[0].Key != "city" || list.Fields[1].Key != "age" {
			t.Fatalf("list = %+v", list.Fields)
		}

		// PATCH changes what it names; the type changes only while unused.
		var patched struct{ Field fieldOut }
		owner.Do("PATCH", base+"/city", map[string]any{"label": "Home city", "choices": []string{"Phnom Penh", "Siem Reap", "Kampot"}}).Must(t, 200).JSON(t, &patched)
		if patched.Field.Label != "Home city" || patched.Field.Type != "choice" || len(patched.Field.Choices) != 3 {
			t.Errorf("patched = %+v", patched.Field)
		}
		owner.Do("PATCH", base+"/city", map[string]any{"type": "text"}).Must(t, 200).JSON(t, &patched)
		if patched.Field.Type != "text" || len(patched.Field.Choices) != 0 {
			t.Errorf("choice → text = %+v", patched.Field)
		}
		if code := owner.Do("PATCH", base+"/city", map[string]any{}).Must(t, 400).ErrorCode(); code != "nothing_to_change" {
			t.Errorf("empty patch: %s", code)
		}
		owner.Do("PATCH", base+"/nope", map[string]any{"label": "x"}).Must(t, 404)
		s := seedConversation(t, a, ws, "hello")
		owner.Do("PUT", "/api/v1/workspaces/"+ws+"/contacts/"+s.contactID+"/fields/age", map[string]any{"value": 30}).Must(t, 200)
		if e := errorOf(t, owner.Do("PATCH", base+"/age", map[string]any{"type": "text"}).Must(t, 409)); e.Error.Code != "field_in_use" || e.Error.Field != "type" {
			t.Errorf("type change of a used field: %+v", e)
		}

		// Archive and restore.
		var archived struct{ Field fieldOut }
		owner.Do("POST", base+"/age/archive", nil).Must(t, 200).JSON(t, &archived)
		if archived.Field.ArchivedAt == nil {
			t.Errorf("archived = %+v", archived.Field)
		}
		owner.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Fields) != 1 {
			t.Errorf("list without archived = %+v", list.Fields)
		}
		owner.Do("GET", base+"?archived=true", nil).Must(t, 200).JSON(t, &list)
		if len(list.Fields) != 2 {
			t.Errorf("list with archived = %+v", list.Fields)
		}
		owner.Do("GET", base+"?archived=maybe", nil).Must(t, 400)
		if code := owner.Do("POST", base, map[string]any{"key": "age", "label": "Age again", "type": "number"}).Must(t, 409).ErrorCode(); code != "field_exists" {
			t.Errorf("reusing an archived key: %s", code)
		}
		owner.Do("POST", base+"/age/restore", nil).Must(t, 200).JSON(t, &archived)
		if archived.Field.ArchivedAt != nil {
			t.Errorf("restored = %+v", archived.Field)
		}
		owner.Do("POST", base+"/nope/archive", nil).Must(t, 404)

		// Promise P-04: only admins define fields.
		for _, u := range []*apptest.User{agent, viewer} {
			u.Do("POST", base, map[string]any{"key": "x", "label": "X", "type": "text"}).Must(t, 403)
			u.Do("PATCH", base+"/city", map[string]any{"label": "x"}).Must(t, 403)
			u.Do("POST", base+"/city/archive", nil).Must(t, 403)
		}
		agent.Do("GET", base, nil).Must(t, 200)

		entries, err := audit.List(t.Context(), d, audit.Filter{WorkspaceID: ws, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for i := len(entries) - 1; i >= 0; i-- {
			if strings.HasPrefix(entries[i].Action, "contact_field.") {
				acts = append(acts, entries[i].Action)
			}
		}
		want := []string{"contact_field.define", "contact_field.define", "contact_field.update", "contact_field.update", "contact_field.archive", "contact_field.restore"}
		if diff := cmp.Diff(want, acts); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

// Promise P-15: a contact's field values are set with typed JSON, checked
// against the field's type (a bad one is refused naming the field and
// changes nothing), read back typed, and cleared; archived fields cannot
// be set; viewers only read.
func TestContactFieldValuesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "values")
		ws := owner.CreateWorkspace(t, "Values")
		viewer := a.SignUp(t, "values-viewer")
		a.Join(t, owner, ws, viewer, "viewer")
		s := seedConversation(t, a, ws, "hi")
		fields := "/api/v1/workspaces/" + ws + "/fields"
		for _, f := range []map[string]any{
			{"key": "note", "label": "Note", "type": "text"},
			{"key": "budget", "label": "Budget", "type": "number"},
			{"key": "birthday", "label": "Birthday", "type": "date"},
			{"key": "vip", "label": "VIP", "type": "boolean"},
			{"key": "email", "label": "E-mail", "type": "email"},
			{"key": "phone", "label": "Phone", "type": "phone"},
			{"key": "size", "label": "Size", "type": "choice", "choices": []string{"S", "M", "L"}},
			{"key": "old", "label": "Old", "type": "text"},
		} {
			owner.Do("POST", fields, f).Must(t, 201)
		}
		base := "/api/v1/workspaces/" + ws + "/contacts/" + s.contactID + "/fields"

		var empty struct{ Fields []valueOut }
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &empty)
		if len(empty.Fields) != 8 || string(empty.Fields[0].Value) != "null" || empty.Fields[0].UpdatedBy != nil {
			t.Fatalf("a contact without values: %s", mustJSON(empty))
		}

		for key, in := range map[string]any{
			"note": " likes rice ", "budget": json.RawMessage("12345678901234567890.120"), "birthday": "2001-02-03",
			"vip": "yes", "email": "dara@example.com", "phone": "+855 12 345 678", "size": "m", "old": "x",
		} {
			owner.Do("PUT", base+"/"+key, map[string]any{"value": in}).Must(t, 200)
		}
		owner.Do("POST", fields+"/old/archive", nil).Must(t, 200)

		res := viewer.Do("GET", base, nil).Must(t, 200)
		var got struct{ Fields []valueOut }
		res.JSON(t, &got)
		values := map[string]string{}
		for _, f := range got.Fields {
			values[f.Key] = string(f.Value)
			if f.UpdatedBy == nil || f.UpdatedBy.Type != "user" || f.UpdatedBy.ID != owner.ID {
				t.Errorf("%s updated by %+v", f.Key, f.UpdatedBy)
			}
		}
		want := map[string]string{
			"note": `"likes rice"`, "budget": `12345678901234567890.12`, "birthday": `"2001-02-03"`, "vip": `true`,
			"email": `"dara@example.com"`, "phone": `"+85512345678"`, "size": `"M"`,
		}
		if diff := cmp.Diff(want, values); diff != "" {
			t.Errorf("values (-want +got):\n%s", diff)
		}

		// Wrong values name the field, say what to type, and change nothing.
		for _, tc := range []struct {
			key         string
			body        string
			status      int
			code, field string
		}{
			{"budget", `{"value":"a lot"}`, 422, "invalid_value", "budget"},
			{"budget", `{"value":true}`, 422, "invalid_value", "budget"},
			{"birthday", `{"value":"2001-02-30"}`, 422, "invalid_value", "birthday"},
			{"vip", `{"value":"perhaps"}`, 422, "invalid_value", "vip"},
			{"email", `{"value":"dara@"}`, 422, "invalid_value", "email"},
			{"phone", `{"value":"012 345 678"}`, 422, "invalid_value", "phone"}, // no country code, and the contact's locale names no country
			{"size", `{"value":"XXL"}`, 422, "invalid_value", "size"},
			{"note", `{"value":""}`, 422, "invalid_value", "note"},
			{"note", `{}`, 422, "invalid_value", "note"},
			{"note", `{"value":null}`, 400, "wrong_type", "note"},
			{"note", `{"value":{"text":"x"}}`, 400, "wrong_type", "note"},
			{"note", `{"value":["x"]}`, 400, "wrong_type", "note"},
			{"old", `{"value":"y"}`, 409, "field_archived", "old"},
		} {
			res := owner.Do("PUT", base+"/"+tc.key, tc.body)
			if e := errorOf(t, res); res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("PUT %s %s: %d %s", tc.key, tc.body, res.Status, res.Body)
			}
		}
		if e := errorOf(t, owner.Do("PUT", base+"/size", `{"value":"XXL"}`)); !strings.Contains(e.Error.Message, "S, M, L") {
			t.Errorf("a bad choice does not list the choices: %q", e.Error.Message)
		}
		owner.Do("PUT", base+"/nope", `{"value":"x"}`).Must(t, 404)
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &got)
		for _, f := range got.Fields {
			if string(f.Value) != want[f.Key] {
				t.Errorf("after refused writes %s = %s", f.Key, f.Value)
			}
		}

		// Clearing: 204, then null; an archived field may be cleared too.
		owner.Do("DELETE", base+"/note", nil).Must(t, 204)
		owner.Do("DELETE", base+"/note", nil).Must(t, 204)
		owner.Do("DELETE", base+"/old", nil).Must(t, 204)
		owner.Do("DELETE", base+"/nope", nil).Must(t, 404)
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &got)
		if got.Fields[0].Key != "note" || string(got.Fields[0].Value) != "null" {
			t.Errorf("after clearing note: %s", mustJSON(got.Fields[0]))
		}

		// An agent's API key writes as the key.
		var k struct {
			APIKey struct{ ID string } `json:"api_key"`
			Secret string
		}
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/api-keys", map[string]string{"name": "crm", "role": "agent"}).Must(t, 201).JSON(t, &k)
		key := a.Client(t)
		key.Header.Set("Authorization", "Bearer "+k.Secret)
		var v valueOut
		key.Do("PUT", base+"/note", map[string]any{"value": "from the shop"}).Must(t, 200).JSON(t, &v)
		if string(v.Value) != `"from the shop"` || v.UpdatedBy == nil || v.UpdatedBy.Type != "api_key" || v.UpdatedBy.ID != k.APIKey.ID {
			t.Errorf("set by a key: %s", mustJSON(v))
		}

		// Promise P-04: viewers read and never write.
		viewer.Do("PUT", base+"/note", map[string]any{"value": "x"}).Must(t, 403)
		viewer.Do("DELETE", base+"/note", nil).Must(t, 403)
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/contacts/no-such-contact/fields", nil).Must(t, 404)
		owner.Do("PUT", "/api/v1/workspaces/"+ws+"/contacts/no-such-contact/fields/note", `{"value":"x"}`).Must(t, 404)
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

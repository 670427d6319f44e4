package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// defineCRM gives ws one field of every type and a tag.
func (s *site) defineCRM(t *testing.T, ws string) {
	t.Helper()
	ctx := context.Background()
	for _, f := range []struct {
		key  string
		spec contact.FieldSpec
	}{
		{"note", contact.FieldSpec{Label: "Note", Type: contact.FieldText}},
		{"budget", contact.FieldSpec{Label: "Budget", Type: contact.FieldNumber}},
		{"birthday", contact.FieldSpec{Label: "Birthday", Type: contact.FieldDate}},
		{"vip", contact.FieldSpec{Label: "VIP customer", Type: contact.FieldBoolean}},
		{"email", contact.FieldSpec{Label: "E-mail", Type: contact.FieldEmail}},
		{"phone", contact.FieldSpec{Label: "Phone", Type: contact.FieldPhone}},
		{"size", contact.FieldSpec{Label: "Size", Type: contact.FieldChoice, Choices: []string{"S", "M", "L"}}},
	} {
		if _, err := s.Contacts.DefineField(ctx, audit.Actor{}, ws, f.key, f.spec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Contacts.CreateTag(ctx, audit.Actor{}, ws, "VIP", "#1a7f5a"); err != nil {
		t.Fatal(err)
	}
}

// values returns the contact's values as text, by key.
func (s *site) values(t *testing.T, ws, contactID string) map[string]string {
	t.Helper()
	vals, err := s.Contacts.FieldValues(context.Background(), ws, contactID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range vals {
		out[k] = v.Text
	}
	return out
}

// fieldsForm is the panel's fields form as drawn for a contact with the
// given stored values: every field shown, with its original value.
func fieldsForm(stored map[string]string, edits map[string]string) url.Values {
	f := url.Values{}
	for _, k := range []string{"note", "budget", "birthday", "vip", "email", "phone", "size"} {
		f.Add("shown", k)
		f.Set("o."+k, stored[k])
		if k != "vip" || stored[k] == "true" {
			f.Set("f."+k, stored[k])
		}
	}
	for k, v := range edits {
		if v == "<unticked>" {
			f.Del("f." + k)
			continue
		}
		f.Set("f."+k, v)
	}
	return f
}

// Promises P-15 and P-25: on the conversation page an agent sees the
// contact's custom fields with inputs fitting their types, edits them
// (every bad value explained, nothing saved until all are right), clears
// one, tags the contact with autocomplete of the workspace's tags, and
// sets the lead stage and the subscription; the panel answers htmx with
// itself alone; viewers read only; other workspaces find nothing.
func TestContactPanel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Vanna")
		ws := owner.createWorkspace("Vanna's Velvet")
		viewer, vaddr := s.signUp(t, "Wat")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		s.defineCRM(t, ws)
		convID, contactID := s.seedConversation(t, ws, "Do you have silk?")
		conv := "/w/" + ws + "/conversations/" + convID
		panel := conv + "/contact"

		owner.get(conv).want(t, http.StatusOK, `id="contact-panel"`, "Do you have silk?",
			`type="number"`, `type="date"`, `type="email"`, `type="tel"`, `name="f.vip" type="checkbox"`,
			`<option value="M">M</option>`, `<datalist id="contact-tag-options"><option value="VIP">`,
			"Never opted in", "Not in any stage.", "With the country code")

		// Bad values: each explained next to its input; nothing is saved.
		p := owner.post(panel+"/fields", fieldsForm(nil, map[string]string{"note": "likes red", "budget": "a lot", "email": "dara@", "size": "XL"})).
			want(t, http.StatusUnprocessableEntity, "Nothing was saved", `id="cf-budget-error"`, "Enter a number", `id="cf-email-error"`,
				`id="cf-size-error"`, `value="a lot"`, `value="likes red"`, `<html`)
		p.lacks(t, `id="cf-note-error"`)
		if v := s.values(t, ws, contactID); len(v) != 0 {
			t.Fatalf("a refused form saved %v", v)
		}

		edits := map[string]string{"note": " likes red ", "budget": "1250.50", "birthday": "1990-05-17", "vip": "true",
			"email": "dara@example.com", "phone": "+855 12 345 678", "size": "m"}
		owner.post(panel+"/fields", fieldsForm(nil, edits)).redirectsTo(t, conv)
		want := map[string]string{"note": "likes red", "budget": "1250.5", "birthday": "1990-05-17", "vip": "true",
			"email": "dara@example.com", "phone": "+85512345678", "size": "M"}
		if diff := cmp.Diff(want, s.values(t, ws, contactID)); diff != "" {
			t.Fatalf("saved values (-want +got):\n%s", diff)
		}
		owner.get(conv).want(t, http.StatusOK, `value="1250.5"`, `value="1990-05-17"`, `value="&#43;85512345678"`, `<option value="M" selected>`,
			`name="f.vip" type="checkbox" value="true" checked`, "Set just now by Vanna", `formaction="`+panel+`/fields/note/clear"`)

		// Through htmx the panel answers alone; a form drawn before a flow
		// changed a value leaves that value alone unless it was edited.
		if _, err := s.Contacts.SetField(context.Background(), nil, ws, contactID, "budget", "99", contact.SetOptions{By: contact.By{Kind: contact.ByFlow, ID: "f1"}}); err != nil {
			t.Fatal(err)
		}
		owner.htmx(panel+"/fields", fieldsForm(want, map[string]string{"vip": "<unticked>"})).
			want(t, http.StatusOK, `id="contact-panel"`, "Saved.", "by a flow").lacks(t, "<html", "Do you have silk?")
		want["vip"], want["budget"] = "false", "99"
		if diff := cmp.Diff(want, s.values(t, ws, contactID)); diff != "" {
			t.Errorf("after unticking vip (-want +got):\n%s", diff)
		}
		owner.htmx(panel+"/fields", fieldsForm(want, map[string]string{"birthday": "1990-02-30"})).
			want(t, http.StatusUnprocessableEntity, `id="cf-birthday-error"`, "Enter a date").lacks(t, "<html")
		owner.htmx(panel+"/fields", fieldsForm(want, nil)).want(t, http.StatusOK, "Nothing to save")

		// An emptied input clears; so does Clear.
		owner.post(panel+"/fields", fieldsForm(want, map[string]string{"note": ""})).redirectsTo(t, conv)
		owner.htmx(panel+"/fields/email/clear", fieldsForm(want, nil)).want(t, http.StatusOK, "Cleared.")
		delete(want, "note")
		delete(want, "email")
		if diff := cmp.Diff(want, s.values(t, ws, contactID)); diff != "" {
			t.Errorf("after clearing (-want +got):\n%s", diff)
		}
		owner.post(panel+"/fields/nope/clear", nil).want(t, http.StatusNotFound)

		// An archived field is not shown, and a form naming it cannot set it.
		if err := s.Contacts.ArchiveField(context.Background(), audit.Actor{}, ws, "size"); err != nil {
			t.Fatal(err)
		}
		delete(want, "size") // its value is kept, hidden
		owner.get(conv).want(t, http.StatusOK).lacks(t, `name="f.size"`)
		owner.post(panel+"/fields", fieldsForm(want, map[string]string{"size": "L"})).redirectsTo(t, conv)
		if err := s.Contacts.RestoreField(context.Background(), audit.Actor{}, ws, "size"); err != nil {
			t.Fatal(err)
		}
		if v := s.values(t, ws, contactID); v["size"] != "M" {
			t.Errorf("an archived field was set: %v", v)
		}
		if err := s.Contacts.ArchiveField(context.Background(), audit.Actor{}, ws, "size"); err != nil {
			t.Fatal(err)
		}

		// Tags: an existing one by any case, a new one created; bad names refused.
		owner.htmx(panel+"/tags", url.Values{"tag": {"vip"}}).want(t, http.StatusOK, "Tagged “VIP”.")
		owner.post(panel+"/tags", url.Values{"tag": {"Wholesale"}}).redirectsTo(t, conv)
		owner.htmx(panel+"/tags", url.Values{"tag": {" "}}).want(t, http.StatusUnprocessableEntity, `id="contact-tag-error"`)
		tags, _ := s.Contacts.ContactTags(context.Background(), ws, contactID)
		if len(tags) != 2 || tags[0].Name != "VIP" || tags[1].Name != "Wholesale" {
			t.Fatalf("tags = %+v", tags)
		}
		page := owner.get(conv).want(t, http.StatusOK, "Remove the tag VIP", panel+"/tags/"+tags[0].ID+"/remove")
		if strings.Contains(page.Body, `<option value="VIP">`) {
			t.Error("the autocomplete offers a tag the contact has")
		}
		owner.htmx(panel+"/tags/"+tags[0].ID+"/remove", nil).want(t, http.StatusOK, "Tag removed.")
		owner.post(panel+"/tags/no-such-tag/remove", nil).want(t, http.StatusNotFound)
		if tags, _ := s.Contacts.ContactTags(context.Background(), ws, contactID); len(tags) != 1 || tags[0].Name != "Wholesale" {
			t.Errorf("after removing VIP: %+v", tags)
		}

		// Lead stage and subscription.
		owner.htmx(panel+"/lead", url.Values{"stage": {strings.Repeat("x", 51)}, "subscribed": {"true"}}).
			want(t, http.StatusUnprocessableEntity, `id="contact-stage-error"`)
		owner.post(panel+"/lead", url.Values{"stage": {"Qualified"}, "o.stage": {""}, "subscribed": {"true"}, "o.subscribed": {""}}).redirectsTo(t, conv)
		ct, err := s.Contacts.Get(context.Background(), ws, contactID)
		if err != nil || ct.Stage != "Qualified" || !ct.Subscribed || ct.SubscriptionBy.Kind != contact.ByUser {
			t.Fatalf("after saving the lead: %+v, %v", ct, err)
		}
		owner.get(conv).want(t, http.StatusOK, `value="Qualified"`, "Opted in just now by Vanna", `name="subscribed" type="checkbox" value="true" checked`)
		s.Clock.Advance(time.Hour)
		owner.htmx(panel+"/lead", url.Values{"stage": {"Qualified"}, "o.stage": {"Qualified"}, "o.subscribed": {"true"}}).
			want(t, http.StatusOK, "Withdrew just now")
		if ct, _ := s.Contacts.Get(context.Background(), ws, contactID); ct.Subscribed || ct.Stage != "Qualified" {
			t.Errorf("after withdrawing: %+v", ct)
		}

		// Viewers read the panel and cannot change it (P-04).
		viewer.get(conv).want(t, http.StatusOK, "Budget", "99", "Qualified", "Not subscribed", "Wholesale").
			lacks(t, `action="`+panel+`/fields"`, `action="`+panel+`/tags"`, `action="`+panel+`/lead"`, "Remove the tag")
		viewer.post(panel+"/fields", fieldsForm(want, map[string]string{"budget": "1"})).want(t, http.StatusForbidden)
		viewer.post(panel+"/tags", url.Values{"tag": {"x"}}).want(t, http.StatusForbidden)
		viewer.post(panel+"/lead", url.Values{"stage": {"x"}}).want(t, http.StatusForbidden)
		viewer.post(panel+"/fields/budget/clear", nil).want(t, http.StatusForbidden)

		// Another workspace finds nothing, under either workspace (P-03).
		stranger, _ := s.signUp(t, "Yuth")
		other := stranger.createWorkspace("Yuth's")
		for _, base := range []string{panel, "/w/" + other + "/conversations/" + convID + "/contact"} {
			stranger.post(base+"/fields", fieldsForm(want, map[string]string{"budget": "1"})).want(t, http.StatusNotFound)
			stranger.post(base+"/fields/budget/clear", nil).want(t, http.StatusNotFound)
			stranger.post(base+"/tags", url.Values{"tag": {"pwned"}}).want(t, http.StatusNotFound)
			stranger.post(base+"/tags/"+tags[1].ID+"/remove", nil).want(t, http.StatusNotFound)
			stranger.post(base+"/lead", url.Values{"stage": {"pwned"}, "subscribed": {"true"}}).want(t, http.StatusNotFound)
		}
		if diff := cmp.Diff(want, s.values(t, ws, contactID)); diff != "" {
			t.Errorf("a stranger changed values (-want +got):\n%s", diff)
		}
		if ct, _ := s.Contacts.Get(context.Background(), ws, contactID); ct.Stage != "Qualified" || ct.Subscribed {
			t.Errorf("a stranger changed the lead: %+v", ct)
		}
	})
}

// htmx posts a form the way the panel's htmx forms do.
func (c *client) htmx(path string, form url.Values) *page {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "contact-panel")
	return c.do(req)
}

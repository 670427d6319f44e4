package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

var pageSeq atomic.Int64

// seedConversation connects a page to ws straight through the store and
// applies one message from a new person, as the webhook intake would; it
// returns the conversation and contact IDs. No simulator or job worker is
// needed.
func (s *site) seedConversation(t *testing.T, ws, text string) (conversationID, contactID string) {
	t.Helper()
	n := pageSeq.Add(1)
	ch := fixture.Messenger(t, s.Channels, ws, fmt.Sprintf("8%014d", n), fmt.Sprintf("EAA-web-seed-%d", n))
	ev := channel.Inbound{
		Type: channel.Messenger, Kind: channel.EventMessage, AccountID: ch.ExternalID, UserID: fmt.Sprintf("6%015d", n),
		At: s.Clock.Now(), MID: fmt.Sprintf("m_web_seed_%d", n), Content: channel.Content{Text: text},
	}
	if err := s.DB.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, err := s.Inbox.Ingest(ctx, tx, ch, []channel.Inbound{ev})
		return err
	}); err != nil {
		t.Fatalf("seed: ingest: %v", err)
	}
	list, err := s.Inbox.Conversations(context.Background(), ws, inbox.ListOptions{ChannelID: ch.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("seed: conversations %v, %v", list, err)
	}
	return list[0].ID, list[0].ContactID
}

// Promise P-20: admins define custom fields in Settings; bad input comes
// back next to the field at fault; a field in use keeps its type;
// archiving hides a field and restoring brings it back; viewers only look.
func TestFieldsPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Nita")
		ws := owner.createWorkspace("Nita's Noodles")
		viewer, vaddr := s.signUp(t, "Odom")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		page := "/w/" + ws + "/settings/fields"

		owner.get(page).want(t, http.StatusOK, "No custom fields yet", `aria-current="page">Custom fields`, `action="/w/`+ws+`/settings/fields"`)

		loc := owner.post(page, url.Values{"label": {"Delivery city"}, "key": {"delivery_city"}, "type": {"choice"}, "choices": {"Phnom Penh\r\n\r\n Siem Reap \r\n"}}).
			redirectsTo(t, page+"?defined=delivery_city")
		owner.get(loc).want(t, http.StatusOK, "The field “Delivery city” is ready", "{{contact.field.delivery_city}}", "One of a list: Phnom Penh, Siem Reap").
			lacks(t, "No custom fields yet")
		owner.post(page, url.Values{"label": {"Budget"}, "key": {"budget"}, "type": {"number"}, "choices": {"ignored for numbers"}}).redirectsTo(t, page)

		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			texts  []string
		}{
			{"taken key", url.Values{"label": {"City"}, "key": {"delivery_city"}, "type": {"text"}}, http.StatusConflict, []string{`id="field-key-error"`, "exists already"}},
			{"bad key", url.Values{"label": {"City"}, "key": {"Delivery City"}, "type": {"text"}}, http.StatusUnprocessableEntity, []string{`id="field-key-error"`, "lower-case letters"}},
			{"no label", url.Values{"label": {""}, "key": {"x"}, "type": {"text"}}, http.StatusUnprocessableEntity, []string{`id="field-label-error"`}},
			{"no choices", url.Values{"label": {"Size"}, "key": {"size"}, "type": {"choice"}}, http.StatusUnprocessableEntity, []string{`id="field-choices-error"`, "between 1 and 100 choices"}},
			{"bad type", url.Values{"label": {"Size"}, "key": {"size"}, "type": {"colour"}}, http.StatusUnprocessableEntity, []string{`id="field-type-error"`}},
		} {
			p := owner.post(page, tc.form).want(t, tc.status, tc.texts...)
			if v := tc.form.Get("label"); v != "" {
				p.want(t, tc.status, `value="`+v+`"`) // what was typed comes back
			}
		}

		// Editing; a field holding values keeps its type, and says so on
		// its own form, shown open.
		owner.post(page+"/delivery_city", url.Values{"edit_label": {"Home city"}, "edit_type": {"choice"}, "edit_choices": {"Phnom Penh\nSiem Reap\nKampot"}}).redirectsTo(t, page)
		owner.get(page).want(t, http.StatusOK, "Home city", "Phnom Penh, Siem Reap, Kampot")
		_, contactID := s.seedConversation(t, ws, "hello")
		if _, err := s.Contacts.SetField(context.Background(), nil, ws, contactID, "budget", "12", contact.SetOptions{By: contact.By{Kind: contact.BySystem}}); err != nil {
			t.Fatal(err)
		}
		owner.post(page+"/budget", url.Values{"edit_label": {"Budget"}, "edit_type": {"text"}}).
			want(t, http.StatusConflict, "its type can&#39;t change", `id="edit-type-error-budget"`, `<details class="row-edit" open>`)
		owner.post(page+"/nope", url.Values{"edit_label": {"x"}, "edit_type": {"text"}}).want(t, http.StatusNotFound)

		owner.post(page+"/budget/archive", nil).redirectsTo(t, page)
		owner.get(page).want(t, http.StatusOK, "Archived fields", `action="/w/`+ws+`/settings/fields/budget/restore"`)
		if _, err := s.Contacts.SetField(context.Background(), nil, ws, contactID, "budget", "13", contact.SetOptions{By: contact.By{Kind: contact.BySystem}}); !errors.Is(err, contact.ErrFieldArchived) {
			t.Errorf("setting an archived field: %v", err)
		}
		owner.post(page+"/budget/restore", nil).redirectsTo(t, page)
		owner.get(page).want(t, http.StatusOK).lacks(t, "Archived fields")

		// Viewers see the fields and none of the forms (P-04).
		viewer.get(page).want(t, http.StatusOK, "Home city", "Only owners and admins can add or change fields.").
			lacks(t, `action="/w/`+ws+`/settings/fields"`, "Archive")
		viewer.post(page, url.Values{"label": {"X"}, "key": {"x"}, "type": {"text"}}).want(t, http.StatusForbidden)
		viewer.post(page+"/budget/archive", nil).want(t, http.StatusForbidden)
		viewer.post(page+"/budget", url.Values{"edit_label": {"x"}, "edit_type": {"number"}}).want(t, http.StatusForbidden)

		// Another workspace's owner finds nothing (P-03).
		stranger, _ := s.signUp(t, "Pich")
		other := stranger.createWorkspace("Pich's")
		stranger.get(page).want(t, http.StatusNotFound)
		stranger.post(page+"/budget/archive", nil).want(t, http.StatusNotFound)
		stranger.post("/w/"+other+"/settings/fields/budget/archive", nil).want(t, http.StatusNotFound)
		stranger.get("/w/"+other+"/settings/fields").want(t, http.StatusOK, "No custom fields yet").lacks(t, "Home city")
		if f, err := s.Contacts.FieldByKey(context.Background(), ws, "budget"); err != nil || f.Archived() {
			t.Errorf("budget after a stranger's attempts: %+v, %v", f, err)
		}
	})
}

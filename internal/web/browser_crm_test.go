package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// until waits for the JavaScript expression to be true in the page (the
// step's own deadline guards against a hang).
func until(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	poll := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0))
	// A click that loads a new page (the inbox's tabs and filters are
	// links) ends a poll started on the old document: poll again on the
	// new one, within the same step budget.
	deadline := time.Now().Add(browser.StepTimeout)
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithDeadline(ctx, deadline)
		_, err := chromedp.Run(sctx, poll)
		cancel()
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "navigated or closed") && !strings.Contains(err.Error(), "context was destroyed") {
			break
		}
	}
	browser.Run(t, ctx, poll) // fails the usual way, with the page and a screenshot
}

// panelSays waits until the contact panel, swapped in by htmx, shows the
// notice and htmx has finished with it: htmx wires up swapped-in forms a
// moment after they appear (its settle delay), and a click before that
// would post the form the plain way.
func panelSays(t *testing.T, ctx context.Context, notice string) {
	t.Helper()
	until(t, ctx, `(() => { const p = document.getElementById("contact-panel"), n = p && p.querySelector(".panel-notice");
		return !!n && n.textContent === `+strconv.Quote(notice)+` && !p.classList.contains("htmx-added"); })()`)
}

// choose picks an option of a select the way a person does: the value
// changes and the page hears a change event.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(` + strconv.Quote(sel) + `);
		s.value = ` + strconv.Quote(value) + `; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
}

// login signs in through the form in the browser.
func login(t *testing.T, ctx context.Context, base, addr string) {
	t.Helper()
	browser.Do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	fill(t, ctx, `form[action="/login"]`, map[string]string{"#email": addr, "#password": password})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".steps")))
}

// Issue 4 item 4 in a real browser, with the strict CSP on: an admin
// defines custom fields (the key follows the label, the choices box shows
// only for a list) and a tag in Settings; then, on a conversation's
// contact panel, fills the fields with typed inputs, sees a bad e-mail
// explained without losing what was typed, fixes it, tags the contact from
// the autocomplete list and with a new tag, removes one, and sets the lead
// stage and subscription — each form swapping the panel alone. At phone
// width the panel sits under the conversation. Screenshots land in
// testdata/output/.
func TestBrowserCustomFieldsAndTags(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Chenda")
	ws := c.createWorkspace("Chenda's Crafts")
	convID, contactID := s.seedConversation(t, ws, "Do you sell rattan baskets?")
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	// Settings → Custom fields: empty, then one field of several types.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/settings/fields"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#field-label")),
		chromedp.WaitNotVisible(chromedp.CSS("#field-choices")),
	)
	browser.Screenshot(t, ctx, "fields-empty")
	browser.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#field-label"), "Delivery city", chromedp.NodeVisible))
	if got := browser.Run(t, ctx, chromedp.Value(chromedp.CSS("#field-key"))); got != "delivery_city" {
		t.Errorf("the key typed itself as %q, want delivery_city", got)
	}
	browser.Do(t, ctx,
		choose("#field-type", "choice"),
		chromedp.WaitVisible(chromedp.CSS("#field-choices")),
		chromedp.SendKeys(chromedp.CSS("#field-choices"), "Phnom Penh\nSiem Reap\nBattambang", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/settings/fields"] button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#field-delivery_city")),
	)
	for _, f := range []struct{ label, typ string }{
		{"Budget", "number"}, {"Birthday", "date"}, {"VIP customer", "boolean"}, {"E-mail", "email"},
	} {
		key := strings.ReplaceAll(strings.ToLower(strings.ReplaceAll(f.label, "-", "_")), " ", "_")
		browser.Do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#field-label"), f.label, chromedp.NodeVisible),
			choose("#field-type", f.typ),
			chromedp.Click(chromedp.CSS(`form[action$="/settings/fields"] button[type="submit"]`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS("#field-"+key)),
		)
	}
	browser.Screenshot(t, ctx, "fields")

	// Settings → Tags.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/settings/tags"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#tag-name")),
		chromedp.SendKeys(chromedp.CSS("#tag-name"), "VIP", chromedp.NodeVisible),
		choose("#tag-color", "#1a7f5a"),
		chromedp.Click(chromedp.CSS(`form[action$="/settings/tags"] button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".tags .tag-chip")),
	)
	browser.Screenshot(t, ctx, "tags")

	// The conversation's contact panel.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/conversations"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(".conversation-row"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#contact-panel #cf-budget")),
	)
	types := browser.Run(t, ctx, chromedp.Evaluate[string](`["budget","birthday","vip_customer","e_mail","delivery_city"].map(k => {
		const e = document.getElementById("cf-" + k); return e.tagName.toLowerCase() + ":" + (e.type || ""); }).join(" ")`))
	if want := "input:number input:date input:checkbox input:email select:select-one"; types != want {
		t.Errorf("the panel's inputs are %q, want %q", types, want)
	}
	browser.Screenshot(t, ctx, "contact-panel")

	save := chromedp.Click(chromedp.CSS(`form[action$="/contact/fields"] > button.button-primary`), chromedp.NodeVisible)
	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#cf-budget"), "1250.50", chromedp.NodeVisible),
		chromedp.SetValue(chromedp.CSS("#cf-birthday"), "1990-05-17"),
		chromedp.Click(chromedp.CSS("#cf-vip_customer"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#cf-e_mail"), "dara@", chromedp.NodeVisible),
		choose("#cf-delivery_city", "Siem Reap"),
		save,
	)
	until(t, ctx, `!!document.getElementById("cf-e_mail-error") && !document.getElementById("contact-panel").classList.contains("htmx-added")`)
	if got := browser.Run(t, ctx, chromedp.Value(chromedp.CSS("#cf-e_mail"))); got != "dara@" {
		t.Errorf("after the refusal the e-mail box holds %q, want what was typed", got)
	}
	if got := browser.Run(t, ctx, chromedp.Value(chromedp.CSS("#cf-budget"))); got != "1250.50" {
		t.Errorf("after the refusal the budget box holds %q", got)
	}
	if v := s.values(t, ws, contactID); len(v) != 0 {
		t.Errorf("a refused form saved %v", v)
	}
	browser.Screenshot(t, ctx, "contact-panel-error")
	browser.Do(t, ctx,
		chromedp.Clear(chromedp.CSS("#cf-e_mail")),
		chromedp.SendKeys(chromedp.CSS("#cf-e_mail"), "dara@example.com", chromedp.NodeVisible),
		save,
	)
	panelSays(t, ctx, "Saved.")
	want := map[string]string{"budget": "1250.5", "birthday": "1990-05-17", "vip_customer": "true", "e_mail": "dara@example.com", "delivery_city": "Siem Reap"}
	if diff := cmp.Diff(want, s.values(t, ws, contactID)); diff != "" {
		t.Errorf("saved values (-want +got):\n%s", diff)
	}

	// Tags: the autocomplete offers the workspace's tags; a new name
	// becomes a tag; × takes one off.
	if got := browser.Run(t, ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#contact-tag-options option")).map(o => o.value).join(",")`)); got != "VIP" {
		t.Errorf("the tag box offers %q, want VIP", got)
	}
	addTag := func(name, wantNotice string) {
		browser.Do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#contact-tag"), name, chromedp.NodeVisible),
			chromedp.Click(chromedp.CSS(`form[action$="/contact/tags"] button[type="submit"]`), chromedp.NodeVisible),
		)
		panelSays(t, ctx, wantNotice)
	}
	addTag("vip", "Tagged “VIP”.")
	addTag("Wholesale", "Tagged “Wholesale”.")
	if got := text(t, ctx, "#contact-panel .tag-list"); !strings.Contains(got, "VIP") || !strings.Contains(got, "Wholesale") {
		t.Errorf("the tag list shows %q", got)
	}
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`.tag-remove button[aria-label="Remove the tag Wholesale"]`), chromedp.NodeVisible))
	panelSays(t, ctx, "Tag removed.")
	if tags, _ := s.Contacts.ContactTags(context.Background(), ws, contactID); len(tags) != 1 || tags[0].Name != "VIP" {
		t.Errorf("the contact's tags: %+v", tags)
	}

	// Lead stage and subscription.
	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#contact-stage"), "Qualified", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS("#contact-subscribed"), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/contact/lead"] button[type="submit"]`), chromedp.NodeVisible),
	)
	panelSays(t, ctx, "Saved.")
	if got := text(t, ctx, "#contact-subscribed-note"); !strings.HasPrefix(got, "Opted in just now by Chenda") {
		t.Errorf("the subscription note says %q", got)
	}
	if ct, err := s.Contacts.Get(context.Background(), ws, contactID); err != nil || ct.Stage != "Qualified" || !ct.Subscribed {
		t.Errorf("the lead: %+v, %v", ct, err)
	}
	browser.Screenshot(t, ctx, "contact-panel-filled")

	// At phone width the panel follows the conversation.
	phone := browser.New(t, browser.Phone())
	login(t, phone, s.URL, addr)
	browser.Do(t, phone,
		chromedp.Navigate(s.URL+"/w/"+ws+"/conversations/"+convID),
		chromedp.WaitVisible(chromedp.CSS("#contact-panel .tag-chip")),
	)
	if below := browser.Run(t, phone, chromedp.Evaluate[bool](`document.getElementById("contact-panel").getBoundingClientRect().top >
		document.querySelector(".conversation-column").getBoundingClientRect().top`)); !below {
		t.Error("at phone width the panel is not under the conversation")
	}
	browser.Screenshot(t, phone, "contact-panel-phone")
}

package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// needIslands skips a browser test of an island when the islands were not
// built (a checkout without Node): the dashboard then serves a placeholder
// instead. CI builds them first (scripts/test.sh runs `make islands`), so
// there a missing build fails the test.
func needIslands(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("static/islands/build/flow-editor.js"); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("the flow editor island is not built: CI must run `make islands` before the tests")
	}
	t.Skip("the flow editor island is not built: run `make islands` (needs Node.js)")
}

// signUpInBrowser signs a new person up and creates their workspace in the
// browser of ctx, and returns their address.
func signUpInBrowser(t *testing.T, ctx context.Context, s *site, name, workspace string) string {
	t.Helper()
	addr := email(strings.ToLower(name))
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS(`form[action="/signup"]`)))
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#age_confirmed"), chromedp.NodeVisible))
	fill(t, ctx, `form[action="/signup"]`, map[string]string{"#email": addr, "#password": password, "#name": name})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`form[action="/workspaces/new"]`)))
	fill(t, ctx, `form[action="/workspaces/new"]`, map[string]string{"#name": workspace})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".steps")))
	return addr
}

// center returns the middle of the first element matching sel, in CSS
// pixels of the viewport.
func center(t *testing.T, ctx context.Context, sel string) (x, y float64) {
	t.Helper()
	js := `(() => { const r = document.querySelector(` + jsString(sel) + `).getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`
	p := browser.Run(t, ctx, chromedp.Evaluate[[]float64](js))
	return p[0], p[1]
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pressed keeps the left button down while the mouse moves, as a drag
// does.
func pressed(p *input.DispatchMouseEventParams) {
	p.Button = input.MouseButtonLeft
	p.Buttons = 1
}

// drag drags with the mouse from the middle of one element to the middle
// of another, in small steps as a hand would.
func drag(t *testing.T, ctx context.Context, from, to string) {
	t.Helper()
	x0, y0 := center(t, ctx, from)
	x1, y1 := center(t, ctx, to)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(chromedp.MouseMoved, x0, y0),
		chromedp.MouseEvent(chromedp.MousePressed, x0, y0, pressed, chromedp.ClickCount(1)),
	}
	const n = 12
	for i := 1; i <= n; i++ {
		f := float64(i) / n
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x0+(x1-x0)*f, y0+(y1-y0)*f, pressed))
	}
	steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, pressed, chromedp.ClickCount(1)))
	browser.Do(t, ctx, steps...)
}

// poll waits until the JavaScript condition holds.
func poll(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	browser.Run(t, ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
}

// sentTexts waits until the simulator's Send API has received n messages
// and returns their texts, joined by "|".
func sentTexts(t *testing.T, s *site, n int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browser.StepTimeout)
	defer cancel()
	sent, err := s.Sim.Sim().WaitSent(ctx, "", n)
	if err != nil {
		t.Fatalf("waiting for %d sent messages: %v", n, err)
	}
	var texts []string
	for _, m := range sent {
		var msg struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(m.Message, &msg); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, msg.Text)
	}
	return strings.Join(texts, "|")
}

// node is the canvas card of a flow node.
func node(id string) string { return `.react-flow__node[data-id="` + id + `"]` }

// Issue 4, "Done when": in a real browser with the strict CSP on, a
// newcomer connects the test page, builds a two-step flow on the canvas —
// a keyword trigger, a greeting with the contact's first name, then a
// goodbye, connected by dragging — tries it in the preview, publishes it,
// and sees it answer a simulated Messenger user through the simulator and
// in the conversation page. Screenshots land in testdata/output/.
func TestBrowserBuildAndPublishFlow(t *testing.T) {
	needIslands(t)
	s := start(t, dbtest.SQLite(t), apptest.Started())
	ctx := browser.New(t)
	signUpInBrowser(t, ctx, s, "Sophea", "Sophea's Silk")

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/channels"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/channels/test-page"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/channels/test-page"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/test-conversation"]`)),
	)
	channelPage := browser.Run(t, ctx, chromedp.Location())

	// Flows: empty, saying what to do; a new flow opens the editor.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/flows"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#flow-name")),
	)
	if got := text(t, ctx, ".empty-state h2"); got != "No flows yet" {
		t.Errorf("the empty flows page says %q", got)
	}
	browser.Screenshot(t, ctx, "flows-empty")
	fill(t, ctx, `form[action$="/flows"]`, map[string]string{"#flow-name": "Welcome"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".fe-editor "+node("@start"))))
	browser.Screenshot(t, ctx, "flow-editor-new")

	// What starts it: the word "hello".
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(node("@start")), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="When the flow starts"]`)),
		chromedp.Click(chromedp.CSS(`form[aria-label="When the flow starts"] .fe-list > .button`), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="keywords"]`), "hello", chromedp.NodeVisible),
	)

	// Two message steps from the palette; the first becomes the start.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.fe-add__toggle`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`[data-add="message"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(node("n1"))),
	)
	// Adding a step opens its form with the text field focused.
	poll(t, ctx, `document.activeElement && document.activeElement.matches('textarea[name="text"]')`)
	browser.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`textarea[name="text"]`), "Hello {{contact.first_name|there}}!", chromedp.NodeVisible))
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.fe-add__toggle`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`[data-add="message"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(node("n2"))),
	)
	poll(t, ctx, `document.activeElement && document.activeElement.matches('textarea[name="text"]') && document.querySelector('form[aria-label="Edit step n2"]') !== null`)
	browser.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`textarea[name="text"]`), "Bye for now.", chromedp.NodeVisible))

	// The first step is connected to the trigger card; connect the second
	// by dragging from the first's "Then" dot onto it.
	poll(t, ctx, `document.querySelector('.react-flow__edge[data-id="@start:start"]') !== null`)
	drag(t, ctx, node("n1")+` .react-flow__handle[data-handleid="next"]`, node("n2"))
	poll(t, ctx, `document.querySelector('.react-flow__edge[data-id="n1:next"]') !== null`)
	browser.Screenshot(t, ctx, "flow-editor-built")

	// Try it before publishing: the preview runs the unsaved draft from
	// its first step for a pretend contact, through the simulate endpoint.
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`#fe-tabbtn-preview`), chromedp.NodeVisible))
	poll(t, ctx, `Array.from(document.querySelectorAll(".is-bot .fe-bubble__text")).map(e => e.textContent).join("|") === "Hello Dara!|Bye for now."`)
	browser.Do(t, ctx,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("fe-sim-name").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#fe-sim-name"), "Vanna", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`.fe-preview .fe-row button`), chromedp.NodeVisible),
	)
	poll(t, ctx, `Array.from(document.querySelectorAll(".is-bot .fe-bubble__text")).map(e => e.textContent).join("|") === "Hello Vanna!|Bye for now."`)
	browser.Screenshot(t, ctx, "flow-editor-preview")

	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#fe-publish"), chromedp.NodeVisible))
	poll(t, ctx, `(document.querySelector(".fe-notice") || {}).textContent?.includes("Published version 1")`)
	if got := text(t, ctx, ".fe-saved"); got != "All changes saved" {
		t.Errorf("after publishing the editor says %q", got)
	}
	browser.Screenshot(t, ctx, "flow-editor-published")

	// A Messenger user writes the keyword to the test page.
	browser.Do(t, ctx,
		chromedp.Navigate(channelPage),
		chromedp.WaitVisible(chromedp.CSS("#test-text")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("test-text").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#test-text"), "Hello!", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/test-conversation"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".conversation-row")),
	)
	// The flow answers through the Send API, greeting the new contact by
	// name on their very first message: the runner waits for the profile
	// the inbox fetches once the message is stored.
	if got, want := sentTexts(t, s, 2), "Hello Sok!|Bye for now."; got != want {
		t.Errorf("the simulator received %q, want %q", got, want)
	}

	// The conversation shows the flow's answers and the name they used.
	// Written to again, the flow greets the known contact at once.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(".conversation-row"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".message-in .bubble-text")),
	)
	poll(t, ctx, `Array.from(document.querySelectorAll(".message-out .bubble-text")).map(e => e.textContent).join("|") === "Hello Sok!|Bye for now."`)
	if got := text(t, ctx, ".conversation-header h1"); !strings.Contains(got, "Sok") {
		t.Errorf("the conversation is headed %q: the profile the greeting used is not shown", got)
	}
	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#customer-text"), "hello again", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/as-customer"] button`), chromedp.NodeVisible),
	)
	if got, want := sentTexts(t, s, 4), "Hello Sok!|Bye for now.|Hello Sok!|Bye for now."; got != want {
		t.Errorf("the simulator received %q, want %q", got, want)
	}
	poll(t, ctx, `Array.from(document.querySelectorAll(".message-out .bubble-text")).map(e => e.textContent).join("|") === "Hello Sok!|Bye for now.|Hello Sok!|Bye for now."`)
	browser.Screenshot(t, ctx, "flow-conversation")

	// The list shows the published flow and what starts it.
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+strings.Split(strings.TrimPrefix(channelPage, s.URL), "/channels/")[0]+"/flows"),
		chromedp.WaitVisible(chromedp.CSS(".flows .list-row")),
	)
	if got := text(t, ctx, ".flows .list-row"); !strings.Contains(got, "Published · v1") || !strings.Contains(got, "hello") {
		t.Errorf("the flows list shows %q", got)
	}
	browser.Screenshot(t, ctx, "flows-list")

	// Back in the editor, each step shows how many contacts reached it,
	// went on, and stopped there in the published version.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(".flows .row-title"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(node("n1")+" .fe-card__stats")),
	)
	if got := strings.Join(strings.Fields(text(t, ctx, node("n1")+" .fe-card__stats")), " "); got != "▶ 2 ✓ 2 ✕ 0" {
		t.Errorf("the first step's numbers read %q, want 2 entered, 2 completed, 0 dropped", got)
	}
	if disabled := browser.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("fe-publish").disabled`)); !disabled {
		t.Error("Publish is offered although the published version is up to date")
	}
	browser.Screenshot(t, ctx, "flow-editor-stats")
}

// A flow with problems: publishing is refused with readable problems;
// choosing one selects its step and focuses the field at fault. The canvas
// works from the keyboard (Enter opens a step's form, Escape goes back,
// Delete removes the step), and at phone width the editor shows the steps
// as a list with the form below.
func TestBrowserFlowProblemsKeyboardAndPhone(t *testing.T) {
	needIslands(t)
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Kim")
	ws := c.createWorkspace("Kim's Kitchen")
	doc := `{"format":1,"name":"Menu","triggers":[{"id":"t1","type":"keyword","mode":"contains","keywords":["menu"]}],"start":"ask",
		"nodes":[
		 {"id":"ask","type":"message","name":"Ask","text":"What would you like?","quick_replies":[{"title":"Cakes","next":"cakes"},{"title":"Bread","next":"bread"}]},
		 {"id":"cakes","type":"message","name":"Cakes","text":"","next":"bye"},
		 {"id":"bread","type":"message","name":"Bread","text":"Fresh every morning.","next":"bye"},
		 {"id":"bye","type":"end"}]}`
	id := flowID(t, c.upload("/w/"+ws+"/flows/import", "document", "menu.json", []byte(doc)))
	editor := "/w/" + ws + "/flows/" + id

	ctx := browser.New(t)
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	fill(t, ctx, `form[action="/login"]`, map[string]string{"#email": addr, "#password": password})
	browser.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(".steps")),
		chromedp.Navigate(s.URL+editor),
		chromedp.WaitVisible(chromedp.CSS(node("cakes"))),
	)
	// Imported without positions, the steps are laid out from the start.
	poll(t, ctx, `document.querySelectorAll(".react-flow__edge").length === 5`)

	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#fe-publish"), chromedp.NodeVisible))
	poll(t, ctx, `document.querySelector(".fe-problem-panel .fe-problem--error") !== null`)
	if got := text(t, ctx, ".fe-notice"); !strings.Contains(got, "Not published") {
		t.Errorf("a refused publish says %q", got)
	}
	browser.Screenshot(t, ctx, "flow-editor-problems")
	problem := text(t, ctx, ".fe-problem-panel .fe-problem--error .fe-problem__msg")
	if !strings.Contains(problem, "Cakes") {
		t.Errorf("the problem reads %q, want it to name the step “Cakes”", problem)
	}
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(".fe-problem-panel .fe-problem--error"), chromedp.NodeVisible))
	poll(t, ctx, `document.querySelector('`+node("cakes")+`.selected') !== null && document.activeElement.matches('textarea[name="text"]') && document.activeElement.closest('form[aria-label="Edit step cakes"]') !== null`)
	browser.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`textarea[name="text"]`), "Our cakes start at $25.", chromedp.NodeVisible))
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#fe-publish"), chromedp.NodeVisible))
	poll(t, ctx, `(document.querySelector(".fe-notice") || {}).textContent?.includes("Published version 1")`)

	// The preview offers the quick replies to tap, and a tap leads on.
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#fe-tabbtn-preview"), chromedp.NodeVisible))
	poll(t, ctx, `Array.from(document.querySelectorAll(".fe-taps .fe-chip")).map(e => e.textContent).join("|") === "Cakes|Bread"`)
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(".fe-taps .fe-chip"), chromedp.NodeVisible))
	poll(t, ctx, `Array.from(document.querySelectorAll(".is-bot .fe-bubble__text")).map(e => e.textContent).join("|") === "What would you like?|Our cakes start at $25."`)
	browser.Screenshot(t, ctx, "flow-editor-preview-tap")

	// Keyboard: focus a step, Enter opens its form, Escape comes back,
	// Delete removes it (and the taps that led to it).
	browser.Do(t, ctx, chromedp.Focus(chromedp.CSS(node("bread"))), chromedp.KeyEvent(kb.Enter))
	poll(t, ctx, `document.activeElement.closest('form[aria-label="Edit step bread"]') !== null`)
	browser.Do(t, ctx, chromedp.KeyEvent(kb.Escape))
	poll(t, ctx, `document.activeElement.matches('`+node("bread")+`')`)
	browser.Do(t, ctx, chromedp.KeyEvent(kb.Delete))
	poll(t, ctx, `document.querySelector('`+node("bread")+`') === null && document.querySelector('.react-flow__edge[data-id="ask:quick_replies[1].next"]') === null`)
	if got := text(t, ctx, ".fe-saved"); got != "Unsaved changes" {
		t.Errorf("after deleting a step the editor says %q", got)
	}
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#fe-save"), chromedp.NodeVisible))
	poll(t, ctx, `document.querySelector(".fe-saved").textContent === "All changes saved"`)
	res := c.api("GET", flowAPI(ws, id), nil).want(t, http.StatusOK)
	if strings.Contains(res.Body, `"bread"`) {
		t.Errorf("the saved draft still has the deleted step: %s", res.Body)
	}

	// At phone width: the list of steps, and a step's form below it.
	phone := browser.New(t, browser.Phone())
	browser.Do(t, phone, chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	fill(t, phone, `form[action="/login"]`, map[string]string{"#email": addr, "#password": password})
	browser.Do(t, phone,
		chromedp.WaitVisible(chromedp.CSS(".steps")),
		chromedp.Navigate(s.URL+editor),
		chromedp.WaitVisible(chromedp.CSS(".fe-steplist")),
		chromedp.Click(chromedp.CSS(".fe-steplist li:nth-child(2) .fe-stepbtn"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Edit step ask"]`)),
	)
	browser.Screenshot(t, phone, "flow-editor-phone")
}

package web_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// dragCard drops the card of contactID on the column of stageID, just before
// the card of beforeID ("" for the end of the column), with the HTML5
// drag events a person's mouse makes (chromedp cannot drag natively).
func dragCard(contactID, stageID, beforeID string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => {
		const card = document.getElementById("card-" + ` + strconv.Quote(contactID) + `);
		const list = document.querySelector('.board-cards[data-stage="' + ` + strconv.Quote(stageID) + ` + '"]');
		const before = ` + strconv.Quote(beforeID) + ` ? document.getElementById("card-" + ` + strconv.Quote(beforeID) + `) : null;
		const box = (before || list).getBoundingClientRect();
		const at = {bubbles: true, cancelable: true, clientX: box.left + 10, clientY: before ? box.top + 2 : box.bottom - 2};
		const dt = new DataTransfer();
		card.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: dt}));
		(before || list).dispatchEvent(new DragEvent("dragover", {...at, dataTransfer: dt}));
		(before || list).dispatchEvent(new DragEvent("drop", {...at, dataTransfer: dt}));
		card.dispatchEvent(new DragEvent("dragend", {bubbles: true, dataTransfer: dt}));
	})()`)
}

// boardSays waits until the board, swapped in by htmx after a move, shows
// the notice and htmx has settled it.
func boardSays(t *testing.T, ctx context.Context, notice string) {
	t.Helper()
	until(t, ctx, `(() => { const b = document.getElementById("board"), n = b && b.querySelector(".board-notice");
		return !!n && n.textContent === `+strconv.Quote(notice)+` && !b.classList.contains("htmx-added") && !b.classList.contains("htmx-settling"); })()`)
}

// columnsInPage returns the contact IDs of each column as the page shows
// them, by stage ID.
func columnsInPage(t *testing.T, ctx context.Context) map[string][]string {
	t.Helper()
	return browser.Run(t, ctx, chromedp.Evaluate[map[string][]string](`Object.fromEntries(Array.from(document.querySelectorAll(".board-cards")).map(l =>
		[l.dataset.stage, Array.from(l.querySelectorAll(".board-card")).map(c => c.dataset.contact)]))`))
}

// moves returns the contact's pipeline activity as "from→to", newest first.
func (s *site) moves(t *testing.T, ws, contactID string) []string {
	t.Helper()
	es, err := s.Activity.List(context.Background(), ws, contactID, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range es {
		if e.Kind == activity.KindPipeline {
			out = append(out, e.Data[pipeline.DataFromStage]+"→"+e.Data[pipeline.DataToStage])
		}
	}
	return out
}

// Issue 5 item 8, the board in a real browser with the strict CSP on: an
// admin creates the first pipeline from the empty state's suggested
// stages; a contact already labelled "New" appears in that column (the
// background pass), another is put on it from their profile; a card is
// dragged to another column, another dragged to a position in it, one is
// moved with its "Move to" list (the keyboard and phone way); a reload
// shows the board as moved, each contact's activity has exactly one entry
// per change of column, and the profile shows a note added there. At
// phone width the columns scroll sideways. Screenshots land in
// testdata/output/.
func TestBrowserPipelineBoard(t *testing.T) {
	s := start(t, dbtest.SQLite(t), apptest.Started())
	c, addr := s.signUp(t, "Sophea")
	ws := c.createWorkspace("Sophea's Silk")
	_, dara := s.seedConversation(t, ws, "Hello, is the red scarf in stock?")
	_, lina := s.seedConversation(t, ws, "Do you ship to Battambang?")
	for id, name := range map[string]string{dara: "Dara", lina: "Lina"} {
		if err := s.Contacts.SetProfile(context.Background(), ws, id, channel.Profile{FirstName: name}, contact.ProfileFetched); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Contacts.SetStage(context.Background(), nil, ws, dara, "new", contact.By{Kind: contact.BySystem}); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	// The empty state, then the first pipeline from the suggestion.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/pipelines"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".empty-state")),
	)
	if got := browser.Run(t, ctx, chromedp.Value(chromedp.CSS("#pipeline-stages"))); got != "New\nContacted\nQualified\nWon\nLost" {
		t.Errorf("the stages box suggests %q", got)
	}
	browser.Screenshot(t, ctx, "pipelines-empty")
	fill(t, ctx, `form[action$="/pipelines"]`, map[string]string{"#pipeline-name": "Sales"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#board")))
	ps, err := s.Pipelines.Pipelines(context.Background(), ws)
	if err != nil || len(ps) != 1 {
		t.Fatalf("pipelines %+v, %v", ps, err)
	}
	p := ps[0]
	stage := map[string]string{}
	for _, st := range p.Stages {
		stage[st.Name] = st.ID
	}

	// Dara, labelled "new" before the pipeline existed, is placed by the
	// background pass; the board shows her once it has run.
	deadline := time.Now().Add(30 * time.Second)
	for len(s.boardOf(t, ws, p.ID)["New"]) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the labelled contact was never placed on the new main pipeline")
		}
		time.Sleep(50 * time.Millisecond) // polling the store, with a deadline
	}
	// Lina joins from her profile.
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/contacts/"+lina),
		chromedp.WaitVisible(chromedp.CSS("#add-to-pipeline")),
		choose("#add-to-pipeline", p.ID+"/"+stage["New"]),
		chromedp.Click(chromedp.CSS(`form[action$="/pipelines"] button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".placements")),
	)
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/w/"+ws+"/pipelines/"+p.ID), chromedp.WaitVisible(chromedp.CSS("#card-"+lina)))
	if diff := cmp.Diff([]string{dara, lina}, columnsInPage(t, ctx)[stage["New"]]); diff != "" {
		t.Errorf("the New column (-want +got):\n%s", diff)
	}
	browser.Screenshot(t, ctx, "board")

	// Drag Lina to Contacted, then Dara just before her.
	browser.Do(t, ctx, dragCard(lina, stage["Contacted"], ""))
	boardSays(t, ctx, "Lina is now in “Contacted”.")
	browser.Do(t, ctx, dragCard(dara, stage["Contacted"], lina))
	boardSays(t, ctx, "Dara is now in “Contacted”.")
	if diff := cmp.Diff([]string{dara, lina}, columnsInPage(t, ctx)[stage["Contacted"]]); diff != "" {
		t.Errorf("the Contacted column after the drags (-want +got):\n%s", diff)
	}
	// Lina to Qualified with her "Move to" list.
	browser.Do(t, ctx,
		choose("#move-"+lina, stage["Qualified"]),
		chromedp.Click(chromedp.CSS(`#card-`+lina+` .card-move button`), chromedp.NodeVisible),
	)
	boardSays(t, ctx, "Lina is now in “Qualified”.")
	until(t, ctx, `document.activeElement && document.activeElement.id === `+strconv.Quote("move-"+lina)) // the keyboard goes on from the card
	browser.Screenshot(t, ctx, "board-moved")

	// A reload shows the moves; the activity has one entry per move.
	browser.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#card-"+lina)))
	got := columnsInPage(t, ctx)
	if diff := cmp.Diff([]string{dara}, got[stage["Contacted"]]); diff != "" {
		t.Errorf("Contacted after a reload (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{lina}, got[stage["Qualified"]]); diff != "" {
		t.Errorf("Qualified after a reload (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Contacted→Qualified", "New→Contacted", "→New"}, s.moves(t, ws, lina)); diff != "" {
		t.Errorf("Lina's moves (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"New→Contacted", "→New"}, s.moves(t, ws, dara)); diff != "" {
		t.Errorf("Dara's moves (-want +got):\n%s", diff)
	}
	if ct, _ := s.Contacts.Get(context.Background(), ws, lina); ct.Stage != "Qualified" {
		t.Errorf("Lina's lead stage is %q after the moves on the main pipeline", ct.Stage)
	}

	// The profile: the moves, and a note added there.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#card-"+lina+" .board-card-name"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#note-text")),
		chromedp.SendKeys(chromedp.CSS("#note-text"), "Wants 3 metres of the blue silk", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`.note-composer button[type="submit"]`), chromedp.NodeVisible),
	)
	until(t, ctx, `Array.from(document.querySelectorAll(".activity-text")).some(n => n.textContent === "Wants 3 metres of the blue silk")`)
	if got := text(t, ctx, "#activity-list .activity-kind-pipeline"); got == "" {
		t.Error("the profile shows no move")
	}
	browser.Screenshot(t, ctx, "contact-profile")

	// At phone width the board scrolls sideways, and the list still moves
	// a card.
	phone := browser.New(t, browser.Phone())
	login(t, phone, s.URL, addr)
	browser.Do(t, phone, chromedp.Navigate(s.URL+"/w/"+ws+"/pipelines/"+p.ID), chromedp.WaitVisible(chromedp.CSS("#card-"+dara)))
	if scrolls := browser.Run(t, phone, chromedp.Evaluate[bool](`(() => { const c = document.querySelector(".board-columns");
		return c.scrollWidth > c.clientWidth && document.documentElement.scrollWidth <= window.innerWidth; })()`)); !scrolls {
		t.Error("at phone width the columns do not scroll inside the board (or the page scrolls sideways)")
	}
	browser.Do(t, phone,
		choose("#move-"+dara, stage["Won"]),
		chromedp.Click(chromedp.CSS(`#card-`+dara+` .card-move button`), chromedp.NodeVisible),
	)
	boardSays(t, phone, "Dara is now in “Won”.")
	browser.Screenshot(t, phone, "board-phone")
}

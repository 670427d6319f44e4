package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// htmxPost posts a form the way htmx does (HX-Request), for fragments.
func (c *client) htmxPost(path string, form url.Values) *page {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return c.do(req)
}

// boardOf returns the contact IDs of each column of the workspace's
// pipeline, by stage name, as the store has them.
func (s *site) boardOf(t *testing.T, ws, pipelineID string) map[string][]string {
	t.Helper()
	b, err := s.Pipelines.Board(context.Background(), ws, pipelineID, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, c := range b.Columns {
		for _, card := range c.Cards {
			out[c.Stage.Name] = append(out[c.Stage.Name], card.ContactID)
		}
	}
	return out
}

var pipelineLink = regexp.MustCompile(`^/w/[0-9a-f-]{36}/pipelines/([0-9a-f-]{36})$`)

// Promise P-25 in the dashboard without JavaScript: the Pipelines page
// starts empty with the suggested stages, an admin creates the first
// pipeline (the main one), setting a lead stage on the conversation's
// contact panel puts the contact on its board, a card's "Move to" form
// moves it (as a page, and as an htmx fragment of the board), the
// contact's profile tells every move once and keeps notes; viewers and
// other workspaces get nothing they may not have.
func TestPipelinePagesAndProfile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Sokha")
		ws := owner.createWorkspace("Sokha's Shoes")
		viewer, vAddr := s.signUp(t, "Vanna")
		s.join(t, owner, ws, viewer, vAddr, "viewer")
		agent, aAddr := s.signUp(t, "Dara")
		s.join(t, owner, ws, agent, aAddr, "agent")
		convID, contactID := s.seedConversation(t, ws, "Do you have size 42?")

		owner.get("/w/"+ws+"/pipelines").want(t, 200, "No pipeline yet", "New\nContacted\nQualified\nWon\nLost", "Create your first pipeline")
		viewer.get("/w/"+ws+"/pipelines").want(t, 200, "Ask an owner or admin").lacks(t, "Create your first pipeline")
		viewer.post("/w/"+ws+"/pipelines", url.Values{"name": {"Mine"}, "stages": {"A"}}).want(t, 403)
		owner.post("/w/"+ws+"/pipelines", url.Values{"name": {""}, "stages": {"New"}}).want(t, 422, "field-error")
		owner.post("/w/"+ws+"/pipelines", url.Values{"name": {"Sales"}, "stages": {"New\nnew"}}).want(t, 422, "same name")
		loc := owner.post("/w/"+ws+"/pipelines", url.Values{"name": {"Sales"}, "stages": {"New\r\nContacted\r\n\r\nQualified\r\nWon\r\nLost"}}).redirectsTo(t, "/w/"+ws+"/pipelines/")
		m := pipelineLink.FindStringSubmatch(loc)
		if m == nil {
			t.Fatalf("created pipeline at %q", loc)
		}
		pid := m[1]
		pl, err := s.Pipelines.Get(context.Background(), ws, pid)
		if err != nil || !pl.Default || len(pl.Stages) != 5 {
			t.Fatalf("created %+v, %v", pl, err)
		}
		owner.get(loc).want(t, 200, "Sales", "Nobody here yet", "Edit stages", "your main pipeline")

		// The lead stage, set on the conversation's contact panel, puts
		// the contact on the main board.
		agent.post("/w/"+ws+"/conversations/"+convID+"/contact/lead", url.Values{"stage": {"qualified"}, "o.stage": {""}}).redirectsTo(t, "/w/"+ws+"/conversations/")
		if got := s.boardOf(t, ws, pid); len(got["Qualified"]) != 1 || got["Qualified"][0] != contactID {
			t.Fatalf("after setting the lead stage the board is %v", got)
		}
		board := viewer.get(loc).want(t, 200, "Qualified", "/w/"+ws+"/contacts/"+contactID)
		board.lacks(t, `class="card-move"`) // viewers cannot move cards

		// Moving with a card's form: viewers cannot; a stage of nowhere is
		// refused; a move as a page goes back to the board, with htmx the
		// board comes back with what happened.
		won, lost := pl.Stages[3].ID, pl.Stages[4].ID
		viewer.post(loc+"/cards", url.Values{"contact_id": {contactID}, "stage_id": {won}}).want(t, 403)
		agent.post(loc+"/cards", url.Values{"contact_id": {contactID}, "stage_id": {"nowhere"}}).want(t, 422)
		agent.post(loc+"/cards", url.Values{"contact_id": {contactID}, "stage_id": {won}}).redirectsTo(t, loc)
		frag := agent.htmxPost(loc+"/cards", url.Values{"contact_id": {contactID}, "stage_id": {lost}}).want(t, 200, `id="board"`, "is now in “Lost”")
		frag.lacks(t, "<html")
		if got := s.boardOf(t, ws, pid); len(got["Lost"]) != 1 {
			t.Fatalf("after the moves the board is %v", got)
		}
		if ct, _ := s.Contacts.Get(context.Background(), ws, contactID); ct.Stage != "Lost" {
			t.Errorf("moving on the main pipeline left the lead stage %q", ct.Stage)
		}

		// The profile: channels, lead, placements and every move once.
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(s.Logs.String())
			}
		})
		prof := viewer.get("/w/"+ws+"/contacts/"+contactID).want(t, 200, "Messenger", "Sales</a>: <strong>Lost</strong>",
			"put them in “Qualified” on Sales", "moved them from “Qualified” to “Won” on Sales", "moved them from “Won” to “Lost” on Sales")
		prof.lacks(t, "Save note")
		if n := strings.Count(prof.Body, `class="activity-entry activity-kind-pipeline"`); n != 3 {
			t.Errorf("the profile shows %d moves, want 3", n)
		}
		owner.get("/w/"+ws+"/conversations/"+convID).want(t, 200, `href="/w/`+ws+`/contacts/`+contactID+`"`)

		// Notes: empty is refused in place; another agent cannot delete.
		agent.post("/w/"+ws+"/contacts/"+contactID+"/notes", url.Values{"text": {"  "}}).want(t, 422, "Write a note.")
		agent.post("/w/"+ws+"/contacts/"+contactID+"/notes", url.Values{"text": {"Wants size 42 in black"}}).redirectsTo(t, "/w/"+ws+"/contacts/"+contactID)
		viewer.post("/w/"+ws+"/contacts/"+contactID+"/notes", url.Values{"text": {"x"}}).want(t, 403)
		es, err := s.Activity.List(context.Background(), ws, contactID, "", 10)
		if err != nil || len(es) == 0 || es[0].Kind != activity.KindNote {
			t.Fatalf("activity %+v, %v", es, err)
		}
		viewer.get("/w/"+ws+"/contacts/"+contactID).want(t, 200, "Wants size 42 in black").lacks(t, "Delete note")
		noteDel := "/w/" + ws + "/contacts/" + contactID + "/notes/" + es[0].ID + "/delete"
		owner.get("/w/"+ws+"/contacts/"+contactID).want(t, 200, noteDel) // admins may delete
		agent.post(noteDel, nil).redirectsTo(t, "/w/"+ws+"/contacts/"+contactID)
		agent.post(noteDel, nil).want(t, 404)

		// A long log comes a page at a time: "Load more" answers the
		// older entries alone, for htmx to put in its place.
		for i := 0; i < 25; i++ {
			if _, err := s.Activity.AddNote(context.Background(), audit.Actor{UserID: s.userID(t, aAddr)}, ws, contactID, fmt.Sprintf("Note %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		prof = viewer.get("/w/"+ws+"/contacts/"+contactID).want(t, 200, "Note 24", "Load more").lacks(t, "Note 4<")
		more := regexp.MustCompile(`hx-get="([^"]*/activity\?before=[^"]*)"`).FindStringSubmatch(prof.Body)
		if more == nil {
			t.Fatal("no Load more address")
		}
		older := viewer.get(html.UnescapeString(more[1])).want(t, 200, "Note 4<", "Note 0<", "put them in “Qualified” on Sales").lacks(t, "<html", "Note 24")
		if strings.Contains(older.Body, "Load more") {
			t.Error("the last page offers more")
		}

		// Contacts list.
		viewer.get("/w/"+ws+"/contacts").want(t, 200, "/w/"+ws+"/contacts/"+contactID, "Lost")

		// Stage settings: admins only; deleting a stage with contacts
		// needs where they go.
		agent.get(loc+"/settings").want(t, 403)
		owner.get(loc+"/settings").want(t, 200, "Move its 1 contact to")
		owner.post(loc+"/stages", url.Values{"stage_name": {"won"}}).want(t, 409, "used already")
		owner.post(loc+"/stages", url.Values{"stage_name": {"Proposal sent"}, "stage_color": {"#2456d6"}}).redirectsTo(t, loc+"/settings")
		owner.post(loc+"/stages/"+lost, url.Values{"edit_name": {"Gone"}, "edit_color": {""}}).redirectsTo(t, loc+"/settings")
		if ct, _ := s.Contacts.Get(context.Background(), ws, contactID); ct.Stage != "Gone" {
			t.Errorf("renaming the stage left the lead stage %q", ct.Stage)
		}
		owner.post(loc+"/stages/"+lost+"/delete", nil).want(t, 409, "Choose the stage they move to")
		owner.post(loc+"/stages/"+lost+"/delete", url.Values{"move_to": {won}}).redirectsTo(t, loc+"/settings")
		owner.post(loc+"/stages/"+won+"/move", url.Values{"direction": {"up"}}).redirectsTo(t, loc+"/settings")
		pl, _ = s.Pipelines.Get(context.Background(), ws, pid)
		var names []string
		for _, st := range pl.Stages {
			names = append(names, st.Name)
		}
		if got := strings.Join(names, ","); got != "New,Contacted,Won,Qualified,Proposal sent" {
			t.Errorf("stages after the edits: %s", got)
		}

		// Another workspace sees none of it.
		other, _ := s.signUp(t, "Mealea")
		ows := other.createWorkspace("Other")
		other.get("/w/"+ows+"/contacts/"+contactID).want(t, 404)
		other.get("/w/"+ows+"/pipelines/"+pid).want(t, 404)
		other.post("/w/"+ows+"/pipelines/"+pid+"/cards", url.Values{"contact_id": {contactID}, "stage_id": {won}}).want(t, 404)
		if b := s.boardOf(t, ws, pid); len(b["Won"]) != 1 {
			t.Errorf("board after the other workspace's tries: %v", b)
		}
	})
}

// A long column shows its first cards and "Show more", which answers the
// next ones alone (per-column paging), each with its "Move to" form.
func TestBoardColumnShowMore(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, addr := s.signUp(t, "Bopha")
	ws := owner.createWorkspace("Bopha's Bags")
	actor := audit.Actor{UserID: s.userID(t, addr)}
	ctx := context.Background()
	p, err := s.Pipelines.CreatePipeline(ctx, actor, ws, "Sales", []pipeline.StageInput{{Name: "New"}, {Name: "Won"}})
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for i := 0; i < pipeline.DefaultColumn+3; i++ {
		c, err := s.Contacts.Create(ctx, nil, ws, contact.NewContact{FirstName: fmt.Sprintf("Buyer%02d", i), By: contact.ByActor(actor)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pipelines.AddCard(ctx, actor, ws, p.ID, c.ID, ""); err != nil {
			t.Fatal(err)
		}
		last = c.ID
	}
	owner.get("/w/"+ws+"/pipelines/"+p.ID).want(t, 200, "Moved here just now")
	s.Clock.Advance(2 * time.Hour)
	board := owner.get("/w/"+ws+"/pipelines/"+p.ID).want(t, 200, "Buyer00", "Buyer19", "Show more", `aria-label="23 contacts"`, "2 hours in this stage").lacks(t, "Buyer20")
	more := regexp.MustCompile(`hx-get="([^"]*/columns/[^"]*)"`).FindStringSubmatch(board.Body)
	if more == nil {
		t.Fatal("no Show more address")
	}
	owner.get(html.UnescapeString(more[1])).want(t, 200, "Buyer20", "Buyer22", `id="move-`+last+`"`).lacks(t, "Buyer19", "Show more", "<html")
	owner.get("/w/"+ws+"/pipelines/"+p.ID+"/columns/"+p.Stages[0].ID+"?after=nonsense").want(t, 400)
}

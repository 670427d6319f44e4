package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type stageOut struct {
	ID, Name, Color, Outcome string
	Position                 int
}

type pipelineOut struct {
	ID, Name string
	Default  bool
	Stages   []stageOut
}

type cardOut struct {
	ContactID string `json:"contact_id"`
	StageID   string `json:"stage_id"`
	MovedBy   string `json:"moved_by"`
	FirstName string `json:"first_name"`
}

type boardOut struct {
	Pipeline pipelineOut
	Columns  []struct {
		Stage stageOut
		Count int
		Cards []cardOut
		Next  string
	}
}

// seedPipeline gives the tenant a default pipeline with its contact's card
// in the first stage, and a note on the contact.
func seedPipeline(t *testing.T, tn *tenant) {
	t.Helper()
	base := "/api/v1/workspaces/" + tn.ws
	var p struct{ Pipeline pipelineOut }
	tn.owner.Do("POST", base+"/pipelines", map[string]any{"name": "Sales", "stages": []map[string]string{{"name": "New"}, {"name": "Won", "outcome": "won"}}}).
		Must(t, 201).JSON(t, &p)
	tn.pipelineID, tn.stageID = p.Pipeline.ID, p.Pipeline.Stages[0].ID
	tn.owner.Do("PUT", base+"/pipelines/"+tn.pipelineID+"/cards/"+tn.contactID, map[string]string{"stage_id": tn.stageID}).Must(t, 200)
	var n struct{ Note struct{ ID string } }
	tn.owner.Do("POST", base+"/contacts/"+tn.contactID+"/notes", map[string]string{"text": "Prefers calls"}).Must(t, 201).JSON(t, &n)
	tn.contactNoteID = n.Note.ID
}

// columns returns the board as stage name → contact IDs in order.
func columns(t *testing.T, u *apptest.User, path string) map[string][]string {
	t.Helper()
	var b boardOut
	u.Do("GET", path, nil).Must(t, 200).JSON(t, &b)
	out := map[string][]string{}
	for _, c := range b.Columns {
		ids := []string{}
		for _, card := range c.Cards {
			ids = append(ids, card.ContactID)
		}
		out[c.Stage.Name] = ids
		if c.Count != len(ids) && c.Next == "" {
			t.Errorf("column %s counts %d but shows %d cards and no more", c.Stage.Name, c.Count, len(ids))
		}
	}
	return out
}

func contactStage(t *testing.T, u *apptest.User, ws, id string) string {
	t.Helper()
	var c struct{ Stage *string }
	u.Do("GET", "/api/v1/workspaces/"+ws+"/contacts/"+id, nil).Must(t, 200).JSON(t, &c)
	if c.Stage == nil {
		return ""
	}
	return *c.Stage
}

// Promise P-25: admins define pipelines and stages, agents move contacts'
// cards, every change of stage is one activity entry, and the default
// pipeline's stages are the contacts' lead stages both ways (a move sets
// the lead stage; PATCH /contacts moves the card). Bad input is a 422 and
// changes nothing; viewers and agents cannot do what their role does not
// allow.
func TestPipelinesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "pipes")
		ws := owner.CreateWorkspace(t, "Pipes")
		agent, viewer := a.SignUp(t, "pipes-agent"), a.SignUp(t, "pipes-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws
		c1, c2 := seedConversation(t, a, ws, "one").contactID, seedConversation(t, a, ws, "two").contactID

		var list struct{ Pipelines []pipelineOut }
		viewer.Do("GET", base+"/pipelines", nil).Must(t, 200).JSON(t, &list)
		if len(list.Pipelines) != 0 {
			t.Fatalf("a new workspace has pipelines: %+v", list)
		}
		for _, tc := range []struct {
			body  any
			field string
		}{
			{map[string]any{}, "name"},
			{map[string]any{"name": "Sales", "stages": []any{}}, "stages"},
			{map[string]any{"name": "Sales", "stages": []map[string]string{{"name": "New"}, {"name": "new"}}}, "stages"},
			{map[string]any{"name": "Sales", "stages": []map[string]string{{"name": "New", "color": "red"}}}, "color"},
			{map[string]any{"name": "Sales", "stages": []map[string]string{{"name": "New", "outcome": "maybe"}}}, "outcome"},
		} {
			res := owner.Do("POST", base+"/pipelines", tc.body)
			if e := errorOf(t, res); res.Status != 422 || e.Error.Field != tc.field {
				t.Errorf("POST %v: %d %s, want 422 naming %s", tc.body, res.Status, res.Body, tc.field)
			}
		}
		agent.Do("POST", base+"/pipelines", map[string]any{"name": "Mine", "stages": []map[string]string{{"name": "A"}}}).Must(t, 403)

		var sales, hiring struct{ Pipeline pipelineOut }
		owner.Do("POST", base+"/pipelines", map[string]any{"name": "Sales", "stages": []map[string]string{
			{"name": "New"}, {"name": "Contacted", "color": "#1A7F5A"}, {"name": "Won", "outcome": "won"}}}).Must(t, 201).JSON(t, &sales)
		owner.Do("POST", base+"/pipelines", map[string]any{"name": "Hiring", "stages": []map[string]string{{"name": "Applied"}}}).Must(t, 201).JSON(t, &hiring)
		if !sales.Pipeline.Default || hiring.Pipeline.Default {
			t.Errorf("the first pipeline should be the default: %v %v", sales.Pipeline.Default, hiring.Pipeline.Default)
		}
		if s := sales.Pipeline.Stages; len(s) != 3 || s[1].Color != "#1a7f5a" || s[2].Outcome != "won" {
			t.Errorf("stages %+v", s)
		}
		if code := owner.Do("POST", base+"/pipelines", map[string]any{"name": "SALES", "stages": []map[string]string{{"name": "A"}}}).Must(t, 409).ErrorCode(); code != "name_taken" {
			t.Errorf("a taken name: %s", code)
		}
		sp := base + "/pipelines/" + sales.Pipeline.ID
		newID, contactedID, wonID := sales.Pipeline.Stages[0].ID, sales.Pipeline.Stages[1].ID, sales.Pipeline.Stages[2].ID

		// Cards: viewers cannot move them, bad targets change nothing.
		viewer.Do("PUT", sp+"/cards/"+c1, map[string]string{"stage_id": newID}).Must(t, 403)
		for _, body := range []map[string]string{{}, {"stage_id": hiring.Pipeline.Stages[0].ID}, {"stage_id": newID, "before": c2}} {
			agent.Do("PUT", sp+"/cards/"+c1, body).Must(t, 422)
		}
		agent.Do("PUT", sp+"/cards/no-such-contact", map[string]string{"stage_id": newID}).Must(t, 404)
		if got := columns(t, viewer, sp+"/board"); len(got["New"]) != 0 {
			t.Fatalf("refused moves placed cards: %v", got)
		}
		var card struct{ Card cardOut }
		agent.Do("PUT", sp+"/cards/"+c1, map[string]string{"stage_id": newID}).Must(t, 200).JSON(t, &card)
		if card.Card.StageID != newID || card.Card.MovedBy != "user:"+agent.ID {
			t.Errorf("card %+v", card.Card)
		}
		agent.Do("PUT", sp+"/cards/"+c2, map[string]string{"stage_id": newID, "before": c1}).Must(t, 200)
		if diff := cmp.Diff(map[string][]string{"New": {c2, c1}, "Contacted": {}, "Won": {}}, columns(t, viewer, sp+"/board")); diff != "" {
			t.Errorf("board (-want +got):\n%s", diff)
		}
		if got := contactStage(t, viewer, ws, c1); got != "New" {
			t.Errorf("a card on the default pipeline did not set the lead stage: %q", got)
		}
		agent.Do("PUT", sp+"/cards/"+c1, map[string]string{"stage_id": newID, "before": c2}).Must(t, 200) // a reorder
		agent.Do("PUT", sp+"/cards/"+c1, map[string]string{"stage_id": wonID}).Must(t, 200)
		if got := contactStage(t, viewer, ws, c1); got != "Won" {
			t.Errorf("lead stage after the move: %q", got)
		}
		var act struct{ Activity []activityOut }
		viewer.Do("GET", base+"/contacts/"+c1+"/activity", nil).Must(t, 200).JSON(t, &act)
		var moves []string
		for _, e := range act.Activity {
			if e.Kind == "pipeline" {
				moves = append(moves, e.Data["from_stage"]+"→"+e.Data["to_stage"])
			}
		}
		if diff := cmp.Diff([]string{"New→Won", "→New"}, moves); diff != "" {
			t.Errorf("one activity entry per change of stage, none for the reorder (-want +got):\n%s", diff)
		}

		// The other way round: PATCH /contacts moves the card.
		agent.Do("PATCH", base+"/contacts/"+c2, map[string]string{"stage": "contacted"}).Must(t, 200)
		agent.Do("PATCH", base+"/contacts/"+c1, map[string]string{"stage": "Someday"}).Must(t, 200)
		if diff := cmp.Diff(map[string][]string{"New": {}, "Contacted": {c2}, "Won": {}}, columns(t, viewer, sp+"/board")); diff != "" {
			t.Errorf("board after PATCH /contacts (-want +got):\n%s", diff)
		}

		// Paging a column.
		agent.Do("PUT", sp+"/cards/"+c1, map[string]string{"stage_id": contactedID}).Must(t, 200)
		var page boardOut
		viewer.Do("GET", sp+"/board?limit=1", nil).Must(t, 200).JSON(t, &page)
		col := page.Columns[1]
		if col.Count != 2 || len(col.Cards) != 1 || col.Cards[0].ContactID != c2 || col.Next == "" {
			t.Fatalf("first page of Contacted: %+v", col)
		}
		viewer.Do("GET", sp+"/board?limit=1&cursor="+col.Next, nil).Must(t, 200).JSON(t, &page)
		if col := page.Columns[1]; len(col.Cards) != 1 || col.Cards[0].ContactID != c1 || col.Next != "" {
			t.Errorf("second page of Contacted: %+v", col)
		}
		viewer.Do("GET", sp+"/board?cursor=nonsense", nil).Must(t, 400)
		viewer.Do("GET", sp+"/board?limit=0", nil).Must(t, 400)

		// Stages: rename relabels the default pipeline's contacts; a
		// stage with cards needs somewhere to move them.
		agent.Do("PATCH", sp+"/stages/"+contactedID, map[string]string{"name": "Called"}).Must(t, 403)
		owner.Do("PATCH", sp+"/stages/"+contactedID, map[string]string{"name": ""}).Must(t, 422)
		owner.Do("PATCH", sp+"/stages/"+contactedID, map[string]string{"name": "won"}).Must(t, 409)
		owner.Do("PATCH", sp+"/stages/"+contactedID, map[string]string{"name": "Called"}).Must(t, 200)
		if got := contactStage(t, viewer, ws, c1); got != "Called" {
			t.Errorf("renaming the stage left the lead stage %q", got)
		}
		owner.Do("PATCH", base+"/pipelines/"+hiring.Pipeline.ID+"/stages/"+contactedID, map[string]string{"name": "X"}).Must(t, 404)
		if code := owner.Do("DELETE", sp+"/stages/"+contactedID, nil).Must(t, 409).ErrorCode(); code != "stage_not_empty" {
			t.Errorf("deleting a stage with cards: %s", code)
		}
		owner.Do("DELETE", sp+"/stages/"+contactedID+"?move_to="+hiring.Pipeline.Stages[0].ID, nil).Must(t, 422)
		owner.Do("DELETE", sp+"/stages/"+contactedID+"?move_to="+newID, nil).Must(t, 204)
		if diff := cmp.Diff(map[string][]string{"New": {c2, c1}, "Won": {}}, columns(t, viewer, sp+"/board")); diff != "" {
			t.Errorf("board after deleting a stage (-want +got):\n%s", diff)
		}
		owner.Do("PUT", sp+"/stage-order", map[string]any{"ids": []string{wonID}}).Must(t, 422)
		var re struct{ Pipeline pipelineOut }
		owner.Do("PUT", sp+"/stage-order", map[string]any{"ids": []string{wonID, newID}}).Must(t, 200).JSON(t, &re)
		if re.Pipeline.Stages[0].ID != wonID {
			t.Errorf("reordered stages %+v", re.Pipeline.Stages)
		}
		var added struct{ Stage stageOut }
		owner.Do("POST", sp+"/stages", map[string]string{"name": "Lost", "outcome": "lost"}).Must(t, 201).JSON(t, &added)
		if added.Stage.Name != "Lost" || added.Stage.Position != 2 {
			t.Errorf("added %+v", added.Stage)
		}

		// The default moves; the old default becomes an ordinary board.
		owner.Do("PATCH", base+"/pipelines/"+hiring.Pipeline.ID, map[string]any{"default": false}).Must(t, 422)
		owner.Do("PATCH", base+"/pipelines/"+hiring.Pipeline.ID, map[string]any{}).Must(t, 422)
		owner.Do("PATCH", base+"/pipelines/"+hiring.Pipeline.ID, map[string]any{"name": "Sales"}).Must(t, 409)
		owner.Do("PATCH", base+"/pipelines/"+hiring.Pipeline.ID, map[string]any{"name": "Recruiting", "default": true}).Must(t, 200)
		viewer.Do("GET", base+"/pipelines", nil).Must(t, 200).JSON(t, &list)
		if len(list.Pipelines) != 2 || list.Pipelines[0].Default || !list.Pipelines[1].Default || list.Pipelines[1].Name != "Recruiting" {
			t.Errorf("after changing the default: %+v", list.Pipelines)
		}

		// Taking cards off, deleting the pipeline.
		agent.Do("DELETE", sp+"/cards/"+c1, nil).Must(t, 204)
		agent.Do("DELETE", sp+"/cards/"+c1, nil).Must(t, 404)
		viewer.Do("DELETE", sp, nil).Must(t, 403)
		owner.Do("DELETE", sp, nil).Must(t, 204)
		viewer.Do("GET", sp, nil).Must(t, 404)
		viewer.Do("GET", sp+"/board", nil).Must(t, 404)
		if res := owner.Do("DELETE", sp, nil); res.Status != http.StatusNotFound {
			t.Errorf("deleting twice: %d", res.Status)
		}
	})
}

// The pipeline, board, card and activity answers are what openapi.json
// says: every member documented, the required ones there, the types right.
func TestPipelineAnswersMatchOpenAPI(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, dbtest.SQLite(t))
	owner := a.SignUp(t, "openapi-pipes")
	ws := owner.CreateWorkspace(t, "Shapes")
	base := "/api/v1/workspaces/" + ws
	c := seedConversation(t, a, ws, "hi").contactID
	var p struct {
		Pipeline any
	}
	owner.Do("POST", base+"/pipelines", map[string]any{"name": "Sales", "stages": []map[string]string{{"name": "New", "color": "#1a7f5a"}, {"name": "Won", "outcome": "won"}}}).
		Must(t, 201).JSON(t, &p)
	conforms(t, doc, "#/components/schemas/Pipeline", p.Pipeline, "create")
	id := p.Pipeline.(map[string]any)["id"].(string)
	stages := p.Pipeline.(map[string]any)["stages"].([]any)
	var card struct{ Card any }
	owner.Do("PUT", base+"/pipelines/"+id+"/cards/"+c, map[string]string{"stage_id": stages[1].(map[string]any)["id"].(string)}).Must(t, 200).JSON(t, &card)
	conforms(t, doc, "#/components/schemas/Card", card.Card, "card")
	var note struct{ Note any }
	owner.Do("POST", base+"/contacts/"+c+"/notes", map[string]string{"text": "Hello"}).Must(t, 201).JSON(t, &note)
	conforms(t, doc, "#/components/schemas/Activity", note.Note, "note")
	var board struct {
		Pipeline any
		Columns  []any
	}
	owner.Do("GET", base+"/pipelines/"+id+"/board", nil).Must(t, 200).JSON(t, &board)
	conforms(t, doc, "#/components/schemas/Pipeline", board.Pipeline, "board pipeline")
	for _, col := range board.Columns {
		conforms(t, doc, "#/components/schemas/BoardColumn", col, "board column")
	}
	var act struct{ Activity []any }
	owner.Do("GET", base+"/contacts/"+c+"/activity", nil).Must(t, 200).JSON(t, &act)
	if len(act.Activity) != 2 {
		t.Fatalf("activity %v", act.Activity)
	}
	for _, e := range act.Activity {
		conforms(t, doc, "#/components/schemas/Activity", e, "activity")
	}
}

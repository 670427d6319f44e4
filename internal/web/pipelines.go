package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// Pages of the Pipelines section: the list (with creating one), each
// pipeline's board, and its stages' settings (promise P-25).

// boardID is the board's element ID: moves answer it whole for htmx to
// swap in.
const boardID = "board"

// suggestedStages prefill the form creating a pipeline.
const suggestedStages = "New\nContacted\nQualified\nWon\nLost"

func pipelinesPath(wsID string) string      { return "/w/" + wsID + "/pipelines" }
func pipelinePath(wsID, id string) string   { return pipelinesPath(wsID) + "/" + id }
func pipelineEdit(wsID, id string) string   { return pipelinePath(wsID, id) + "/settings" }
func stagePath(wsID, pid, id string) string { return pipelinePath(wsID, pid) + "/stages/" + id }

// pipelinesView is the list of pipelines.
type pipelinesView struct {
	Pipelines []pipelineRow
	// Suggested prefills the stages box.
	Suggested string
}

type pipelineRow struct {
	pipeline.Pipeline
	Cards int
}

func (d *Dashboard) pipelinesPage(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Pipelines")
	if err != nil {
		return nil, err
	}
	p.Nav = "pipelines"
	ps, err := d.Pipelines.Pipelines(r.Context(), p.WS.ID)
	if err != nil {
		return nil, err
	}
	v := &pipelinesView{Suggested: suggestedStages}
	for _, pl := range ps {
		v.Pipelines = append(v.Pipelines, pipelineRow{Pipeline: pl})
	}
	if f == nil {
		f = newForm(r)
	}
	if _, ok := f.Values["stages"]; !ok {
		f.Values.Set("stages", suggestedStages)
	}
	p.Form, p.Data = f, v
	return p, nil
}

func (d *Dashboard) pipelines(w http.ResponseWriter, r *http.Request) error {
	p, err := d.pipelinesPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "pipelines", p)
}

// stageLines reads the stages box: one stage per line, blank lines
// skipped.
func stageLines(s string) []pipeline.StageInput {
	var out []pipeline.StageInput
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, pipeline.StageInput{Name: l})
		}
	}
	return out
}

// createPipeline creates a pipeline and opens its board. The workspace's
// first becomes its default, and contacts already labelled with one of
// its stages are placed in the background.
func (d *Dashboard) createPipeline(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	pl, err := d.Pipelines.CreatePipeline(r.Context(), access.Actor(r), s.Workspace.ID, r.PostFormValue("name"), stageLines(r.PostFormValue("stages")))
	if err == nil {
		if pl.Default {
			d.reconcile(r, s.Workspace.ID)
		}
		return redirect(w, r, pipelinePath(s.Workspace.ID, pl.ID))
	}
	f := newForm(r, "name", "stages")
	status, ierr := f.fail(w, pipelineProblem(err), "name", "stages")
	if ierr != nil {
		return ierr
	}
	p, lerr := d.pipelinesPage(r, f)
	if lerr != nil {
		return lerr
	}
	pushURL(w, pipelinesPath(s.Workspace.ID))
	return d.render(w, status, "pipelines", p)
}

// reconcile schedules placing the workspace's labelled contacts on its
// new default pipeline; a failure is logged (they are placed at their next
// stage change).
func (d *Dashboard) reconcile(r *http.Request, ws string) {
	if d.ReconcilePipelines == nil {
		return
	}
	if err := d.ReconcilePipelines(r.Context(), ws); err != nil {
		d.Log.Error("scheduling pipeline reconcile failed", "workspace", ws, "err", err)
	}
}

// pipelineProblem says in plain words what a pipeline change refused, on
// the form field at fault.
func pipelineProblem(err error) error {
	switch {
	case errors.Is(err, pipeline.ErrStageNotEmpty):
		return &httpx.Error{Status: http.StatusConflict, Code: "stage_not_empty", Field: "move_to",
			Message: "This stage has contacts in it. Choose the stage they move to, then delete it."}
	case errors.Is(err, db.ErrConflict):
		return &httpx.Error{Status: http.StatusConflict, Code: "name_taken", Field: "name",
			Message: "That name is used already (capital letters don't make a different name)."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("pipeline")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return err
}

// boardView is a pipeline's board.
type boardView struct {
	Pipeline pipeline.Pipeline
	Columns  []columnView
	// Move is the address moves post to; CanMove says whether the reader
	// may move cards.
	Move    string
	CanMove bool
	Total   int
	Notice  string
	Error   string
	// Moved is the contact whose card was just moved ("" for none).
	Moved string
}

type columnView struct {
	Stage pipeline.Stage
	Count int
	Cards []cardView
	// More loads the column's next cards ("" at the end).
	More string
}

// cardView is a contact's card, with what its "Move to" form needs.
type cardView struct {
	ContactID, Name, Since, Profile string
	StageID                         string
	Move                            string
	CanMove                         bool
	Stages                          []pipeline.Stage
	// Moved marks the card just moved: the page brings it into view and
	// gives its "Move to" list the focus back.
	Moved bool
}

// loadBoard reads the first cards of every column; moved names the card
// just moved ("" for none).
func (d *Dashboard) loadBoard(r *http.Request, ws *workspace.Membership, readOnly bool, pipelineID, moved string) (*boardView, error) {
	b, err := d.Pipelines.Board(r.Context(), ws.ID, pipelineID, pipeline.DefaultColumn, nil)
	if err != nil {
		return nil, notFound(err, "pipeline")
	}
	v := &boardView{Pipeline: b.Pipeline, Move: pipelinePath(ws.ID, pipelineID) + "/cards",
		CanMove: ws.Role.AtLeast(workspace.RoleAgent) && !readOnly, Moved: moved}
	for _, c := range b.Columns {
		col, err := d.columnView(r, ws.ID, c, v)
		if err != nil {
			return nil, err
		}
		v.Total += c.Count
		v.Columns = append(v.Columns, col)
	}
	return v, nil
}

// columnView puts names on a column's cards.
func (d *Dashboard) columnView(r *http.Request, wsID string, c pipeline.Column, b *boardView) (columnView, error) {
	ids := make([]string, len(c.Cards))
	for i, card := range c.Cards {
		ids[i] = card.ContactID
	}
	people, err := d.Contacts.GetMany(r.Context(), wsID, ids)
	if err != nil {
		return columnView{}, err
	}
	now := d.Now()
	col := columnView{Stage: c.Stage, Count: c.Count}
	for _, card := range c.Cards {
		col.Cards = append(col.Cards, cardView{ContactID: card.ContactID, Name: orUnnamed(people[card.ContactID].DisplayName()),
			Since: inStage(card.MovedAt, now), Profile: contactPath(wsID, card.ContactID),
			StageID: c.Stage.ID, Move: b.Move, CanMove: b.CanMove, Stages: b.Pipeline.Stages, Moved: card.ContactID == b.Moved})
	}
	if c.Next != "" {
		col.More = pipelinePath(wsID, c.Stage.PipelineID) + "/columns/" + c.Stage.ID + "?after=" + c.Next
	}
	return col, nil
}

func (d *Dashboard) board(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Pipeline")
	if err != nil {
		return err
	}
	p.Nav = "pipelines"
	v, err := d.loadBoard(r, p.WS, p.ReadOnly(), r.PathValue("pipeline_id"), "")
	if err != nil {
		return err
	}
	p.Title, p.Data = v.Pipeline.Name, v
	return d.render(w, http.StatusOK, "pipeline_board", p)
}

// moreCards answers a column's "Show more": its next cards.
func (d *Dashboard) moreCards(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	c, err := d.Pipelines.Column(r.Context(), s.Workspace.ID, r.PathValue("pipeline_id"), r.PathValue("stage_id"), r.URL.Query().Get("after"), pipeline.DefaultColumn)
	if errors.Is(err, pipeline.ErrInvalid) {
		return httpx.BadRequest("invalid_cursor", "That list cannot be continued; reload the board.")
	}
	if err != nil {
		return notFound(err, "stage")
	}
	pl, err := d.Pipelines.Get(r.Context(), s.Workspace.ID, r.PathValue("pipeline_id"))
	if err != nil {
		return notFound(err, "pipeline")
	}
	b := &boardView{Pipeline: pl, Move: pipelinePath(s.Workspace.ID, pl.ID) + "/cards",
		CanMove: s.Role.AtLeast(workspace.RoleAgent) && !s.Workspace.ReadOnly(d.Now())}
	col, err := d.columnView(r, s.Workspace.ID, c, b)
	if err != nil {
		return err
	}
	return d.renderFragment(w, "pipeline_board", "column-cards", col)
}

// moveCard moves a card (drag and drop, or a card's "Move to" select)
// and answers the board, with htmx, for the page to swap in; without
// htmx it goes back to the board. A move the board no longer allows (the
// card before it left the column meanwhile, say) says so on the board.
func (d *Dashboard) moveCard(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	pid := r.PathValue("pipeline_id")
	contactID, stageID, before := r.PostFormValue("contact_id"), r.PostFormValue("stage_id"), r.PostFormValue("before")
	pl, err := d.Pipelines.Get(r.Context(), s.Workspace.ID, pid)
	if err != nil {
		return notFound(err, "pipeline")
	}
	notice, problem := "", ""
	st, ok := stageOf(pl, stageID)
	switch {
	case !ok:
		problem = "Choose one of this pipeline's stages."
	default:
		_, err = d.Pipelines.Move(r.Context(), access.Actor(r), s.Workspace.ID, pid, contactID, pipeline.Target{StageID: stageID, Before: before})
		switch {
		case err == nil:
			name := "The contact"
			if c, gerr := d.Contacts.Get(r.Context(), s.Workspace.ID, contactID); gerr == nil {
				name = orUnnamed(c.DisplayName())
			}
			notice = name + " is now in “" + st.Name + "”."
		case errors.Is(err, db.ErrNotFound), errors.Is(err, pipeline.ErrInvalid), errors.Is(err, db.ErrConflict):
			problem = "That move could not be made: the board changed meanwhile. Here it is as it is now."
		default:
			return err
		}
	}
	if r.Header.Get("HX-Request") != "true" {
		if problem != "" {
			return httpx.Invalid("stage_id", problem)
		}
		return redirect(w, r, pipelinePath(s.Workspace.ID, pid))
	}
	ws := &workspace.Membership{Workspace: *s.Workspace, Role: s.Role}
	v, err := d.loadBoard(r, ws, s.Workspace.ReadOnly(d.Now()), pid, contactID)
	if err != nil {
		return err
	}
	v.Notice, v.Error = notice, problem
	return d.renderFragment(w, "pipeline_board", "board", v)
}

func stageOf(p pipeline.Pipeline, id string) (pipeline.Stage, bool) {
	for _, s := range p.Stages {
		if s.ID == id {
			return s, true
		}
	}
	return pipeline.Stage{}, false
}

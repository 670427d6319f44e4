package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/validate"
)

// stageJSON is a column of a pipeline. color is "#rrggbb" or "" for the
// dashboard's default; outcome is "won", "lost" or "".
type stageJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Position int    `json:"position"`
	Color    string `json:"color"`
	Outcome  string `json:"outcome"`
}

// pipelineJSON is a pipeline with its stages in order. default marks the
// workspace's pipeline whose stage names are the contacts' lead stages.
type pipelineJSON struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Position  int         `json:"position"`
	Default   bool        `json:"default"`
	Stages    []stageJSON `json:"stages"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

func toStageJSON(s pipeline.Stage) stageJSON {
	return stageJSON{ID: s.ID, Name: s.Name, Position: s.Position, Color: s.Color, Outcome: string(s.Outcome)}
}

func toPipelineJSON(p pipeline.Pipeline) pipelineJSON {
	out := pipelineJSON{ID: p.ID, Name: p.Name, Position: p.Position, Default: p.Default, Stages: []stageJSON{},
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	for _, s := range p.Stages {
		out.Stages = append(out.Stages, toStageJSON(s))
	}
	return out
}

// cardJSON is a contact on a board: where, since when and by whom it
// entered its stage, and the contact's name.
type cardJSON struct {
	ContactID string    `json:"contact_id"`
	StageID   string    `json:"stage_id"`
	MovedAt   time.Time `json:"moved_at"`
	MovedBy   string    `json:"moved_by"`
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
}

// columnJSON is one stage of a board: its first cards, how many it has in
// all, and next, the cursor parameter of the column's next page ("" when
// there is none).
type columnJSON struct {
	Stage stageJSON  `json:"stage"`
	Count int        `json:"count"`
	Cards []cardJSON `json:"cards"`
	Next  string     `json:"next"`
}

type stageRequest struct {
	Name    string `json:"name"`
	Color   string `json:"color"`
	Outcome string `json:"outcome"`
}

func (s stageRequest) input() pipeline.StageInput {
	return pipeline.StageInput{Name: s.Name, Color: s.Color, Outcome: pipeline.Outcome(s.Outcome)}
}

type pipelineRequest struct {
	Name   string         `json:"name"`
	Stages []stageRequest `json:"stages"`
}

// pipelinePatch renames a pipeline and/or makes it the default ("default":
// false is refused: make another pipeline the default instead).
type pipelinePatch struct {
	Name    *string `json:"name"`
	Default *bool   `json:"default"`
}

type stagePatch struct {
	Name    *string `json:"name"`
	Color   *string `json:"color"`
	Outcome *string `json:"outcome"`
}

type orderRequest struct {
	IDs []string `json:"ids"`
}

// cardRequest places or moves a card: stage_id is required; before names
// the card (a contact ID) to go just before, "" or absent for the end.
type cardRequest struct {
	StageID string `json:"stage_id"`
	Before  string `json:"before"`
}

func (a *API) listPipelines(w http.ResponseWriter, r *http.Request) error {
	ps, err := a.Pipelines.Pipelines(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := make([]pipelineJSON, len(ps))
	for i, p := range ps {
		out[i] = toPipelineJSON(p)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"pipelines": out})
}

// createPipeline adds a pipeline with its stages. The workspace's first
// becomes its default, and contacts whose lead stage names one of its
// stages are placed on it in the background.
func (a *API) createPipeline(w http.ResponseWriter, r *http.Request) error {
	var in pipelineRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	stages := make([]pipeline.StageInput, len(in.Stages))
	for i, s := range in.Stages {
		stages[i] = s.input()
	}
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	p, err := a.Pipelines.CreatePipeline(r.Context(), access.Actor(r), ws, in.Name, stages)
	if err != nil {
		return pipelineError(err)
	}
	if p.Default {
		a.reconcile(r.Context(), ws)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"pipeline": toPipelineJSON(p)})
}

// reconcile schedules placing the workspace's labelled contacts on its
// new default pipeline. The change is made already; a failure to schedule
// is logged, and leaves those contacts to be placed at their next stage
// change.
func (a *API) reconcile(ctx context.Context, ws string) {
	if a.ReconcilePipelines == nil {
		return
	}
	if err := a.ReconcilePipelines(ctx, ws); err != nil {
		a.Log.Error("scheduling pipeline reconcile failed", "workspace", ws, "err", err)
	}
}

// pathPipeline returns the workspace's pipeline named in the path.
func (a *API) pathPipeline(r *http.Request) (pipeline.Pipeline, error) {
	p, err := a.Pipelines.Get(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("pipeline_id"))
	if errors.Is(err, db.ErrNotFound) {
		return p, httpx.NotFound("pipeline")
	}
	if err != nil {
		return p, httpx.Internal(err)
	}
	return p, nil
}

// pathStage returns the stage named in the path, which must be a stage of
// the pipeline named in the path.
func (a *API) pathStage(r *http.Request) (pipeline.Pipeline, pipeline.Stage, error) {
	p, err := a.pathPipeline(r)
	if err != nil {
		return p, pipeline.Stage{}, err
	}
	for _, s := range p.Stages {
		if s.ID == r.PathValue("stage_id") {
			return p, s, nil
		}
	}
	return p, pipeline.Stage{}, httpx.NotFound("stage")
}

func (a *API) getPipeline(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"pipeline": toPipelineJSON(p)})
}

// updatePipeline renames a pipeline and/or makes it the default.
func (a *API) updatePipeline(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	var in pipelinePatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	switch {
	case in.Name == nil && in.Default == nil:
		return httpx.Invalid("name", "Send name, default or both.")
	case in.Default != nil && !*in.Default:
		return httpx.Invalid("default", "A pipeline stops being the default when another becomes it: make another pipeline the default instead.")
	}
	// The rename first: it is the step that can refuse bad input, and
	// then nothing has changed.
	actor, ws := access.Actor(r), p.WorkspaceID
	if in.Name != nil {
		if _, err := a.Pipelines.RenamePipeline(r.Context(), actor, ws, p.ID, *in.Name); err != nil {
			return pipelineError(err)
		}
	}
	if in.Default != nil && !p.Default {
		if err := a.Pipelines.SetDefault(r.Context(), actor, ws, p.ID); err != nil {
			return pipelineError(err)
		}
		a.reconcile(r.Context(), ws)
	}
	if p, err = a.pathPipeline(r); err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"pipeline": toPipelineJSON(p)})
}

// deletePipeline deletes a pipeline with its stages and cards; contacts
// keep their lead stages.
func (a *API) deletePipeline(w http.ResponseWriter, r *http.Request) error {
	if err := a.Pipelines.DeletePipeline(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("pipeline_id")); err != nil {
		return pipelineError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// addStage appends a stage to a pipeline.
func (a *API) addStage(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	var in stageRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	s, err := a.Pipelines.AddStage(r.Context(), access.Actor(r), p.WorkspaceID, p.ID, in.input())
	if err != nil {
		return pipelineError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"stage": toStageJSON(s)})
}

// updateStage renames, recolours or changes the outcome of a stage; what
// is not sent stays. Renaming a stage of the default pipeline relabels
// its contacts' lead stage.
func (a *API) updateStage(w http.ResponseWriter, r *http.Request) error {
	_, s, err := a.pathStage(r)
	if err != nil {
		return err
	}
	var in stagePatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Name == nil && in.Color == nil && in.Outcome == nil {
		return httpx.Invalid("name", "Send name, color, outcome or several.")
	}
	next := pipeline.StageInput{Name: s.Name, Color: s.Color, Outcome: s.Outcome}
	if in.Name != nil {
		next.Name = *in.Name
	}
	if in.Color != nil {
		next.Color = *in.Color
	}
	if in.Outcome != nil {
		next.Outcome = pipeline.Outcome(*in.Outcome)
	}
	s, err = a.Pipelines.UpdateStage(r.Context(), access.Actor(r), s.WorkspaceID, s.ID, next)
	if err != nil {
		return pipelineError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"stage": toStageJSON(s)})
}

// reorderStages puts a pipeline's stages in the order of ids, which must
// name each of them once.
func (a *API) reorderStages(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	var in orderRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if err := a.Pipelines.ReorderStages(r.Context(), access.Actor(r), p.WorkspaceID, p.ID, in.IDs); err != nil {
		return pipelineError(err)
	}
	if p, err = a.pathPipeline(r); err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"pipeline": toPipelineJSON(p)})
}

// deleteStage deletes a stage; one with cards needs ?move_to=<stage_id>,
// another stage of the pipeline, where its cards go first (409
// stage_not_empty without it).
func (a *API) deleteStage(w http.ResponseWriter, r *http.Request) error {
	p, s, err := a.pathStage(r)
	if err != nil {
		return err
	}
	moveTo := r.URL.Query().Get("move_to")
	if moveTo != "" && !hasStage(p, moveTo) {
		return httpx.Invalid("move_to", "Move the cards to another stage of this pipeline.")
	}
	if err := a.Pipelines.DeleteStage(r.Context(), access.Actor(r), s.WorkspaceID, s.ID, moveTo); err != nil {
		return pipelineError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func hasStage(p pipeline.Pipeline, id string) bool {
	for _, s := range p.Stages {
		if s.ID == id {
			return true
		}
	}
	return false
}

// board answers a pipeline's columns with their first cards (?limit, 20
// by default, at most 100 per column). Each column's next is a cursor
// parameter: pass ?cursor=<next> (repeatable, one per column) to get the
// following page of those columns.
func (a *API) board(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	n := pipeline.DefaultColumn
	if l := r.URL.Query().Get("limit"); l != "" {
		if n, err = strconv.Atoi(l); err != nil || n < 1 || n > pipeline.MaxColumn {
			return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_limit", Field: "limit", Message: "limit must be a whole number from 1 to 100."}
		}
	}
	cursors := map[string]string{}
	for _, c := range r.URL.Query()["cursor"] {
		stage, rest, ok := strings.Cut(c, ":")
		if !ok || !hasStage(p, stage) || rest == "" {
			return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_cursor", Field: "cursor", Message: "Pass a column's next value as the cursor."}
		}
		cursors[stage] = rest
	}
	b, err := a.Pipelines.Board(r.Context(), p.WorkspaceID, p.ID, n, cursors)
	if errors.Is(err, pipeline.ErrInvalid) {
		return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_cursor", Field: "cursor", Message: "Pass a column's next value as the cursor."}
	}
	if err != nil {
		return pipelineError(err)
	}
	var ids []string
	for _, c := range b.Columns {
		for _, card := range c.Cards {
			ids = append(ids, card.ContactID)
		}
	}
	people, err := a.Contacts.GetMany(r.Context(), p.WorkspaceID, ids)
	if err != nil {
		return httpx.Internal(err)
	}
	cols := make([]columnJSON, len(b.Columns))
	for i, c := range b.Columns {
		col := columnJSON{Stage: toStageJSON(c.Stage), Count: c.Count, Cards: []cardJSON{}}
		if c.Next != "" {
			col.Next = c.Stage.ID + ":" + c.Next
		}
		for _, card := range c.Cards {
			pc := people[card.ContactID]
			col.Cards = append(col.Cards, cardJSON{ContactID: card.ContactID, StageID: card.StageID, MovedAt: card.MovedAt, MovedBy: card.MovedBy,
				FirstName: pc.FirstName, LastName: pc.LastName})
		}
		cols[i] = col
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"pipeline": toPipelineJSON(b.Pipeline), "columns": cols})
}

// putCard places a contact on a pipeline or moves its card: to the end of
// stage_id's column, or just before the card named by before. A change of
// stage is one entry in the contact's activity; on the default pipeline it
// also sets the contact's lead stage.
func (a *API) putCard(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	var in cardRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if !hasStage(p, in.StageID) {
		return httpx.Invalid("stage_id", "Name a stage of this pipeline.")
	}
	card, err := a.Pipelines.Move(r.Context(), access.Actor(r), p.WorkspaceID, p.ID, c.ID, pipeline.Target{StageID: in.StageID, Before: in.Before})
	if errors.Is(err, db.ErrNotFound) && in.Before != "" {
		return httpx.Invalid("before", "The card to go before is not in that column.")
	}
	if err != nil {
		return pipelineError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"card": cardJSON{ContactID: card.ContactID, StageID: card.StageID,
		MovedAt: card.MovedAt, MovedBy: card.MovedBy, FirstName: c.FirstName, LastName: c.LastName}})
}

// deleteCard takes a contact off a pipeline (404 when it is not on it).
func (a *API) deleteCard(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	err = a.Pipelines.RemoveCard(r.Context(), access.Actor(r), p.WorkspaceID, p.ID, c.ID)
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("card")
	}
	if err != nil {
		return pipelineError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pipelineError maps what pipelines refuse: a name taken (409 name_taken),
// a stage with cards and nowhere to move them (409 stage_not_empty), bad
// input (422 naming the field), anything not the workspace's (404).
func pipelineError(err error) error {
	switch {
	case errors.Is(err, pipeline.ErrStageNotEmpty):
		return &httpx.Error{Status: http.StatusConflict, Code: "stage_not_empty", Field: "move_to",
			Message: "This stage has cards. Say which stage they move to (move_to)."}
	case errors.Is(err, db.ErrConflict):
		return &httpx.Error{Status: http.StatusConflict, Code: "name_taken", Field: "name",
			Message: "That name is taken already (letter case does not count)."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("pipeline")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	if errors.Is(err, pipeline.ErrInvalid) {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: "That is not valid.", Err: err}
	}
	return httpx.Internal(err)
}

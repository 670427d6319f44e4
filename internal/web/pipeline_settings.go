package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/pipeline"
)

// A pipeline's settings page: its name, whether it is the default, and
// its stages (name, colour, order, deleting one with somewhere for its
// contacts to go). Admins only.

// pipelineSettingsView is the settings page.
type pipelineSettingsView struct {
	Pipeline pipeline.Pipeline
	Stages   []stageRow
	Colors   []tagColor
	// Editing is the stage whose form came back with an error.
	Editing string
}

type stageRow struct {
	pipeline.Stage
	Count  int
	Colors []tagColor
	// Others are the stages its contacts can move to when it is deleted.
	Others      []pipeline.Stage
	First, Last bool
}

func (d *Dashboard) pipelineSettingsPage(r *http.Request, f *form) (*page, *pipelineSettingsView, error) {
	p, err := d.newPage(r, "Pipeline settings")
	if err != nil {
		return nil, nil, err
	}
	p.Nav = "pipelines"
	b, err := d.Pipelines.Board(r.Context(), p.WS.ID, r.PathValue("pipeline_id"), 1, nil)
	if err != nil {
		return nil, nil, notFound(err, "pipeline")
	}
	v := &pipelineSettingsView{Pipeline: b.Pipeline, Colors: tagPalette}
	for i, c := range b.Columns {
		row := stageRow{Stage: c.Stage, Count: c.Count, Colors: colorsFor(c.Stage.Color), First: i == 0, Last: i == len(b.Columns)-1}
		for _, o := range b.Pipeline.Stages {
			if o.ID != c.Stage.ID {
				row.Others = append(row.Others, o)
			}
		}
		v.Stages = append(v.Stages, row)
	}
	if f == nil {
		f = newForm(r)
	}
	p.Title, p.Form, p.Data = b.Pipeline.Name+" · settings", f, v
	return p, v, nil
}

func (d *Dashboard) pipelineSettings(w http.ResponseWriter, r *http.Request) error {
	p, _, err := d.pipelineSettingsPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "pipeline_settings", p)
}

// settingsDone goes back to the settings page after a change that worked,
// or shows it again with the problem on the field at fault (editing names
// the stage whose form it was).
func (d *Dashboard) settingsDone(w http.ResponseWriter, r *http.Request, err error, editing string, fields ...string) error {
	s := access.ScopeFrom(r.Context())
	back := pipelineEdit(s.Workspace.ID, r.PathValue("pipeline_id"))
	if err == nil {
		return redirect(w, r, back)
	}
	f := newForm(r, fields...)
	status, ierr := f.fail(w, pipelineProblem(err), fields...)
	if ierr != nil {
		return ierr
	}
	p, v, lerr := d.pipelineSettingsPage(r, f)
	if lerr != nil {
		return lerr
	}
	v.Editing = editing
	pushURL(w, back)
	return d.render(w, status, "pipeline_settings", p)
}

// renamePipeline renames the pipeline.
func (d *Dashboard) renamePipeline(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	_, err := d.Pipelines.RenamePipeline(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("pipeline_id"), r.PostFormValue("name"))
	return d.settingsDone(w, r, err, "", "name")
}

// makeDefault makes the pipeline the one whose stages are the lead
// stages.
func (d *Dashboard) makeDefault(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	err := d.Pipelines.SetDefault(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("pipeline_id"))
	if err == nil {
		d.reconcile(r, s.Workspace.ID)
	}
	return d.settingsDone(w, r, err, "")
}

// deletePipeline deletes the pipeline and goes back to the list.
func (d *Dashboard) deletePipeline(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Pipelines.DeletePipeline(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("pipeline_id")); err != nil {
		return pipelineProblem(err)
	}
	return redirect(w, r, pipelinesPath(s.Workspace.ID))
}

// addStage adds a stage at the end.
func (d *Dashboard) addStage(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	_, err := d.Pipelines.AddStage(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("pipeline_id"),
		pipeline.StageInput{Name: r.PostFormValue("stage_name"), Color: r.PostFormValue("stage_color")})
	if err != nil {
		// The form's fields are named for the page, the store's for the
		// stage.
		err = renameField(pipelineProblem(err), map[string]string{"name": "stage_name", "color": "stage_color"})
	}
	return d.settingsDone(w, r, err, "", "stage_name", "stage_color")
}

// updateStage renames or recolours a stage (keeping its outcome).
func (d *Dashboard) updateStage(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	st, err := d.pathStage(r)
	if err != nil {
		return err
	}
	_, err = d.Pipelines.UpdateStage(r.Context(), access.Actor(r), s.Workspace.ID, st.ID,
		pipeline.StageInput{Name: r.PostFormValue("edit_name"), Color: r.PostFormValue("edit_color"), Outcome: st.Outcome})
	if err != nil {
		err = renameField(pipelineProblem(err), map[string]string{"name": "edit_name", "color": "edit_color"})
	}
	return d.settingsDone(w, r, err, st.ID, "edit_name", "edit_color")
}

// moveStage moves a stage one place left ("up") or right ("down").
func (d *Dashboard) moveStage(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	st, err := d.pathStage(r)
	if err != nil {
		return err
	}
	p, err := d.Pipelines.Get(r.Context(), s.Workspace.ID, st.PipelineID)
	if err != nil {
		return notFound(err, "pipeline")
	}
	ids := make([]string, len(p.Stages))
	at := 0
	for i, o := range p.Stages {
		ids[i] = o.ID
		if o.ID == st.ID {
			at = i
		}
	}
	to := at - 1
	if r.PostFormValue("direction") == "down" {
		to = at + 1
	}
	if to < 0 || to >= len(ids) {
		return redirect(w, r, pipelineEdit(s.Workspace.ID, st.PipelineID))
	}
	ids = slices.Clone(ids)
	ids[at], ids[to] = ids[to], ids[at]
	return d.settingsDone(w, r, d.Pipelines.ReorderStages(r.Context(), access.Actor(r), s.Workspace.ID, st.PipelineID, ids), "")
}

// deleteStage deletes a stage; its contacts move to the stage chosen.
func (d *Dashboard) deleteStage(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	st, err := d.pathStage(r)
	if err != nil {
		return err
	}
	err = d.Pipelines.DeleteStage(r.Context(), access.Actor(r), s.Workspace.ID, st.ID, r.PostFormValue("move_to"))
	return d.settingsDone(w, r, err, st.ID, "move_to")
}

// pathStage returns the stage named in the path, which must be a stage of
// the pipeline named in the path.
func (d *Dashboard) pathStage(r *http.Request) (pipeline.Stage, error) {
	s := access.ScopeFrom(r.Context())
	p, err := d.Pipelines.Get(r.Context(), s.Workspace.ID, r.PathValue("pipeline_id"))
	if err != nil {
		return pipeline.Stage{}, notFound(err, "pipeline")
	}
	if st, ok := stageOf(p, r.PathValue("stage_id")); ok {
		return st, nil
	}
	return pipeline.Stage{}, httpx.NotFound("stage")
}

// renameField moves a refusal onto the form field named for the store's
// field in names (a page has several forms with a "name").
func renameField(err error, names map[string]string) error {
	var e *httpx.Error
	if errors.As(err, &e) {
		if to, ok := names[e.Field]; ok {
			c := *e
			c.Field = to
			return &c
		}
	}
	return err
}

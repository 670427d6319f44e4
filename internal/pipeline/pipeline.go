package pipeline

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Limits of definitions.
const (
	// MaxName is the length of a pipeline's name, in characters. A stage's
	// name is a lead stage, so it has contact.MaxStage.
	MaxName = 80
	// MaxStages is how many stages a pipeline may have: a board wider than
	// that helps nobody.
	MaxStages = 30
	// MaxPipelines is how many pipelines a workspace may have.
	MaxPipelines = 50
	// PositionStep is the gap between neighbouring cards after a renumber
	// (and between a column's last card and one added after it).
	PositionStep = 1 << 16
)

// Audit actions on definitions (details hold IDs only).
const (
	ActionCreate       = "pipeline.create"
	ActionRename       = "pipeline.rename"
	ActionDelete       = "pipeline.delete"
	ActionDefault      = "pipeline.default"
	ActionReorder      = "pipeline.reorder"
	ActionStageAdd     = "pipeline.stage.add"
	ActionStageUpdate  = "pipeline.stage.update"
	ActionStageDelete  = "pipeline.stage.delete"
	ActionStageReorder = "pipeline.stage.reorder"
)

// Errors besides db.ErrNotFound (anything not the workspace's, or a stage
// not of the pipeline) and db.ErrConflict (a name taken).
var (
	// ErrInvalid is wrapped by every error about bad input; validate.As
	// finds the field-level message when there is one.
	ErrInvalid = errors.New("pipeline: invalid input")
	// ErrStageNotEmpty is returned when deleting a stage that has cards
	// without saying where they go. It wraps db.ErrConflict.
	ErrStageNotEmpty = fmt.Errorf("pipeline: the stage has cards: %w", db.ErrConflict)
)

// Outcome says what reaching a stage means for the deal.
type Outcome string

// Outcomes of a stage.
const (
	OutcomeNone Outcome = ""
	OutcomeWon  Outcome = "won"
	OutcomeLost Outcome = "lost"
)

// Pipeline is a board definition with its stages in order.
type Pipeline struct {
	ID, WorkspaceID, Name string
	Position              int
	// Default marks the workspace's pipeline whose stage names are the
	// contacts' lead stages.
	Default              bool
	Stages               []Stage
	CreatedAt, UpdatedAt time.Time
}

// Stage is a column of a pipeline.
type Stage struct {
	ID, WorkspaceID, PipelineID, Name string
	Position                          int
	// Color is "#rrggbb", or "" for the dashboard's default.
	Color                string
	Outcome              Outcome
	CreatedAt, UpdatedAt time.Time
}

// StageInput defines or redefines a stage.
type StageInput struct {
	Name    string
	Color   string
	Outcome Outcome
}

// Store keeps pipelines and cards.
type Store struct {
	d        *db.DB
	contacts *contact.Store
	acts     *activity.Store
	now      func() time.Time
}

// NewStore returns a Store on d. contacts keeps the lead stage coherent
// with the default pipeline; acts receives an entry per move; now is the
// clock.
func NewStore(d *db.DB, contacts *contact.Store, acts *activity.Store, now func() time.Time) *Store {
	return &Store{d: d, contacts: contacts, acts: acts, now: now}
}

// clock is the store's time, as stored.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// invalid wraps a field-level message with ErrInvalid.
func invalid(field, msg string) error {
	return fmt.Errorf("%w: %w", ErrInvalid, validate.Field(field, msg))
}

// checkPipelineName returns the name as stored or an error wrapping
// ErrInvalid.
func checkPipelineName(name string) (string, error) {
	name, err := validate.Name("name", norm.NFC.String(name), MaxName, false)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return name, nil
}

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// checkStage returns in as stored or an error wrapping ErrInvalid. A
// stage's name must be a valid lead stage, since the default pipeline's
// stage names are written to contacts.stage.
func checkStage(in StageInput) (StageInput, error) {
	name, err := contact.CheckStage(in.Name)
	if err != nil {
		if v, ok := validate.As(err); ok {
			return StageInput{}, invalid("name", v.Message)
		}
		return StageInput{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if name == "" {
		return StageInput{}, invalid("name", "Enter a name.")
	}
	color := strings.ToLower(strings.TrimSpace(in.Color))
	if color != "" && !colorPattern.MatchString(color) {
		return StageInput{}, invalid("color", "Use a colour like #1a7f5a.")
	}
	switch in.Outcome {
	case OutcomeNone, OutcomeWon, OutcomeLost:
	default:
		return StageInput{}, invalid("outcome", `Use "won", "lost" or nothing.`)
	}
	return StageInput{Name: name, Color: color, Outcome: in.Outcome}, nil
}

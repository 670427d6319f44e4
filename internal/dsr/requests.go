package dsr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Kind is what the person asked for.
type Kind string

// Request kinds (column dsr_requests.kind), GDPR articles in brackets.
const (
	KindAccess      Kind = "access"      // a summary of what is held (Art 15)
	KindExport      Kind = "export"      // a portable copy (Art 15(3), 20)
	KindCorrection  Kind = "correction"  // rectification (Art 16)
	KindErasure     Kind = "erasure"     // erasure (Art 17)
	KindRestriction Kind = "restriction" // restriction of processing (Art 18)
	KindObjection   Kind = "objection"   // objection, direct marketing (Art 21)
	KindWithdrawal  Kind = "consent_withdrawal"
)

// Kinds lists every kind, in the order forms show them (a new slice each
// call: no shared state).
func Kinds() []Kind {
	return []Kind{KindAccess, KindExport, KindCorrection, KindErasure, KindRestriction, KindObjection, KindWithdrawal}
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds() {
		if k == v {
			return true
		}
	}
	return false
}

// State is where a request is.
type State string

// Request states (column dsr_requests.state).
const (
	StateReceived     State = "received"
	StateAcknowledged State = "acknowledged"
	StateCompleted    State = "completed"
	StateRefused      State = "refused"
)

// MaxReason is the length of a refusal reason, in characters.
const MaxReason = 1000

// Audit actions (target type "dsr_request"); details hold kinds and IDs.
const (
	ActionRequestCreate      = "dsr_request.create"
	ActionRequestAcknowledge = "dsr_request.acknowledge"
	ActionRequestComplete    = "dsr_request.complete"
	ActionRequestRefuse      = "dsr_request.refuse"
	targetRequest            = "dsr_request"
)

// Request is one data-subject request.
type Request struct {
	ID          string
	WorkspaceID string
	// ContactID is "" once the contact was erased: the request's record
	// stays, naming nobody.
	ContactID string
	Kind      Kind
	State     State
	// ReceivedAt is when the person asked; AcknowledgeBy and CompleteBy
	// are the deadlines counted from it.
	ReceivedAt     time.Time
	AcknowledgeBy  time.Time
	CompleteBy     time.Time
	AcknowledgedAt time.Time // zero until acknowledged
	ClosedAt       time.Time // zero until completed or refused
	// Reason says why it was refused ("" otherwise).
	Reason    string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Open reports whether the request still awaits an answer.
func (r Request) Open() bool { return r.State == StateReceived || r.State == StateAcknowledged }

// AcknowledgeOverdue reports whether, at now, the acknowledgement is late.
func (r Request) AcknowledgeOverdue(now time.Time) bool {
	return r.State == StateReceived && now.After(r.AcknowledgeBy)
}

// Overdue reports whether, at now, the request is open past a deadline.
func (r Request) Overdue(now time.Time) bool {
	return r.Open() && (now.After(r.CompleteBy) || r.AcknowledgeOverdue(now))
}

// Deadlines returns the acknowledge-by and complete-by times of a request
// received at t.
func Deadlines(t time.Time) (acknowledgeBy, completeBy time.Time) {
	return t.Add(AcknowledgeWithin), t.Add(CompleteWithin)
}

// NewRequest is a request being logged.
type NewRequest struct {
	ContactID string
	Kind      Kind
	// ReceivedAt is when the person asked (zero: now). It cannot be in the
	// future, nor older than a year.
	ReceivedAt time.Time
}

// Create logs a request for the workspace's contact, recording
// dsr_request.create. Bad input gets ErrInvalid wrapping a *validate.Error;
// an unknown or foreign contact db.ErrNotFound.
func (s *Service) Create(ctx context.Context, a audit.Actor, workspaceID string, in NewRequest) (Request, error) {
	now := s.now()
	if !in.Kind.Valid() {
		return Request{}, invalid("kind", "Choose one of: access, export, correction, erasure, restriction, objection, consent_withdrawal.")
	}
	if in.ContactID == "" {
		return Request{}, invalid("contact_id", "Name the contact the request is about.")
	}
	rec := in.ReceivedAt.UTC().Truncate(time.Microsecond)
	if in.ReceivedAt.IsZero() {
		rec = now
	}
	// A minute of slack for clocks of the person typing the date.
	if rec.After(now.Add(time.Minute)) {
		return Request{}, invalid("received_at", "The date received cannot be in the future.")
	}
	if rec.Before(now.AddDate(-1, 0, 0)) {
		return Request{}, invalid("received_at", "The date received cannot be more than a year ago.")
	}
	ack, done := Deadlines(rec)
	r := Request{
		ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, ContactID: in.ContactID, Kind: in.Kind,
		State: StateReceived, ReceivedAt: rec, AcknowledgeBy: ack, CompleteBy: done,
		CreatedBy: contact.ByActor(a).String(), CreatedAt: now, UpdatedAt: now,
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := contact.Check(ctx, tx, workspaceID, in.ContactID); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO dsr_requests (id, workspace_id, contact_id, kind, state, received_at, acknowledge_by, complete_by,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, workspaceID, r.ContactID, string(r.Kind), string(r.State), r.ReceivedAt, r.AcknowledgeBy, r.CompleteBy,
			r.CreatedBy, now, now).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionRequestCreate, targetRequest, r.ID,
			map[string]string{"kind": string(r.Kind), "contact_id": r.ContactID})
	})
	if err != nil {
		return Request{}, fmt.Errorf("dsr: create request: %w", err)
	}
	return r, nil
}

// Filter narrows List.
type Filter struct {
	// State: "open" (received or acknowledged), "overdue" (open past a
	// deadline at the Service's now), "closed", a State, or "" for all.
	State string
	// ContactID keeps one contact's requests.
	ContactID string
	// Limit caps the list (default and maximum 500).
	Limit int
}

// MaxList is the most requests List returns.
const MaxList = 500

const requestCols = `id, workspace_id, coalesce(contact_id, '') AS contact_id, kind, state, received_at, acknowledge_by, complete_by,
	acknowledged_at, closed_at, reason, created_by, created_at, updated_at`

type requestRow struct {
	ID             string     `bun:"id"`
	WorkspaceID    string     `bun:"workspace_id"`
	ContactID      string     `bun:"contact_id"`
	Kind           string     `bun:"kind"`
	State          string     `bun:"state"`
	ReceivedAt     time.Time  `bun:"received_at"`
	AcknowledgeBy  time.Time  `bun:"acknowledge_by"`
	CompleteBy     time.Time  `bun:"complete_by"`
	AcknowledgedAt *time.Time `bun:"acknowledged_at"`
	ClosedAt       *time.Time `bun:"closed_at"`
	Reason         string     `bun:"reason"`
	CreatedBy      string     `bun:"created_by"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

func (r requestRow) request() Request {
	return Request{
		ID: r.ID, WorkspaceID: r.WorkspaceID, ContactID: r.ContactID, Kind: Kind(r.Kind), State: State(r.State),
		ReceivedAt: r.ReceivedAt.UTC(), AcknowledgeBy: r.AcknowledgeBy.UTC(), CompleteBy: r.CompleteBy.UTC(),
		AcknowledgedAt: utc(r.AcknowledgedAt), ClosedAt: utc(r.ClosedAt), Reason: r.Reason, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// List returns the workspace's requests, the most urgent first (earliest
// completion deadline). A bad Filter.State gets ErrInvalid.
func (s *Service) List(ctx context.Context, workspaceID string, f Filter) ([]Request, error) {
	q := `SELECT ` + requestCols + ` FROM dsr_requests WHERE workspace_id = ?`
	args := []any{workspaceID}
	switch f.State {
	case "":
	case "open", "overdue":
		q += ` AND state IN ('received', 'acknowledged')`
	case "closed":
		q += ` AND state IN ('completed', 'refused')`
	case string(StateReceived), string(StateAcknowledged), string(StateCompleted), string(StateRefused):
		q += ` AND state = ?`
		args = append(args, f.State)
	default:
		return nil, invalid("state", "Filter by open, overdue, closed, received, acknowledged, completed or refused.")
	}
	if f.ContactID != "" {
		q += ` AND contact_id = ?`
		args = append(args, f.ContactID)
	}
	n := f.Limit
	if n <= 0 || n > MaxList {
		n = MaxList
	}
	q += ` ORDER BY complete_by, id LIMIT ?`
	args = append(args, n)
	var rows []requestRow
	if err := s.d.R.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("dsr: list requests: %w", err)
	}
	now := s.now()
	out := make([]Request, 0, len(rows))
	for _, r := range rows {
		req := r.request()
		if f.State == "overdue" && !req.Overdue(now) {
			continue
		}
		out = append(out, req)
	}
	return out, nil
}

// Get returns the workspace's request id, or db.ErrNotFound.
func (s *Service) Get(ctx context.Context, workspaceID, id string) (Request, error) {
	r, err := getRequest(ctx, s.d.R, workspaceID, id)
	if err != nil {
		return Request{}, fmt.Errorf("dsr: get request: %w", err)
	}
	return r, nil
}

func getRequest(ctx context.Context, idb bun.IDB, workspaceID, id string) (Request, error) {
	var rows []requestRow
	if err := idb.NewRaw(`SELECT `+requestCols+` FROM dsr_requests WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &rows); err != nil {
		return Request{}, err
	}
	if len(rows) == 0 {
		return Request{}, db.ErrNotFound
	}
	return rows[0].request(), nil
}

// Acknowledge records that the person was told their request is being
// handled. Only a received request can be acknowledged (ErrConflict).
func (s *Service) Acknowledge(ctx context.Context, a audit.Actor, workspaceID, id string) (Request, error) {
	return s.transition(ctx, a, workspaceID, id, StateAcknowledged, "")
}

// Complete closes an open request as answered. Operations that answer a
// request (export, correction, erasure, flags, consent) complete it
// themselves when given its ID; Complete is for answers given outside
// Parley (an access summary sent by e-mail).
func (s *Service) Complete(ctx context.Context, a audit.Actor, workspaceID, id string) (Request, error) {
	return s.transition(ctx, a, workspaceID, id, StateCompleted, "")
}

// Refuse closes an open request as refused, with the reason (required, at
// most MaxReason characters: it is what the person is told).
func (s *Service) Refuse(ctx context.Context, a audit.Actor, workspaceID, id, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Request{}, invalid("reason", "Say why the request is refused.")
	}
	if utf8.RuneCountInString(reason) > MaxReason || !utf8.ValidString(reason) {
		return Request{}, invalid("reason", fmt.Sprintf("The reason must be valid text of at most %d characters.", MaxReason))
	}
	return s.transition(ctx, a, workspaceID, id, StateRefused, reason)
}

func (s *Service) transition(ctx context.Context, a audit.Actor, workspaceID, id string, to State, reason string) (Request, error) {
	var out Request
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.move(ctx, tx, a, workspaceID, id, to, reason)
		return err
	})
	if err != nil {
		return Request{}, fmt.Errorf("dsr: %s request: %w", to, err)
	}
	return out, nil
}

// move applies one state change inside tx, audit-logged.
func (s *Service) move(ctx context.Context, tx bun.Tx, a audit.Actor, workspaceID, id string, to State, reason string) (Request, error) {
	r, err := getRequest(ctx, tx, workspaceID, id)
	if err != nil {
		return Request{}, err
	}
	if !r.Open() || (to == StateAcknowledged && r.State != StateReceived) {
		return Request{}, fmt.Errorf("%w: the request is %s", ErrConflict, r.State)
	}
	now := s.now()
	action := ActionRequestAcknowledge
	switch to {
	case StateAcknowledged:
		r.AcknowledgedAt = now
	case StateCompleted, StateRefused:
		action = ActionRequestComplete
		if to == StateRefused {
			action = ActionRequestRefuse
		}
		// Answering is acknowledging too.
		if r.AcknowledgedAt.IsZero() {
			r.AcknowledgedAt = now
		}
		r.ClosedAt = now
		r.Reason = reason
	}
	r.State, r.UpdatedAt = to, now
	// The state in WHERE makes two concurrent answers conflict instead of
	// both winning.
	res, err := tx.NewRaw(`UPDATE dsr_requests SET state = ?, acknowledged_at = ?, closed_at = ?, reason = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ? AND state IN ('received', 'acknowledged')`,
		string(r.State), nullTime(r.AcknowledgedAt), nullTime(r.ClosedAt), r.Reason, now, workspaceID, id).Exec(ctx)
	if err != nil {
		return Request{}, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Request{}, ErrConflict
	}
	if err := audit.Record(ctx, tx, now, workspaceID, a, action, targetRequest, r.ID, map[string]string{"kind": string(r.Kind)}); err != nil {
		return Request{}, err
	}
	return r, nil
}

// answer completes the open request id (when id is not "") as the
// outcome of an operation of kind on contactID, inside tx. A request of
// another kind or contact is ErrInvalid naming "request_id".
func (s *Service) answer(ctx context.Context, tx bun.Tx, a audit.Actor, workspaceID, id string, kinds []Kind, contactID string) error {
	if id == "" {
		return nil
	}
	r, err := getRequest(ctx, tx, workspaceID, id)
	if errors.Is(err, db.ErrNotFound) {
		return invalid("request_id", "No such request in this workspace.")
	}
	if err != nil {
		return err
	}
	ok := false
	for _, k := range kinds {
		ok = ok || r.Kind == k
	}
	if !ok || r.ContactID != contactID {
		return invalid("request_id", "The request is of another kind or about another contact.")
	}
	_, err = s.move(ctx, tx, a, workspaceID, id, StateCompleted, "")
	return err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// invalid is ErrInvalid naming field, with the message for the person.
func invalid(field, msg string) error {
	return invalidError{validate.Field(field, msg)}
}

type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{ErrInvalid, e.err} }

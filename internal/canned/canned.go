package canned

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Limits of a canned response.
const (
	MaxTitleRunes = 100
	MaxBodyRunes  = 2000
	// DefaultList and MaxList bound List's n.
	DefaultList = 20
	MaxList     = 100
)

// ErrInvalid reports input that was refused; a *validate.Error wrapped in
// it names the field.
var ErrInvalid = errors.New("canned: invalid input")

// shortcutRE is what a shortcut may be, after the leading "/" is dropped
// and letters are lower-cased.
var shortcutRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Response is one canned response.
type Response struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Shortcut    string    `json:"shortcut"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	CreatedBy   string    `json:"created_by"` // user:<id> or api_key:<id>
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Input is what a person writes to create or update a response.
type Input struct {
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Body     string `json:"body"`
}

// Store keeps canned responses.
type Store struct {
	d   *db.DB
	now func() time.Time
}

// NewStore returns a Store on d; now is the clock.
func NewStore(d *db.DB, now func() time.Time) *Store {
	return &Store{d: d, now: now}
}

// NormalizeShortcut is s as stored: trimmed, without a leading "/",
// lower-cased. It does not check it.
func NormalizeShortcut(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "/"))
}

// clean checks and normalizes in: every problem is a *validate.Error
// wrapped in ErrInvalid, the first one found.
func clean(in Input) (Input, error) {
	out := Input{Shortcut: NormalizeShortcut(in.Shortcut)}
	if !shortcutRE.MatchString(out.Shortcut) {
		return Input{}, invalid("shortcut", "Use 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit.")
	}
	title, err := validate.Name("title", in.Title, MaxTitleRunes, false)
	if err != nil {
		return Input{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	out.Title = title
	body := strings.TrimSpace(in.Body)
	switch {
	case !utf8.ValidString(body):
		return Input{}, invalid("body", "The text is not valid.")
	case body == "":
		return Input{}, invalid("body", "Write the reply.")
	case utf8.RuneCountInString(body) > MaxBodyRunes:
		return Input{}, invalid("body", fmt.Sprintf("Use at most %d characters.", MaxBodyRunes))
	case strings.IndexFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }) >= 0:
		return Input{}, invalid("body", "The text contains control characters.")
	}
	out.Body = body
	return out, nil
}

func invalid(field, msg string) error {
	return fmt.Errorf("%w: %w", ErrInvalid, validate.Field(field, msg))
}

// author is how a is kept in created_by.
func author(a audit.Actor) string {
	switch {
	case a.UserID != "":
		return "user:" + a.UserID
	case a.APIKeyID != "":
		return "api_key:" + a.APIKeyID
	}
	return "system"
}

// titleKey is the title as prefix search compares it: lower-cased in Go,
// so both engines agree whatever their collation.
func titleKey(title string) string { return strings.ToLower(title) }

// Create adds a canned response to the workspace. Errors: ErrInvalid
// wrapping a *validate.Error; db.ErrConflict when the workspace already
// has the shortcut.
func (s *Store) Create(ctx context.Context, a audit.Actor, workspaceID string, in Input) (Response, error) {
	in, err := clean(in)
	if err != nil {
		return Response{}, fmt.Errorf("canned: create: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	r := Response{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, Shortcut: in.Shortcut, Title: in.Title,
		Body: in.Body, CreatedBy: author(a), CreatedAt: now, UpdatedAt: now}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw(`INSERT INTO canned_responses (id, workspace_id, shortcut, title, title_key, body, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.WorkspaceID, r.Shortcut, r.Title, titleKey(r.Title), r.Body, r.CreatedBy, now, now).Exec(ctx)
		if db.IsUniqueViolation(err) {
			return db.ErrConflict
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, "canned.create", "canned_response", r.ID, map[string]string{"shortcut": r.Shortcut})
	})
	if err != nil {
		return Response{}, fmt.Errorf("canned: create: %w", err)
	}
	return r, nil
}

// Update replaces the shortcut, title and body of the workspace's
// response id. Errors: those of Create, and db.ErrNotFound when the
// workspace has no such response.
func (s *Store) Update(ctx context.Context, a audit.Actor, workspaceID, id string, in Input) (Response, error) {
	in, err := clean(in)
	if err != nil {
		return Response{}, fmt.Errorf("canned: update: %w", err)
	}
	var r Response
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old, err := get(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		_, err = tx.NewRaw(`UPDATE canned_responses SET shortcut = ?, title = ?, title_key = ?, body = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`,
			in.Shortcut, in.Title, titleKey(in.Title), in.Body, now, workspaceID, id).Exec(ctx)
		if db.IsUniqueViolation(err) {
			return db.ErrConflict
		}
		if err != nil {
			return err
		}
		r = old
		r.Shortcut, r.Title, r.Body, r.UpdatedAt = in.Shortcut, in.Title, in.Body, now
		details := map[string]string{"shortcut": r.Shortcut}
		if old.Shortcut != r.Shortcut {
			details["old_shortcut"] = old.Shortcut
		}
		return audit.Record(ctx, tx, now, workspaceID, a, "canned.update", "canned_response", id, details)
	})
	if err != nil {
		return Response{}, fmt.Errorf("canned: update: %w", err)
	}
	return r, nil
}

// Delete removes the workspace's response id, or says db.ErrNotFound.
func (s *Store) Delete(ctx context.Context, a audit.Actor, workspaceID, id string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old, err := get(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		if err := db.OneRow(tx.NewRaw(`DELETE FROM canned_responses WHERE workspace_id = ? AND id = ?`, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.now(), workspaceID, a, "canned.delete", "canned_response", id, map[string]string{"shortcut": old.Shortcut})
	})
	if err != nil {
		return fmt.Errorf("canned: delete: %w", err)
	}
	return nil
}

const cols = `id, workspace_id, shortcut, title, body, created_by, created_at, updated_at`

// row is a canned_responses row.
type row struct {
	ID          string    `bun:"id"`
	WorkspaceID string    `bun:"workspace_id"`
	Shortcut    string    `bun:"shortcut"`
	Title       string    `bun:"title"`
	Body        string    `bun:"body"`
	CreatedBy   string    `bun:"created_by"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func (r row) response() Response {
	return Response{ID: r.ID, WorkspaceID: r.WorkspaceID, Shortcut: r.Shortcut, Title: r.Title, Body: r.Body,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func get(ctx context.Context, idb bun.IDB, workspaceID, id string) (Response, error) {
	var r row
	if err := idb.NewRaw(`SELECT `+cols+` FROM canned_responses WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r); err != nil {
		return Response{}, db.NoRows(err)
	}
	return r.response(), nil
}

// Get returns the workspace's response id, or db.ErrNotFound.
func (s *Store) Get(ctx context.Context, workspaceID, id string) (Response, error) {
	r, err := get(ctx, s.d.R, workspaceID, id)
	if err != nil {
		return Response{}, fmt.Errorf("canned: get: %w", err)
	}
	return r, nil
}

// ByShortcut returns the workspace's response with the shortcut (a
// leading "/" and letter case do not matter), or db.ErrNotFound.
func (s *Store) ByShortcut(ctx context.Context, workspaceID, shortcut string) (Response, error) {
	var r row
	if err := s.d.R.NewRaw(`SELECT `+cols+` FROM canned_responses WHERE workspace_id = ? AND shortcut = ?`,
		workspaceID, NormalizeShortcut(shortcut)).Scan(ctx, &r); err != nil {
		return Response{}, fmt.Errorf("canned: by shortcut: %w", db.NoRows(err))
	}
	return r.response(), nil
}

// List returns the workspace's responses in shortcut order, at most n
// (DefaultList when n ≤ 0, MaxList at most). A non-empty prefix (what the
// agent typed after "/") keeps those whose shortcut or title starts with
// it, ignoring letter case.
func (s *Store) List(ctx context.Context, workspaceID, prefix string, n int) ([]Response, error) {
	if n <= 0 {
		n = DefaultList
	}
	n = min(n, MaxList)
	q := `SELECT ` + cols + ` FROM canned_responses WHERE workspace_id = ?`
	args := []any{workspaceID}
	if p := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(prefix), "/")); p != "" {
		like := escapeLike(p) + "%"
		q += ` AND (shortcut LIKE ? ESCAPE '\' OR title_key LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	var rows []row
	if err := s.d.R.NewRaw(q+` ORDER BY shortcut LIMIT ?`, append(args, n)...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("canned: list: %w", err)
	}
	out := make([]Response, len(rows))
	for i, r := range rows {
		out[i] = r.response()
	}
	return out, nil
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

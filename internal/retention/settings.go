package retention

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
)

// Setting is one class's period in a workspace.
type Setting struct {
	Limit
	// Days is the period in force (Lifetime: keep everything).
	Days int
	// Chosen says the workspace chose it (false: the default applies).
	Chosen bool
}

// Settings are a workspace's periods, in Limits order, and its holds.
type Settings struct {
	Classes []Setting
	// Hold is the workspace-wide legal hold, nil when there is none.
	Hold *Hold
	// ContactHolds counts the contacts under a legal hold.
	ContactHolds int
}

// Days returns the period in force for class.
func (s Settings) Days(class Class) int {
	for _, c := range s.Classes {
		if c.Class == class {
			return c.Days
		}
	}
	l, _ := LimitOf(class)
	return l.Default
}

// Hold is a legal hold: nothing of the workspace (ContactID "") or of the
// contact is deleted by retention while it exists.
type Hold struct {
	ID          string    `bun:"id"`
	WorkspaceID string    `bun:"workspace_id"`
	ContactID   string    `bun:"contact_id,nullzero"`
	Reason      string    `bun:"reason"`
	CreatedBy   string    `bun:"created_by"`
	CreatedAt   time.Time `bun:"created_at"`
}

// MaxReasonRunes bounds a hold's reason.
const MaxReasonRunes = 200

// Settings returns the workspace's periods and holds.
func (s *Service) Settings(ctx context.Context, workspaceID string) (Settings, error) {
	return s.settings(ctx, s.d.R, workspaceID)
}

func (s *Service) settings(ctx context.Context, idb bun.IDB, workspaceID string) (Settings, error) {
	var rows []struct {
		Class string `bun:"class"`
		Days  int    `bun:"days"`
	}
	if err := idb.NewRaw(`SELECT class, days FROM retention_settings WHERE workspace_id = ?`, workspaceID).Scan(ctx, &rows); err != nil {
		return Settings{}, fmt.Errorf("retention: settings: %w", err)
	}
	chosen := map[Class]int{}
	for _, r := range rows {
		chosen[Class(r.Class)] = r.Days
	}
	var out Settings
	for _, l := range Limits() {
		st := Setting{Limit: l, Days: l.Default}
		if d, ok := chosen[l.Class]; ok && l.Check(d) == nil {
			// A stored value outside today's limits (the limits were
			// tightened) falls back to the default rather than keeping
			// data longer than allowed.
			st.Days, st.Chosen = d, true
		}
		out.Classes = append(out.Classes, st)
	}
	var holds []Hold
	if err := idb.NewRaw(`SELECT id, workspace_id, contact_id, reason, created_by, created_at FROM retention_holds
		WHERE workspace_id = ? AND contact_id IS NULL`, workspaceID).Scan(ctx, &holds); err != nil {
		return Settings{}, fmt.Errorf("retention: workspace hold: %w", err)
	}
	if len(holds) > 0 {
		out.Hold = &holds[0]
	}
	if err := idb.NewRaw(`SELECT count(*) FROM retention_holds WHERE workspace_id = ? AND contact_id IS NOT NULL`, workspaceID).
		Scan(ctx, &out.ContactHolds); err != nil {
		return Settings{}, fmt.Errorf("retention: contact holds: %w", err)
	}
	return out, nil
}

// Set changes the periods of the named classes (the others keep theirs).
// Every value is checked first: one out of range (an *InvalidError naming
// the class and its range) changes nothing. The change is audit-logged.
func (s *Service) Set(ctx context.Context, a audit.Actor, workspaceID string, days map[Class]int) (Settings, error) {
	classes := make([]string, 0, len(days))
	for c := range days {
		classes = append(classes, string(c))
	}
	sort.Strings(classes)
	for _, c := range classes {
		l, ok := LimitOf(Class(c))
		if !ok {
			return Settings{}, &InvalidError{Field: c, Message: fmt.Sprintf("%s is not a data class.", c)}
		}
		if err := l.Check(days[Class(c)]); err != nil {
			return Settings{}, err
		}
	}
	var out Settings
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		changes := map[string]int{}
		for _, c := range classes {
			d := days[Class(c)]
			if _, err := tx.NewRaw(`INSERT INTO retention_settings (workspace_id, class, days, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (workspace_id, class) DO UPDATE SET days = excluded.days, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
				workspaceID, c, d, actorRef(a), now).Exec(ctx); err != nil {
				return fmt.Errorf("retention: set %s: %w", c, err)
			}
			changes[c] = d
		}
		if len(changes) > 0 {
			if err := audit.Record(ctx, tx, now, workspaceID, a, "retention.update", "workspace", workspaceID, map[string]any{"days": changes}); err != nil {
				return err
			}
		}
		var err error
		out, err = s.settings(ctx, tx, workspaceID)
		return err
	})
	if err != nil {
		return Settings{}, err
	}
	return out, nil
}

// PlaceHold puts the workspace (contactID "") or one of its contacts under
// a legal hold, or changes the reason of the existing hold. A contact of
// another workspace is db.ErrNotFound; an empty or too long reason an
// *InvalidError.
func (s *Service) PlaceHold(ctx context.Context, a audit.Actor, workspaceID, contactID, reason string) (Hold, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxReasonRunes {
		return Hold{}, &InvalidError{Field: "reason", Message: fmt.Sprintf("Give the hold a reason (a case or ticket number) of at most %d characters.", MaxReasonRunes)}
	}
	var out Hold
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if contactID != "" {
			var n int
			if err := tx.NewRaw(`SELECT count(*) FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, contactID).Scan(ctx, &n); err != nil {
				return fmt.Errorf("retention: hold: %w", err)
			}
			if n == 0 {
				return db.ErrNotFound
			}
		}
		old, err := holdOf(ctx, tx, workspaceID, contactID)
		switch {
		case errors.Is(err, db.ErrNotFound):
			out = Hold{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, ContactID: contactID, Reason: reason, CreatedBy: actorRef(a), CreatedAt: s.now()}
			if _, err := tx.NewRaw(`INSERT INTO retention_holds (id, workspace_id, contact_id, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				out.ID, workspaceID, nullable(contactID), reason, out.CreatedBy, out.CreatedAt).Exec(ctx); err != nil {
				return fmt.Errorf("retention: hold: %w", err)
			}
		case err != nil:
			return err
		default:
			out = old
			out.Reason = reason
			if _, err := tx.NewRaw(`UPDATE retention_holds SET reason = ? WHERE id = ?`, reason, old.ID).Exec(ctx); err != nil {
				return fmt.Errorf("retention: hold: %w", err)
			}
		}
		// The reason stays out of the audit log: it may name people.
		return audit.Record(ctx, tx, s.now(), workspaceID, a, "retention.hold", holdTarget(contactID), holdTargetID(workspaceID, contactID), nil)
	})
	if err != nil {
		return Hold{}, err
	}
	return out, nil
}

// ReleaseHold ends the workspace's (contactID "") or a contact's hold;
// db.ErrNotFound when there is none.
func (s *Service) ReleaseHold(ctx context.Context, a audit.Actor, workspaceID, contactID string) error {
	return s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		h, err := holdOf(ctx, tx, workspaceID, contactID)
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`DELETE FROM retention_holds WHERE id = ?`, h.ID).Exec(ctx); err != nil {
			return fmt.Errorf("retention: release hold: %w", err)
		}
		return audit.Record(ctx, tx, s.now(), workspaceID, a, "retention.release", holdTarget(contactID), holdTargetID(workspaceID, contactID), nil)
	})
}

// Holds lists the workspace's holds, the workspace's first, then the
// contacts' oldest first.
func (s *Service) Holds(ctx context.Context, workspaceID string) ([]Hold, error) {
	var out []Hold
	if err := s.d.R.NewRaw(`SELECT id, workspace_id, contact_id, reason, created_by, created_at FROM retention_holds
		WHERE workspace_id = ? ORDER BY CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END, id`, workspaceID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("retention: holds: %w", err)
	}
	return out, nil
}

func holdOf(ctx context.Context, idb bun.IDB, workspaceID, contactID string) (Hold, error) {
	var out []Hold
	q := `SELECT id, workspace_id, contact_id, reason, created_by, created_at FROM retention_holds WHERE workspace_id = ? AND contact_id IS NULL`
	args := []any{workspaceID}
	if contactID != "" {
		q = `SELECT id, workspace_id, contact_id, reason, created_by, created_at FROM retention_holds WHERE workspace_id = ? AND contact_id = ?`
		args = append(args, contactID)
	}
	if err := idb.NewRaw(q, args...).Scan(ctx, &out); err != nil {
		return Hold{}, fmt.Errorf("retention: hold: %w", err)
	}
	if len(out) == 0 {
		return Hold{}, db.ErrNotFound
	}
	return out[0], nil
}

func holdTarget(contactID string) string {
	if contactID == "" {
		return "workspace"
	}
	return "contact"
}

func holdTargetID(workspaceID, contactID string) string {
	if contactID == "" {
		return workspaceID
	}
	return contactID
}

// actorRef names who changed something: user:<id> or api_key:<id>.
func actorRef(a audit.Actor) string {
	switch {
	case a.UserID != "":
		return "user:" + a.UserID
	case a.APIKeyID != "":
		return "api_key:" + a.APIKeyID
	}
	return ""
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

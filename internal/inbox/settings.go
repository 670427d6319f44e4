package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
)

// Settings are a workspace's inbox settings (table inbox_settings); a
// workspace that never saved any has the zero value: everything off.
type Settings struct {
	// ReturnToBotAfter hands a human-owned conversation back to the bot
	// once nobody on the team has written for that long (0: never).
	ReturnToBotAfter time.Duration
}

// Automatic assignment is not an inbox setting: it is set per team and for
// the workspace with the teams (Teams.AutoAssign).

// MaxReturnToBotAfter bounds Settings.ReturnToBotAfter.
const MaxReturnToBotAfter = 30 * 24 * time.Hour

// ActionSettings is the audit action of SetSettings.
const ActionSettings = "inbox.settings"

// Settings returns the workspace's inbox settings.
func (s *Service) Settings(ctx context.Context, workspaceID string) (Settings, error) {
	set, err := settingsOf(ctx, s.d.R, workspaceID)
	if err != nil {
		return Settings{}, fmt.Errorf("inbox: settings: %w", err)
	}
	return set, nil
}

// SetSettings saves the workspace's inbox settings, audited. A negative or
// sub-second ReturnToBotAfter, or one above MaxReturnToBotAfter, is
// ErrInvalid. A conversation already human-owned keeps the timer it had: a
// new setting applies from the next message a person sends.
func (s *Service) SetSettings(ctx context.Context, a audit.Actor, workspaceID string, set Settings) error {
	if set.ReturnToBotAfter < 0 || set.ReturnToBotAfter > MaxReturnToBotAfter || set.ReturnToBotAfter%time.Second != 0 {
		return fmt.Errorf("inbox: set settings: %w: return_to_bot_after must be whole seconds between 0 and 30 days", ErrInvalid)
	}
	secs := int64(set.ReturnToBotAfter / time.Second)
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		if _, err := tx.NewRaw(`INSERT INTO inbox_settings (workspace_id, return_to_bot_after_seconds, updated_at)
			VALUES (?, ?, ?) ON CONFLICT (workspace_id) DO UPDATE SET
			return_to_bot_after_seconds = excluded.return_to_bot_after_seconds, updated_at = excluded.updated_at`, workspaceID, secs, now).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionSettings, "workspace", workspaceID, map[string]string{
			"return_to_bot_after_seconds": fmt.Sprint(secs)})
	})
	if err != nil {
		return fmt.Errorf("inbox: set settings: %w", err)
	}
	return nil
}

// settingsOf reads the workspace's settings through idb (the defaults when
// it has no row).
func settingsOf(ctx context.Context, idb bun.IDB, workspaceID string) (Settings, error) {
	var r struct {
		Secs int64 `bun:"return_to_bot_after_seconds"`
	}
	err := idb.NewRaw(`SELECT return_to_bot_after_seconds FROM inbox_settings WHERE workspace_id = ?`, workspaceID).Scan(ctx, &r)
	if err != nil {
		if err = db.NoRows(err); errors.Is(err, db.ErrNotFound) {
			return Settings{}, nil
		}
		return Settings{}, err
	}
	return Settings{ReturnToBotAfter: time.Duration(r.Secs) * time.Second}, nil
}

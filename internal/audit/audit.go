package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Actor is who did something: a signed-in user or an API key, from an
// address, in a request.
type Actor struct {
	UserID         string
	APIKeyID       string
	ImpersonatorID string
	IP             string
	RequestID      string
}

// Entry is one audit record.
type Entry struct {
	bun.BaseModel `bun:"table:audit_log" json:"-"`

	ID             string          `bun:"id" json:"id"`
	WorkspaceID    *string         `bun:"workspace_id" json:"workspace_id,omitempty"`
	ActorUserID    *string         `bun:"actor_user_id" json:"actor_user_id,omitempty"`
	ActorAPIKeyID  *string         `bun:"actor_api_key_id" json:"actor_api_key_id,omitempty"`
	ImpersonatorID *string         `bun:"impersonator_id" json:"impersonator_id,omitempty"`
	Action         string          `bun:"action" json:"action"`
	TargetType     string          `bun:"target_type" json:"target_type,omitempty"`
	TargetID       string          `bun:"target_id" json:"target_id,omitempty"`
	IP             string          `bun:"ip" json:"ip,omitempty"`
	RequestID      string          `bun:"request_id" json:"request_id,omitempty"`
	Details        json.RawMessage `bun:"details,type:text" json:"details,omitempty"`
	CreatedAt      time.Time       `bun:"created_at" json:"created_at"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Record appends an entry through idb (pass the transaction that made the
// change, so the entry exists exactly when the change does). details is
// marshalled to JSON and must not hold secrets or personal data.
func Record(ctx context.Context, idb bun.IDB, now time.Time, workspaceID string, a Actor, action, targetType, targetID string, details any) error {
	d := []byte("{}")
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("audit: details: %w", err)
		}
		d = b
	}
	e := &Entry{
		ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: nullable(workspaceID),
		ActorUserID: nullable(a.UserID), ActorAPIKeyID: nullable(a.APIKeyID), ImpersonatorID: nullable(a.ImpersonatorID),
		Action: action, TargetType: targetType, TargetID: targetID, IP: a.IP, RequestID: a.RequestID,
		Details: d, CreatedAt: now.UTC(),
	}
	if _, err := idb.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("audit: record %s: %w", action, err)
	}
	return nil
}

// Filter selects entries; WorkspaceID or UserID must be set.
type Filter struct {
	WorkspaceID string
	UserID      string
	// Before is an entry ID to page backwards from (exclusive).
	Before string
	Limit  int
}

// List returns entries newest first.
func List(ctx context.Context, d *db.DB, f Filter) ([]Entry, error) {
	if f.WorkspaceID == "" && f.UserID == "" {
		return nil, fmt.Errorf("audit: list needs a workspace or a user")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var out []Entry
	q := d.R.NewSelect().Model(&out).OrderExpr("id DESC").Limit(int64(f.Limit))
	if f.WorkspaceID != "" {
		q = q.Where("workspace_id = ?", f.WorkspaceID)
	}
	if f.UserID != "" {
		q = q.Where("actor_user_id = ?", f.UserID)
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return out, nil
}

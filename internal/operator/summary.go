package operator

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Health of a workspace, as the console shows it.
const (
	HealthOK        = "ok"        // every connected channel works
	HealthAttention = "attention" // a channel needs reconnecting or reported an error lately
	HealthIdle      = "idle"      // no channel connected
)

// attentionWindow is how recent a channel's last error must be to count.
const attentionWindow = 24 * time.Hour

// Summary is one workspace's health and usage, with nothing personal:
// counts and dates only.
type Summary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Plan      string    `json:"plan"`
	CreatedAt time.Time `json:"created_at"`
	Members   int       `json:"members"`
	// Channels connected, and how many of them need attention.
	Channels          int `json:"channels"`
	ChannelsAttention int `json:"channels_attention"`
	Contacts          int `json:"contacts"`
	// Messages7d counts messages both ways in the last 7 days.
	Messages7d int `json:"messages_7d"`
	// LastActivity is the latest conversation activity (nil: none yet).
	LastActivity *time.Time `json:"last_activity,omitempty"`
	Health       string     `json:"health"`
}

// Workspaces summarises every workspace, newest first. Each figure is one
// grouped query over an index, so the page costs the same few queries
// however many workspaces there are.
func (s *Service) Workspaces(ctx context.Context) ([]Summary, error) {
	now := s.now()
	var out []Summary
	if err := s.d.R.NewRaw(`SELECT id, name, plan, created_at FROM workspaces ORDER BY created_at DESC, id DESC`).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("operator: workspaces: %w", err)
	}
	idx := make(map[string]*Summary, len(out))
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
		idx[out[i].ID] = &out[i]
	}
	counts := []struct {
		query string
		args  []any
		set   func(*Summary, int)
	}{
		{`SELECT workspace_id, count(*) AS n FROM members GROUP BY workspace_id`, nil, func(w *Summary, n int) { w.Members = n }},
		{`SELECT workspace_id, count(*) AS n FROM channels WHERE status = 'active' GROUP BY workspace_id`, nil, func(w *Summary, n int) { w.Channels = n }},
		{`SELECT workspace_id, count(*) AS n FROM channels WHERE status = 'active' AND (token_state <> 'ok' OR last_error_at > ?) GROUP BY workspace_id`,
			[]any{now.Add(-attentionWindow)}, func(w *Summary, n int) { w.ChannelsAttention = n }},
		{`SELECT workspace_id, count(*) AS n FROM contacts GROUP BY workspace_id`, nil, func(w *Summary, n int) { w.Contacts = n }},
		{`SELECT workspace_id, count(*) AS n FROM messages WHERE created_at >= ? GROUP BY workspace_id`,
			[]any{now.Add(-7 * 24 * time.Hour)}, func(w *Summary, n int) { w.Messages7d = n }},
	}
	for _, c := range counts {
		var rows []struct {
			WorkspaceID string `bun:"workspace_id"`
			N           int    `bun:"n"`
		}
		if err := s.d.R.NewRaw(c.query, c.args...).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("operator: workspaces: %w", err)
		}
		for _, r := range rows {
			if w := idx[r.WorkspaceID]; w != nil {
				c.set(w, r.N)
			}
		}
	}
	if err := s.lastActivity(ctx, s.d.R, idx); err != nil {
		return nil, err
	}
	for i := range out {
		w := &out[i]
		switch {
		case w.Channels == 0:
			w.Health = HealthIdle
		case w.ChannelsAttention > 0:
			w.Health = HealthAttention
		default:
			w.Health = HealthOK
		}
	}
	return out, nil
}

func (s *Service) lastActivity(ctx context.Context, idb bun.IDB, idx map[string]*Summary) error {
	var rows []struct {
		WorkspaceID string    `bun:"workspace_id"`
		At          time.Time `bun:"at"`
	}
	if err := idb.NewRaw(`SELECT workspace_id, max(last_activity_at) AS at FROM conversations GROUP BY workspace_id`).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("operator: workspaces: last activity: %w", err)
	}
	for _, r := range rows {
		if w := idx[r.WorkspaceID]; w != nil {
			at := r.At.UTC()
			w.LastActivity = &at
		}
	}
	return nil
}

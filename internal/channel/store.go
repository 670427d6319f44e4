package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// Audit actions recorded by Store.
const (
	ActionConnect    = "channel.connect"
	ActionDisconnect = "channel.disconnect"
	ActionSettings   = "channel.settings"
	targetChannel    = "channel"
)

var (
	// ErrTakenElsewhere: the account is connected to another workspace. Its
	// events can only go to one place.
	ErrTakenElsewhere = errors.New("channel: the account is connected to another workspace")
	// ErrNoToken: the channel is disconnected or needs reconnecting.
	ErrNoToken = errors.New("channel: no usable token")
)

// Store keeps the connected channels and their sealed tokens.
type Store struct {
	d   *db.DB
	kr  *keyring.Keyring
	now func() time.Time
	st  *db.Statements
	// routes remembers Route's answers (route.go); every change below
	// forgets them.
	routes routes
}

// NewStore returns a Store on d that seals tokens with kr.
func NewStore(d *db.DB, kr *keyring.Keyring, now func() time.Time) *Store {
	return &Store{d: d, kr: kr, now: now, st: db.NewStatements(d, "channel")}
}

// The statements of webhook processing, run for every delivery: prepared
// (db.Statements) so the engine does not parse them each time.
const sqlByAccount = `SELECT ` + channelCols + ` FROM channels WHERE type = ? AND external_id = ? AND status = 'active'`

func sqlTouch(n int) string {
	return `UPDATE channels SET last_event_at = ? WHERE id IN (` + db.Placeholders(n) + `) AND (last_event_at IS NULL OR last_event_at < ?)`
}

// Prepare prepares the statements webhook processing runs for every
// delivery. Call it once at start, outside any transaction; until then
// they run through bun, only slower.
func (s *Store) Prepare(ctx context.Context) error {
	writes := []string{sqlByAccount}
	for _, n := range db.ListSizes() {
		writes = append(writes, sqlTouch(n))
	}
	return s.st.Prepare(ctx, writes, nil)
}

// Connection is an account about to be connected, with a token the caller
// has already checked against the platform.
type Connection struct {
	WorkspaceID string
	Type        Type
	ExternalID  string
	Name        string
	Token       string
}

const channelCols = `id, workspace_id, type, external_id, name, token_state, status, auto_reply, profile,
	last_event_at, last_error, last_error_at, connected_by, created_at, updated_at, disconnected_at`

type row struct {
	ID             string     `bun:"id"`
	WorkspaceID    string     `bun:"workspace_id"`
	Type           string     `bun:"type"`
	ExternalID     string     `bun:"external_id"`
	Name           string     `bun:"name"`
	TokenState     string     `bun:"token_state"`
	Status         string     `bun:"status"`
	AutoReply      string     `bun:"auto_reply"`
	Profile        string     `bun:"profile"`
	LastEventAt    *time.Time `bun:"last_event_at"`
	LastError      string     `bun:"last_error"`
	LastErrorAt    *time.Time `bun:"last_error_at"`
	ConnectedBy    *string    `bun:"connected_by"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
	DisconnectedAt *time.Time `bun:"disconnected_at"`
}

// dest lists r's fields in channelCols order, for a prepared statement.
func (r *row) dest() []any {
	return []any{&r.ID, &r.WorkspaceID, &r.Type, &r.ExternalID, &r.Name, &r.TokenState, &r.Status, &r.AutoReply, &r.Profile,
		&r.LastEventAt, &r.LastError, &r.LastErrorAt, &r.ConnectedBy, &r.CreatedAt, &r.UpdatedAt, &r.DisconnectedAt}
}

func (r row) channel() Channel {
	c := Channel{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Type: Type(r.Type), ExternalID: r.ExternalID, Name: r.Name,
		TokenState: TokenState(r.TokenState), Status: Status(r.Status), AutoReply: r.AutoReply,
		LastEventAt: deref(r.LastEventAt), LastError: r.LastError, LastErrorAt: deref(r.LastErrorAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), DisconnectedAt: deref(r.DisconnectedAt),
	}
	if r.ConnectedBy != nil {
		c.ConnectedBy = *r.ConnectedBy
	}
	// A malformed settings document (hand-edited) reads as no settings
	// rather than hiding the channel.
	_ = json.Unmarshal([]byte(r.Profile), &c.Settings)
	return c
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func tokenAAD(workspaceID, id string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "channels", Column: "token", Row: id}
}

// Connect stores a connected account with its token sealed (promise P-10)
// and records channel.connect. Connecting an account this workspace already
// has replaces its token and name and clears NeedsReconnect (reconnecting);
// an account active in another workspace is ErrTakenElsewhere.
func (s *Store) Connect(ctx context.Context, a audit.Actor, c Connection) (Channel, error) {
	defer s.routes.changed()
	var out Channel
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		var existing row
		err := tx.NewRaw(`SELECT `+channelCols+` FROM channels WHERE type = ? AND external_id = ? AND status = 'active'`,
			string(c.Type), c.ExternalID).Scan(ctx, &existing)
		id := uuid.Must(uuid.NewV7()).String()
		switch {
		case err == nil && existing.WorkspaceID != c.WorkspaceID:
			return ErrTakenElsewhere
		case err == nil:
			id = existing.ID
		case !errors.Is(db.NoRows(err), db.ErrNotFound):
			return err
		}
		sealed, err := s.kr.SealWorkspaceTx(ctx, tx, tokenAAD(c.WorkspaceID, id), []byte(c.Token))
		if err != nil {
			return err
		}
		if existing.ID != "" {
			_, err = tx.NewRaw(`UPDATE channels SET name = ?, token = ?, token_state = 'ok', last_error = '', last_error_at = NULL,
				connected_by = ?, updated_at = ? WHERE id = ?`, c.Name, sealed, nullable(a.UserID), now, id).Exec(ctx)
		} else {
			_, err = tx.NewRaw(`INSERT INTO channels (id, workspace_id, type, external_id, name, token, token_state, status,
				connected_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'ok', 'active', ?, ?, ?)`,
				id, c.WorkspaceID, string(c.Type), c.ExternalID, c.Name, sealed, nullable(a.UserID), now, now).Exec(ctx)
		}
		if db.IsUniqueViolation(err) {
			return ErrTakenElsewhere // connected elsewhere meanwhile
		}
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, c.WorkspaceID, a, ActionConnect, targetChannel, id,
			map[string]string{"type": string(c.Type), "external_id": c.ExternalID}); err != nil {
			return err
		}
		out, err = get(ctx, tx, c.WorkspaceID, id)
		return err
	})
	if err != nil {
		return Channel{}, fmt.Errorf("channel: connect: %w", err)
	}
	return out, nil
}

func get(ctx context.Context, idb bun.IDB, workspaceID, id string) (Channel, error) {
	var r row
	if err := idb.NewRaw(`SELECT `+channelCols+` FROM channels WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r); err != nil {
		return Channel{}, db.NoRows(err)
	}
	return r.channel(), nil
}

// GetTx is Get through idb: inside a transaction, without taking a second
// connection from the pool.
func (s *Store) GetTx(ctx context.Context, idb bun.IDB, workspaceID, id string) (Channel, error) {
	c, err := get(ctx, idb, workspaceID, id)
	if err != nil {
		return Channel{}, fmt.Errorf("channel: get: %w", err)
	}
	return c, nil
}

// Get returns one channel of the workspace (db.ErrNotFound for another
// workspace's).
func (s *Store) Get(ctx context.Context, workspaceID, id string) (Channel, error) {
	c, err := get(ctx, s.d.R, workspaceID, id)
	if err != nil {
		return Channel{}, fmt.Errorf("channel: get: %w", err)
	}
	return c, nil
}

// List returns the workspace's channels, active ones first, newest first.
func (s *Store) List(ctx context.Context, workspaceID string) ([]Channel, error) {
	var rows []row
	if err := s.d.R.NewRaw(`SELECT `+channelCols+` FROM channels WHERE workspace_id = ?
		ORDER BY CASE status WHEN 'active' THEN 0 ELSE 1 END, created_at DESC, id DESC`, workspaceID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("channel: list: %w", err)
	}
	out := make([]Channel, len(rows))
	for i, r := range rows {
		out[i] = r.channel()
	}
	return out, nil
}

// ByAccount returns the active channel holding the platform account, for
// routing webhook events; db.ErrNotFound when no workspace connected it.
// It reads through idb so that routing sees the caller's transaction.
func (s *Store) ByAccount(ctx context.Context, idb bun.IDB, t Type, externalID string) (Channel, error) {
	var r row
	if err := s.st.Row(ctx, idb, r.dest(), sqlByAccount, string(t), externalID); err != nil {
		return Channel{}, fmt.Errorf("channel: by account: %w", db.NoRows(err))
	}
	return r.channel(), nil
}

// Token opens the channel's access token, to call the platform with it.
// It is ErrNoToken for a disconnected channel or one that needs
// reconnecting.
func (s *Store) Token(ctx context.Context, c Channel) (string, error) {
	var sealed []byte
	var state string
	err := s.d.R.NewRaw(`SELECT token, token_state FROM channels WHERE workspace_id = ? AND id = ?`, c.WorkspaceID, c.ID).Scan(ctx, &sealed, &state)
	if err != nil {
		return "", fmt.Errorf("channel: token: %w", db.NoRows(err))
	}
	if sealed == nil || state != string(TokenOK) {
		return "", ErrNoToken
	}
	tok, err := s.kr.OpenWorkspace(ctx, tokenAAD(c.WorkspaceID, c.ID), sealed)
	if err != nil {
		return "", fmt.Errorf("channel: token: %w", err)
	}
	return string(tok), nil
}

// MarkNeedsReconnect records that the platform rejected the token, with
// the platform's message; sending stops until the account is connected
// again.
func (s *Store) MarkNeedsReconnect(ctx context.Context, workspaceID, id, message string) error {
	defer s.routes.changed()
	now := s.now()
	err := db.OneRow(s.d.W.NewRaw(`UPDATE channels SET token_state = 'needs_reconnect', last_error = ?, last_error_at = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ?`, clip(message), now, now, workspaceID, id).Exec(ctx))
	if err != nil {
		return fmt.Errorf("channel: mark needs reconnect: %w", err)
	}
	return nil
}

// RecordError records a platform error for the channel's health.
func (s *Store) RecordError(ctx context.Context, workspaceID, id, message string) error {
	now := s.now()
	err := db.OneRow(s.d.W.NewRaw(`UPDATE channels SET last_error = ?, last_error_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
		clip(message), now, now, workspaceID, id).Exec(ctx))
	if err != nil {
		return fmt.Errorf("channel: record error: %w", err)
	}
	return nil
}

// Touch records that events arrived for the channels at at, inside the
// transaction that applies them.
func (s *Store) Touch(ctx context.Context, idb bun.IDB, at time.Time, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.InLists(ids, func(list []any) error {
		_, err := s.st.Exec(ctx, idb, sqlTouch(len(list)), append(append([]any{at}, list...), at)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("channel: touch: %w", err)
	}
	return nil
}

// Disconnect destroys the channel's token and marks it disconnected; its
// conversations stay. The caller unsubscribes from the platform first,
// while the token still exists.
func (s *Store) Disconnect(ctx context.Context, a audit.Actor, workspaceID, id string) (Channel, error) {
	defer s.routes.changed()
	var out Channel
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		if err := db.OneRow(tx.NewRaw(`UPDATE channels SET token = NULL, status = 'disconnected', disconnected_at = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ? AND status = 'active'`, now, now, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionDisconnect, targetChannel, id, nil); err != nil {
			return err
		}
		var err error
		out, err = get(ctx, tx, workspaceID, id)
		return err
	})
	if err != nil {
		return Channel{}, fmt.Errorf("channel: disconnect: %w", err)
	}
	return out, nil
}

// Configure stores the automatic reply and page settings (already pushed
// to the platform by the caller) and records channel.settings.
func (s *Store) Configure(ctx context.Context, a audit.Actor, workspaceID, id, autoReply string, st Settings) (Channel, error) {
	defer s.routes.changed()
	doc, err := json.Marshal(st)
	if err != nil {
		return Channel{}, fmt.Errorf("channel: configure: %w", err)
	}
	var out Channel
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		if err := db.OneRow(tx.NewRaw(`UPDATE channels SET auto_reply = ?, profile = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			autoReply, string(doc), now, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionSettings, targetChannel, id, nil); err != nil {
			return err
		}
		out, err = get(ctx, tx, workspaceID, id)
		return err
	})
	if err != nil {
		return Channel{}, fmt.Errorf("channel: configure: %w", err)
	}
	return out, nil
}

// RecordUnknown counts events for an account no workspace has connected.
// Their content is dropped; only the account ID and a count remain.
func (s *Store) RecordUnknown(ctx context.Context, idb bun.IDB, object, externalID string, events int, at time.Time) error {
	_, err := idb.NewRaw(`INSERT INTO unknown_accounts (object, external_id, events, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (object, external_id) DO UPDATE SET events = unknown_accounts.events + excluded.events, last_seen_at = excluded.last_seen_at`,
		object, externalID, events, at, at).Exec(ctx)
	if err != nil {
		return fmt.Errorf("channel: record unknown account: %w", err)
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// clip bounds an error message kept for display.
func clip(s string) string {
	const max = 500
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "")
}

package workspace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// lastUsedEvery is how stale last_used_at may get before authentication
// writes it again, so a busy key costs at most one write a minute.
const lastUsedEvery = time.Minute

// APIKey describes a key for the public REST API. The secret is returned
// once by CreateAPIKey; the database holds only its SHA-256 (promise P-08),
// which this type does not carry at all.
type APIKey struct {
	ID          string     `bun:"id" json:"id"`
	WorkspaceID string     `bun:"workspace_id" json:"workspace_id"`
	Name        string     `bun:"name" json:"name"`
	Prefix      string     `bun:"prefix" json:"prefix"` // first 12 characters of the secret, to tell keys apart
	Role        Role       `bun:"role" json:"role"`
	Scopes      ScopeList  `bun:"scopes" json:"scopes"`                   // what it may do beyond its role (scope.go)
	CreatedBy   string     `bun:"created_by" json:"created_by,omitempty"` // "" when the creator's account is gone
	CreatedAt   time.Time  `bun:"created_at" json:"created_at"`
	LastUsedAt  *time.Time `bun:"last_used_at" json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `bun:"revoked_at" json:"revoked_at,omitempty"`
}

const apiKeyCols = `id, workspace_id, name, prefix, role, scopes, COALESCE(created_by, '') AS created_by, created_at, last_used_at, revoked_at`

// CreateAPIKey issues a key named name with role role and the given
// scopes (none is usual), acting as actorRole, records api_key.create, and
// returns the key and its secret: "prly_" and 43 base62 characters, shown
// this once. role must be admin, agent or viewer and one actorRole may
// grant (ErrRoleNotAllowed otherwise: agents and viewers issue no keys,
// and no key is ever owner); scopes must be on the closed list and allowed
// for role (CheckScopes, a *validate.Error otherwise).
func (s *Service) CreateAPIKey(ctx context.Context, a audit.Actor, actorRole Role, workspaceID, name string, role Role, scopes ...Scope) (*APIKey, string, error) {
	name, err := validate.Name("name", name, maxNameLen, false)
	if err != nil {
		return nil, "", err
	}
	if err := checkRole(role); err != nil {
		return nil, "", err
	}
	list, err := CheckScopes(scopes, role)
	if err != nil {
		return nil, "", err
	}
	if role == RoleOwner || !actorRole.CanManage(role) {
		return nil, "", fmt.Errorf("workspace: create api key: %w", ErrRoleNotAllowed)
	}
	secret := newAPIKeySecret()
	now := s.now()
	k := &APIKey{
		ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, Name: name, Prefix: secret[:apiKeyShownLen],
		Role: role, Scopes: list, CreatedBy: a.UserID, CreatedAt: now,
	}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, role, scopes, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, workspaceID, name, k.Prefix, hashSecret(secret), role, list, nullable(a.UserID), now).Exec(ctx); err != nil {
			return err
		}
		details := map[string]any{"name": name, "role": role}
		if len(list) > 0 {
			details["scopes"] = list
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionAPIKeyCreate, targetAPIKey, k.ID, details)
	})
	if err != nil {
		return nil, "", fmt.Errorf("workspace: create api key: %w", err)
	}
	return k, secret, nil
}

// APIKeys lists a workspace's active (unrevoked) keys, newest first. The
// HTTP layer shows them to admins and owners only (promise P-04).
func (s *Service) APIKeys(ctx context.Context, workspaceID string) ([]APIKey, error) {
	out := []APIKey{}
	err := s.d.R.NewRaw(`SELECT `+apiKeyCols+` FROM api_keys
		WHERE workspace_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, workspaceID).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("workspace: api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey revokes a key at once and records api_key.revoke. Revoking
// a key already revoked changes nothing and succeeds. The HTTP layer allows
// it to admins and owners.
func (s *Service) RevokeAPIKey(ctx context.Context, a audit.Actor, workspaceID, keyID string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var k APIKey
		if err := tx.NewRaw(`SELECT `+apiKeyCols+` FROM api_keys WHERE workspace_id = ? AND id = ?`,
			workspaceID, keyID).Scan(ctx, &k); err != nil {
			return db.NoRows(err)
		}
		if k.RevokedAt != nil {
			return nil
		}
		now := s.now()
		if err := db.OneRow(tx.NewRaw(`UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ?`,
			now, workspaceID, keyID).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionAPIKeyRevoke, targetAPIKey, keyID,
			map[string]any{"name": k.Name, "role": k.Role})
	})
	if err != nil {
		return fmt.Errorf("workspace: revoke api key: %w", err)
	}
	return nil
}

// AuthenticateAPIKey returns the active key whose secret is secret, or
// ErrInvalidAPIKey. The lookup compares SHA-256 digests in an indexed
// equality, so its timing says nothing about the secret. It records the
// use in last_used_at at most once a minute.
func (s *Service) AuthenticateAPIKey(ctx context.Context, secret string) (*APIKey, error) {
	if !wellFormedAPIKey(secret) {
		return nil, fmt.Errorf("workspace: authenticate api key: %w", ErrInvalidAPIKey)
	}
	var k APIKey
	err := s.d.R.NewRaw(`SELECT `+apiKeyCols+` FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL`,
		hashSecret(secret)).Scan(ctx, &k)
	if err != nil {
		if errors.Is(db.NoRows(err), db.ErrNotFound) {
			err = ErrInvalidAPIKey
		}
		return nil, fmt.Errorf("workspace: authenticate api key: %w", err)
	}
	now := s.now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= lastUsedEvery {
		// Conditional, so concurrent requests with one key write once.
		res, err := s.d.W.NewRaw(`UPDATE api_keys SET last_used_at = ?
			WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
			now, k.ID, now.Add(-lastUsedEvery)).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("workspace: authenticate api key: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			k.LastUsedAt = &now
		}
	}
	return &k, nil
}

package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// MaxDuration bounds one impersonation, whatever the session's lifetime.
const MaxDuration = time.Hour

// Audit actions.
const (
	ActionImpersonateStart = "impersonation.start"
	ActionImpersonateStop  = "impersonation.stop"
	ActionImpersonateWrite = "impersonation.write"
)

// Errors.
var (
	// ErrNotAdmin refuses anyone but a platform administrator.
	ErrNotAdmin = errors.New("operator: only platform administrators can do this")
	// ErrNeeds2FA refuses a platform administrator without two-factor
	// authentication (promise P-05).
	ErrNeeds2FA = errors.New("operator: turn on two-factor authentication to use the operator console")
	// ErrCannotImpersonate refuses impersonating oneself or another
	// platform administrator (which would chain privileges).
	ErrCannotImpersonate = errors.New("operator: you cannot act as yourself or as another platform administrator")
)

// Users reads accounts (account.Service).
type Users interface {
	Get(ctx context.Context, userID string) (*account.User, error)
	GetByEmail(ctx context.Context, email string) (*account.User, error)
}

// Options configure a Service.
type Options struct {
	Now   func() time.Time
	Log   *slog.Logger
	Users Users
}

// Service is the operator console's domain side.
type Service struct {
	d   *db.DB
	opt Options
	log *slog.Logger
}

// New returns a Service on d.
func New(d *db.DB, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Users == nil {
		panic("operator: New needs Options.Users")
	}
	return &Service{d: d, opt: opt, log: opt.Log.With("component", "operator")}
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// CheckAdmin returns the user behind a if they are a platform
// administrator with two-factor authentication on, acting as themselves.
func (s *Service) CheckAdmin(ctx context.Context, a audit.Actor) (*account.User, error) {
	if a.UserID == "" || a.ImpersonatorID != "" {
		return nil, ErrNotAdmin
	}
	u, err := s.opt.Users.Get(ctx, a.UserID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrNotAdmin
	}
	if err != nil {
		return nil, fmt.Errorf("operator: check administrator: %w", err)
	}
	if !u.IsPlatformAdmin {
		return nil, ErrNotAdmin
	}
	if !u.TOTPEnabled {
		return nil, ErrNeeds2FA
	}
	return u, nil
}

// Impersonation is an administrator acting as a user.
type Impersonation struct {
	ID             string    `bun:"id" json:"id"`
	AdminSessionID string    `bun:"admin_session_id" json:"-"`
	AdminUserID    string    `bun:"admin_user_id" json:"admin_user_id"`
	UserID         string    `bun:"user_id" json:"user_id"`
	Reason         string    `bun:"reason" json:"reason"`
	StartedAt      time.Time `bun:"started_at" json:"started_at"`
}

// Impersonate starts acting as the user named by who (an e-mail address
// or a user ID) in the administrator's session adminSessionID, ending any
// impersonation that session had. a is the administrator (checked again
// here: platform administrator, 2FA on).
func (s *Service) Impersonate(ctx context.Context, a audit.Actor, adminSessionID, who, reason string) (*Impersonation, error) {
	admin, err := s.CheckAdmin(ctx, a)
	if err != nil {
		return nil, err
	}
	if reason, err = checkReason(reason); err != nil {
		return nil, fmt.Errorf("operator: impersonate: %w", err)
	}
	who = strings.TrimSpace(who)
	if who == "" {
		return nil, fmt.Errorf("operator: impersonate: %w", validate.Field("user", "Enter the user's e-mail address."))
	}
	var target *account.User
	if strings.Contains(who, "@") {
		target, err = s.opt.Users.GetByEmail(ctx, who)
	} else {
		target, err = s.opt.Users.Get(ctx, who)
	}
	if err != nil {
		return nil, fmt.Errorf("operator: impersonate: user: %w", err)
	}
	if target.ID == admin.ID || target.IsPlatformAdmin {
		return nil, ErrCannotImpersonate
	}
	now := s.now()
	imp := &Impersonation{ID: uuid.Must(uuid.NewV7()).String(), AdminSessionID: adminSessionID, AdminUserID: admin.ID,
		UserID: target.ID, Reason: reason, StartedAt: now}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.end(ctx, tx, a, adminSessionID, now); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO impersonations (id, admin_session_id, admin_user_id, user_id, reason, started_at) VALUES (?, ?, ?, ?, ?, ?)`,
			imp.ID, imp.AdminSessionID, imp.AdminUserID, imp.UserID, imp.Reason, imp.StartedAt).Exec(ctx); err != nil {
			return err
		}
		return s.recordEverywhere(ctx, tx, now, a, ActionImpersonateStart, imp, map[string]string{"reason": reason})
	})
	if err != nil {
		return nil, fmt.Errorf("operator: impersonate: %w", err)
	}
	s.log.Warn("impersonation started", "admin", admin.ID, "user", target.ID)
	return imp, nil
}

// StopImpersonating ends the session's impersonation, if any. a is the
// real administrator (ImpersonatorID may be set: they are still acting).
func (s *Service) StopImpersonating(ctx context.Context, a audit.Actor, adminSessionID string) error {
	admin := a
	if a.ImpersonatorID != "" {
		admin.UserID, admin.ImpersonatorID = a.ImpersonatorID, ""
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.end(ctx, tx, admin, adminSessionID, s.now())
	})
	if err != nil {
		return fmt.Errorf("operator: stop impersonating: %w", err)
	}
	return nil
}

// end closes the session's open impersonations, audit-logged.
func (s *Service) end(ctx context.Context, tx bun.Tx, a audit.Actor, sessionID string, now time.Time) error {
	var open []Impersonation
	if err := tx.NewRaw(`SELECT id, admin_session_id, admin_user_id, user_id, reason, started_at FROM impersonations
		WHERE admin_session_id = ? AND ended_at IS NULL`, sessionID).Scan(ctx, &open); err != nil {
		return err
	}
	for i := range open {
		if _, err := tx.NewRaw(`UPDATE impersonations SET ended_at = ? WHERE id = ?`, now, open[i].ID).Exec(ctx); err != nil {
			return err
		}
		if err := s.recordEverywhere(ctx, tx, now, a, ActionImpersonateStop, &open[i], nil); err != nil {
			return err
		}
	}
	return nil
}

// recordEverywhere writes one entry in the platform's log and one in the
// log of every workspace the impersonated user belongs to.
func (s *Service) recordEverywhere(ctx context.Context, tx bun.Tx, now time.Time, a audit.Actor, action string, imp *Impersonation, details map[string]string) error {
	a.UserID, a.ImpersonatorID = imp.UserID, imp.AdminUserID
	var wss []string
	if err := tx.NewRaw(`SELECT workspace_id FROM members WHERE user_id = ? ORDER BY workspace_id`, imp.UserID).Scan(ctx, &wss); err != nil {
		return err
	}
	for _, ws := range append([]string{""}, wss...) {
		if err := audit.Record(ctx, tx, now, ws, a, action, "user", imp.UserID, details); err != nil {
			return err
		}
	}
	return nil
}

// Acting returns the user the administrator signed in with sessionID acts
// as, and false when they act as nobody. The access guard asks it on every request of a platform
// administrator (only theirs), so impersonation lives and dies with the
// administrator's session.
func (s *Service) Acting(ctx context.Context, sessionID string) (*account.User, bool, error) {
	var ids []string
	err := s.d.R.NewRaw(`SELECT user_id FROM impersonations WHERE admin_session_id = ? AND ended_at IS NULL AND started_at > ?
		ORDER BY started_at DESC LIMIT 1`, sessionID, s.now().Add(-MaxDuration)).Scan(ctx, &ids)
	if err != nil {
		return nil, false, fmt.Errorf("operator: acting: %w", err)
	}
	if len(ids) == 0 {
		return nil, false, nil
	}
	u, err := s.opt.Users.Get(ctx, ids[0])
	if errors.Is(err, db.ErrNotFound) {
		return nil, false, nil // the user is gone: nobody to act as
	}
	if err != nil {
		return nil, false, fmt.Errorf("operator: acting: %w", err)
	}
	if u.IsPlatformAdmin {
		return nil, false, nil // became an administrator meanwhile: never chain
	}
	return u, true, nil
}

// RecordWrite audit-logs a write an administrator is about to make while
// impersonating, in the log of the workspace it touches ("" for none): the
// guard calls it before the handler runs, and refuses the request when it
// fails, so no write goes unrecorded.
func (s *Service) RecordWrite(ctx context.Context, a audit.Actor, workspaceID, route string) error {
	if err := audit.Record(ctx, s.d.W, s.now(), workspaceID, a, ActionImpersonateWrite, "route", route, nil); err != nil {
		return fmt.Errorf("operator: record write: %w", err)
	}
	return nil
}

// checkReason validates why an administrator impersonates someone: kept
// in the audit log, so required and bounded.
func checkReason(r string) (string, error) {
	r = strings.TrimSpace(r)
	switch {
	case r == "":
		return "", validate.Field("reason", "Say why (a support ticket, say): the reason is kept in the audit log.")
	case !utf8.ValidString(r):
		return "", validate.Field("reason", "The reason is not valid text.")
	case utf8.RuneCountInString(r) > 500:
		return "", validate.Field("reason", "Use at most 500 characters.")
	case strings.IndexFunc(r, unicode.IsControl) >= 0:
		return "", validate.Field("reason", "The reason contains control characters.")
	}
	return r, nil
}

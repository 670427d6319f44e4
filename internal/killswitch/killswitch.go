package killswitch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Timing of the shared state.
const (
	// DefaultPoll is how often a process re-reads the pauses.
	DefaultPoll = 2 * time.Second
	// Bound is the documented longest time before every process honours
	// a toggle made by another one (P-4): a poll interval, plus a poll's
	// own timeout (pollTimeout), rounded up.
	Bound = 5 * time.Second
	// pollTimeout bounds one read of the table.
	pollTimeout = 2 * time.Second
	// MaxReason bounds a reason, in characters.
	MaxReason = 500
)

// Audit actions of the toggles.
const (
	ActionPause  = "killswitch.pause"
	ActionResume = "killswitch.resume"
)

// Errors of the toggles.
var (
	// ErrNotAdmin refuses a toggle by anyone but a platform administrator.
	ErrNotAdmin = errors.New("killswitch: only platform administrators can pause or resume")
	// ErrNeeds2FA refuses a platform administrator without two-factor
	// authentication (promise P-05).
	ErrNeeds2FA = errors.New("killswitch: turn on two-factor authentication to pause or resume")
)

// Pause is what is paused for one scope.
type Pause struct {
	// WorkspaceID is the paused workspace; "" pauses every workspace.
	WorkspaceID string    `json:"workspace_id"`
	Outbound    bool      `json:"outbound"`
	Processing  bool      `json:"processing"`
	Reason      string    `json:"reason"`
	PausedBy    string    `json:"paused_by"` // user ID, or CLI
	PausedAt    time.Time `json:"paused_at"`
}

// Global reports whether the pause covers every workspace.
func (p Pause) Global() bool { return p.WorkspaceID == "" }

// Change is one toggle: what to pause (or resume) where, and why.
type Change struct {
	// WorkspaceID is the workspace; "" is every workspace.
	WorkspaceID string
	// Outbound and Processing say what the toggle touches; at least one.
	Outbound, Processing bool
	// Reason is why, in the operator's words (required; no customer data).
	Reason string
}

// CLI is the PausedBy of toggles made with the command line on the host.
const CLI = "cli"

// Operator is who toggles: a signed-in user (checked to be a platform
// administrator with 2FA), or the command line on the server host (Host),
// whose user already holds the database's credentials, which is more than
// any administrator has.
type Operator struct {
	Actor audit.Actor
	Host  bool
	// HostUser names the OS account running the command (audit detail).
	HostUser string
}

// Users reads accounts (account.Service).
type Users interface {
	Get(ctx context.Context, userID string) (*account.User, error)
}

// Options configure a Service.
type Options struct {
	Now func() time.Time
	Log *slog.Logger
	// Users checks that the operator is a platform administrator with 2FA.
	Users Users
	// Poll is how often the pauses are re-read (default DefaultPoll; it
	// must stay below Bound).
	Poll time.Duration
	// Changed, when set, hears every new snapshot that differs from the
	// previous one (for example to wake the send queue on resume). It runs
	// on the poller's goroutine or the toggling caller's: keep it short.
	Changed func(old, new *Snapshot)
}

// Service keeps the pauses and this process's snapshot of them.
type Service struct {
	d   *db.DB
	opt Options
	log *slog.Logger

	snap    atomic.Pointer[Snapshot]
	mu      sync.Mutex // serialises installing snapshots
	stop    chan struct{}
	done    chan struct{}
	started bool
}

// New returns a Service on d. Until Start or Refresh, nothing is paused.
func New(d *db.DB, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Poll <= 0 || opt.Poll >= Bound {
		opt.Poll = DefaultPoll
	}
	s := &Service{d: d, opt: opt, log: opt.Log.With("component", "killswitch"),
		stop: make(chan struct{}), done: make(chan struct{})}
	s.snap.Store(emptySnapshot())
	return s
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Pause pauses what c names, adding to what is paused already for that
// scope; the reason replaces the scope's previous one. It is audit-logged.
func (s *Service) Pause(ctx context.Context, by Operator, c Change) error {
	return s.toggle(ctx, by, c, true)
}

// Resume resumes what c names for that scope (a global resume does not
// lift workspace pauses, nor the other way round). It is audit-logged with
// the reason.
func (s *Service) Resume(ctx context.Context, by Operator, c Change) error {
	return s.toggle(ctx, by, c, false)
}

func (s *Service) toggle(ctx context.Context, by Operator, c Change, pause bool) error {
	op := "resume"
	if pause {
		op = "pause"
	}
	reason, err := checkChange(c)
	if err != nil {
		return fmt.Errorf("killswitch: %s: %w", op, err)
	}
	pausedBy, err := s.authorize(ctx, by)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if c.WorkspaceID != "" {
			var n int
			if err := tx.NewRaw(`SELECT count(*) FROM workspaces WHERE id = ?`, c.WorkspaceID).Scan(ctx, &n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("workspace: %w", db.ErrNotFound)
			}
		}
		var cur []row
		if err := tx.NewRaw(`SELECT `+columns+` FROM kill_switches WHERE workspace_id = ?`, c.WorkspaceID).Scan(ctx, &cur); err != nil {
			return err
		}
		next := Pause{WorkspaceID: c.WorkspaceID, Reason: reason, PausedBy: pausedBy, PausedAt: now}
		if len(cur) == 1 {
			next.Outbound, next.Processing = cur[0].Outbound, cur[0].Processing
			if !pause {
				// What stays paused keeps its own reason and author.
				next.Reason, next.PausedBy, next.PausedAt = cur[0].Reason, cur[0].PausedBy, cur[0].PausedAt
			}
		}
		if c.Outbound {
			next.Outbound = pause
		}
		if c.Processing {
			next.Processing = pause
		}
		if _, err := tx.NewRaw(`DELETE FROM kill_switches WHERE workspace_id = ?`, c.WorkspaceID).Exec(ctx); err != nil {
			return err
		}
		if next.Outbound || next.Processing {
			if _, err := tx.NewRaw(`INSERT INTO kill_switches (workspace_id, outbound, processing, reason, paused_by, paused_at) VALUES (?, ?, ?, ?, ?, ?)`,
				next.WorkspaceID, next.Outbound, next.Processing, next.Reason, next.PausedBy, next.PausedAt).Exec(ctx); err != nil {
				return err
			}
		}
		action := ActionResume
		if pause {
			action = ActionPause
		}
		target := c.WorkspaceID
		if target == "" {
			target = "global"
		}
		details := map[string]any{"outbound": c.Outbound, "processing": c.Processing, "reason": reason,
			"now_outbound": next.Outbound, "now_processing": next.Processing}
		if by.Host {
			details["via"] = "cli"
			if by.HostUser != "" {
				details["host_user"] = by.HostUser
			}
		}
		return audit.Record(ctx, tx, now, c.WorkspaceID, by.Actor, action, "kill_switch", target, details)
	})
	if err != nil {
		return fmt.Errorf("killswitch: %s: %w", op, err)
	}
	s.log.Warn("kill switch "+op, "workspace", c.WorkspaceID, "outbound", c.Outbound, "processing", c.Processing, "by", pausedBy)
	// This process honours its own toggle at once; a failed read leaves
	// it to the next poll.
	if err := s.Refresh(ctx); err != nil {
		s.log.Warn("kill switch: refresh after toggle", "err", err)
	}
	return nil
}

// authorize checks the operator and returns what PausedBy records.
func (s *Service) authorize(ctx context.Context, by Operator) (string, error) {
	if by.Host {
		return CLI, nil
	}
	if by.Actor.UserID == "" || by.Actor.ImpersonatorID != "" || s.opt.Users == nil {
		// An API key, nobody, or an administrator acting as someone else.
		return "", ErrNotAdmin
	}
	u, err := s.opt.Users.Get(ctx, by.Actor.UserID)
	if errors.Is(err, db.ErrNotFound) {
		return "", ErrNotAdmin
	}
	if err != nil {
		return "", fmt.Errorf("killswitch: check operator: %w", err)
	}
	if !u.IsPlatformAdmin {
		return "", ErrNotAdmin
	}
	if !u.TOTPEnabled {
		return "", ErrNeeds2FA
	}
	return u.ID, nil
}

// checkChange validates a change and returns its trimmed reason.
func checkChange(c Change) (string, error) {
	if !c.Outbound && !c.Processing {
		return "", validate.Field("what", "Choose outbound sending, automated processing or both.")
	}
	r := strings.TrimSpace(c.Reason)
	switch {
	case r == "":
		return "", validate.Field("reason", "Say why: the reason is kept in the audit log.")
	case !utf8.ValidString(r):
		return "", validate.Field("reason", "The reason is not valid text.")
	case utf8.RuneCountInString(r) > MaxReason:
		return "", validate.Field("reason", fmt.Sprintf("Use at most %d characters.", MaxReason))
	case strings.IndexFunc(r, func(c rune) bool { return unicode.IsControl(c) && c != '\n' }) >= 0:
		return "", validate.Field("reason", "The reason contains control characters.")
	}
	return r, nil
}

// columns are the kill_switches columns row scans.
const columns = `workspace_id, outbound, processing, reason, paused_by, paused_at`

type row struct {
	WorkspaceID string    `bun:"workspace_id"`
	Outbound    bool      `bun:"outbound"`
	Processing  bool      `bun:"processing"`
	Reason      string    `bun:"reason"`
	PausedBy    string    `bun:"paused_by"`
	PausedAt    time.Time `bun:"paused_at"`
}

// Status reads the pauses from the database now, global first, then by
// workspace ID.
func (s *Service) Status(ctx context.Context) ([]Pause, error) {
	ps, err := s.read(ctx, s.d.R)
	if err != nil {
		return nil, fmt.Errorf("killswitch: status: %w", err)
	}
	return ps, nil
}

func (s *Service) read(ctx context.Context, idb bun.IDB) ([]Pause, error) {
	var rows []row
	if err := idb.NewRaw(`SELECT `+columns+` FROM kill_switches ORDER BY workspace_id`).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]Pause, len(rows))
	for i, r := range rows {
		out[i] = Pause{WorkspaceID: r.WorkspaceID, Outbound: r.Outbound, Processing: r.Processing,
			Reason: r.Reason, PausedBy: r.PausedBy, PausedAt: r.PausedAt.UTC()}
	}
	return out, nil
}

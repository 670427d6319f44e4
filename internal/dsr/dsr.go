package dsr

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/timeline"
)

// Deadlines of a request, from its receipt (GDPR Art 12(3); P-34).
const (
	AcknowledgeWithin = 7 * 24 * time.Hour
	CompleteWithin    = 30 * 24 * time.Hour
)

// DefaultExportTTL is how long an export archive stays downloadable when
// Options.ExportTTL is zero; afterwards the archive is deleted.
const DefaultExportTTL = 7 * 24 * time.Hour

// DefaultMaxArchiveBytes is the largest export archive when
// Options.MaxArchiveBytes is zero: 256 MiB. An archive is built in memory
// and stored sealed in one row, and SQLite refuses values over 1 GB
// (SQLITE_MAX_LENGTH), PostgreSQL bytea too; 256 MiB stays well clear of
// both and of a small server's memory. A bigger export fails at once with
// a message saying so, instead of being retried in vain.
const DefaultMaxArchiveBytes = 256 << 20

// ErrInvalid refuses bad input; it also wraps a *validate.Error naming the
// field when one is to blame.
var ErrInvalid = errors.New("dsr: invalid")

// ErrConflict refuses a change the request's state does not allow (such as
// completing a refused request).
var ErrConflict = errors.New("dsr: conflict")

// ErrExportRunning refuses a second export of a contact while one is
// still being built (exports are heavy; one at a time per contact).
var ErrExportRunning = errors.New("dsr: an export of the contact is already running")

// ErrExpired: the export's download link has expired (its archive is gone).
var ErrExpired = errors.New("dsr: export expired")

// ContactEraser erases a contact everywhere (package erasure implements
// it). db.ErrNotFound for an unknown or foreign contact.
type ContactEraser interface {
	EraseContact(ctx context.Context, a audit.Actor, workspaceID, contactID string) error
}

// Media gives an export the contact's attachments (the app implements it
// on package media; nil: exports carry none). ContactObjects calls fn with
// each object's name inside the archive (a path-safe base name), its
// content type and its content, opened; for an object whose file is
// missing or cannot be opened it calls skipped instead, with its name and
// why in plain words, and goes on: one lost file must not keep the person
// from the rest of their data. It fails only when it cannot go on (the
// database or the storage backend is down), and the export is retried.
type Media interface {
	ContactObjects(ctx context.Context, workspaceID, contactID string, fn func(name, contentType string, r io.Reader) error,
		skipped func(name, reason string)) error
}

// Options configure a Service.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log gets IDs and error classes, never personal data (default
	// slog.Default()).
	Log *slog.Logger
	// Contacts, Activity and Inbox are read for summaries and exports;
	// Contacts also applies corrections.
	Contacts *contact.Store
	Activity *activity.Store
	Inbox    *inbox.Service
	// Timeline gives exports the team's private notes on the contact's
	// conversations (nil: exports carry none, so the app must set it).
	Timeline *timeline.Store
	// Jobs runs export jobs (call Register before it starts).
	Jobs *job.Queue
	// Eraser erases contacts (nil: Erase answers ErrInvalid).
	Eraser ContactEraser
	// Media adds attachments to exports (nil: none).
	Media Media
	// ExportTTL is how long an archive can be downloaded (default
	// DefaultExportTTL).
	ExportTTL time.Duration
	// MaxArchiveBytes is the largest archive an export may build (default
	// DefaultMaxArchiveBytes).
	MaxArchiveBytes int64
}

// Service handles a workspace's data-subject requests and its contacts'
// privacy state.
type Service struct {
	d   *db.DB
	kr  *keyring.Keyring
	opt Options
	log *slog.Logger
}

// New returns a Service on d that seals archives with kr.
func New(d *db.DB, kr *keyring.Keyring, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.ExportTTL <= 0 {
		opt.ExportTTL = DefaultExportTTL
	}
	if opt.MaxArchiveBytes <= 0 {
		opt.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	return &Service{d: d, kr: kr, opt: opt, log: opt.Log}
}

// SetEraser sets the ContactEraser after construction: package erasure is
// built after dsr at wiring, since it calls back into ForgetContact.
func (s *Service) SetEraser(e ContactEraser) { s.opt.Eraser = e }

// SetMedia sets the attachments source of exports after construction.
func (s *Service) SetMedia(m Media) { s.opt.Media = m }

// ExportTTL is how long an export's archive can be downloaded once built
// (the workspace's retention period of exports may delete it sooner).
func (s *Service) ExportTTL() time.Duration { return s.opt.ExportTTL }

// MaxArchiveBytes is the largest archive an export may build.
func (s *Service) MaxArchiveBytes() int64 { return s.opt.MaxArchiveBytes }

// now is the clock in UTC at the databases' precision.
func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

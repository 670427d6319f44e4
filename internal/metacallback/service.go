package metacallback

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/meta"
)

// Job kinds this package registers.
const (
	KindDeletion    = "metacallback.delete"
	KindDeauthorize = "metacallback.deauthorize"
)

// Audit actions this package records.
const (
	ActionDeletionReceived  = "meta.data_deletion.received"
	ActionDeletionCompleted = "meta.data_deletion.completed"
	ActionDeauthorized      = "meta.deauthorize"
)

// ContactEraser erases a contact everywhere (package erasure implements
// it). db.ErrNotFound for a contact already gone.
type ContactEraser interface {
	EraseContact(ctx context.Context, a audit.Actor, workspaceID, contactID string) error
}

// Disconnector disconnects a channel: unsubscribes the app while its token
// still works, destroys the token and audit-logs it (connect.Service
// implements it). db.ErrNotFound for a channel already disconnected.
type Disconnector interface {
	Disconnect(ctx context.Context, a audit.Actor, workspaceID, channelID string) (channel.Channel, error)
}

// IDMatcher asks Meta which page-scoped IDs the person with an app-scoped
// ID has on Pages of the app's business (meta.Client.IDsForPages).
type IDMatcher interface {
	IDsForPages(ctx context.Context, asid string) ([]meta.PageScopedID, error)
}

// ChannelFinder finds the active channel of a platform account
// (channel.Store implements it).
type ChannelFinder interface {
	ByAccount(ctx context.Context, idb bun.IDB, t channel.Type, externalID string) (channel.Channel, error)
}

// ContactFinder finds a channel's contact by its platform-scoped ID
// (contact.Store implements it); db.ErrNotFound when there is none.
type ContactFinder interface {
	Lookup(ctx context.Context, idb bun.IDB, ch channel.Channel, externalID string) (contact.Contact, error)
}

// Options configure a Service.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log records what a job tolerated (default: discarded). Never IDs of
	// people.
	Log *slog.Logger
	// AppSecret verifies signed_request. Empty refuses every callback
	// (fail closed).
	AppSecret string
	// BaseURL is Parley's public URL; the status URL is
	// BaseURL + "/data-deletion?code=…".
	BaseURL string
	// Master derives the keys of the ASID hash and the confirmation codes.
	Master *keyring.Master
	// Queue runs the deletion and deauthorize jobs (Register them on it).
	Queue *job.Queue
	// Disconnect, Eraser and Matcher are the other packages' parts.
	// Disconnect is required; without Eraser no contact is erased (the
	// request still completes for what it reached), without Matcher
	// Meta's ID matching is not asked.
	Disconnect Disconnector
	Eraser     ContactEraser
	Matcher    IDMatcher
	// Channels and Contacts map ID-matching answers (Page, PSID) to
	// contacts; both are needed for ID matching.
	Channels ChannelFinder
	Contacts ContactFinder
	// Limiter bounds refused callbacks per client address (default 60 a
	// minute); once reached, the address is refused until the window ends.
	Limiter *httpx.Limiter
	// MaxBody caps a callback's body (default 16 KiB: a real one is a few
	// hundred bytes).
	MaxBody int64
}

// Service answers the callbacks and runs the deletions.
type Service struct {
	d       *db.DB
	opt     Options
	asidKey []byte
	codeKey []byte
}

// New returns a Service. Register its jobs on opt.Queue before the queue
// starts.
func New(d *db.DB, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Limiter == nil {
		opt.Limiter = httpx.NewLimiter(60, time.Minute, opt.Now)
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 16 << 10
	}
	s := &Service{d: d, opt: opt}
	if opt.Master != nil {
		s.asidKey = opt.Master.Derive(PurposeASIDHash)
		s.codeKey = opt.Master.Derive(keyring.PurposeConfirmCode)
	}
	return s
}

// Register registers the job handlers: deletion, deauthorize, and the
// purge of requests completed more than RequestRetention ago (KindPurge,
// which the app schedules daily with the other periodic tasks).
func (s *Service) Register(q *job.Queue) {
	q.Register(KindDeletion, s.runDeletion, job.MaxAttempts(10), job.Timeout(5*time.Minute))
	q.Register(KindDeauthorize, s.runDeauthorize, job.MaxAttempts(10), job.Timeout(2*time.Minute))
	q.Register(KindPurge, s.runPurge)
}

// HashASID is the identity map's pseudonym of an app-scoped user ID: hex
// HMAC-SHA256 under the PurposeASIDHash key. Equal IDs give equal hashes.
func (s *Service) HashASID(asid string) string {
	m := hmac.New(sha256.New, s.asidKey)
	m.Write([]byte(asid))
	return hex.EncodeToString(m.Sum(nil))
}

// errNoMaster guards a Service built without its key source.
var errNoMaster = errors.New("metacallback: no master key")

// system is the audit actor of what Meta's callbacks make Parley do.
func system(requestID string) audit.Actor { return audit.Actor{RequestID: requestID} }

// PurposeASIDHash is the master-key purpose of the ASID hash key.
const PurposeASIDHash = "meta-asid/v1"

// asidAAD binds a sealed ASID in a job payload to its request.
func asidAAD(requestID string) keyring.AAD {
	return keyring.AAD{Table: "jobs", Column: "payload.asid", Row: requestID}
}

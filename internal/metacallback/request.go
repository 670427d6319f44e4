package metacallback

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
)

// State is where a deletion request stands.
type State string

// States of a deletion request, in order.
const (
	Received   State = "received"
	InProgress State = "in_progress"
	Completed  State = "completed"
)

// Sources of a deletion request.
const (
	SourceCallback = "callback"
	SourceImport   = "import"
)

// Request is a data-deletion request as the status page and the operator
// see it. It holds no ID of the person.
type Request struct {
	ID string
	// Code is the confirmation code (only set where it is handed out: the
	// callback's answer, ImportASIDs).
	Code   string
	Source string
	State  State
	// ChannelsDisconnected and ContactsErased say what the deletion did.
	ChannelsDisconnected int
	ContactsErased       int
	CreatedAt            time.Time
	UpdatedAt            time.Time
	// CompletedAt is zero until the request is completed.
	CompletedAt time.Time
}

// StatusURL is the public page of a request's code.
func (s *Service) StatusURL(code string) string {
	return s.opt.BaseURL + "/data-deletion?code=" + code
}

// code is the request's confirmation code: the first 128 bits of
// HMAC-SHA256(code key, request ID), in hex (alphanumeric, as Meta
// requires). Only the server can compute it, and it is the same each time,
// which lets a repeated callback get the code it got before although only
// its hash is stored.
func (s *Service) code(requestID string) string {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(requestID))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// codeHash is what the table stores of a code.
func codeHash(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

type requestRow struct {
	ID                   string     `bun:"id"`
	Source               string     `bun:"source"`
	State                string     `bun:"state"`
	ChannelsDisconnected int        `bun:"channels_disconnected"`
	ContactsErased       int        `bun:"contacts_erased"`
	CreatedAt            time.Time  `bun:"created_at"`
	UpdatedAt            time.Time  `bun:"updated_at"`
	CompletedAt          *time.Time `bun:"completed_at"`
}

const requestCols = `id, source, state, channels_disconnected, contacts_erased, created_at, updated_at, completed_at`

func (r requestRow) request() Request {
	out := Request{ID: r.ID, Source: r.Source, State: State(r.State),
		ChannelsDisconnected: r.ChannelsDisconnected, ContactsErased: r.ContactsErased,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.CompletedAt != nil {
		out.CompletedAt = r.CompletedAt.UTC()
	}
	return out
}

// deletionPayload is the deletion job's payload. The ASID travels sealed
// under the platform key, for Meta's ID matching; the job row is deleted
// when the job succeeds.
type deletionPayload struct {
	RequestID string `json:"request_id"`
	ASID      []byte `json:"asid,omitempty"`
}

// Open ensures a deletion request for asid exists and returns it with its
// code. While an earlier request for the same person is not completed it is
// returned again, with the same code, and no second deletion starts
// (H-5), except that a job which died is queued again; once completed, a
// new request starts (the person may have connected again since). The
// request row, its job and an audit entry whose subject is the ASID's
// hash are written in one transaction.
func (s *Service) Open(ctx context.Context, a audit.Actor, asid, source string) (Request, error) {
	if s.codeKey == nil {
		return Request{}, errNoMaster
	}
	if !validASID(asid) {
		return Request{}, fmt.Errorf("metacallback: open: %w: bad app-scoped ID", ErrMalformed)
	}
	subject := s.HashASID(asid)
	out, err := s.open(ctx, a, asid, subject, source)
	if db.IsUniqueViolation(err) {
		// Another callback for the same person opened one meanwhile
		// (PostgreSQL): this run now finds it.
		out, err = s.open(ctx, a, asid, subject, source)
	}
	if err != nil {
		return Request{}, fmt.Errorf("metacallback: open: %w", err)
	}
	out.Code = s.code(out.ID)
	return out, nil
}

// open is one attempt of Open, in one transaction.
func (s *Service) open(ctx context.Context, a audit.Actor, asid, subject, source string) (Request, error) {
	var out Request
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var r requestRow
		err := tx.NewRaw(`SELECT `+requestCols+` FROM meta_deletion_requests
			WHERE asid_hash = ? AND state <> 'completed' ORDER BY created_at DESC, id DESC LIMIT 1`, subject).Scan(ctx, &r)
		switch {
		case err == nil:
			out = r.request()
			// Its job may have died (attempts used up, or a permanent
			// error): queue it again, or the request stays open forever
			// and every later callback for the person only gets its code.
			// Unique makes this a no-op while the job still lives.
			return s.enqueueDeletion(ctx, tx, asid, r.ID)
		case !errors.Is(db.NoRows(err), db.ErrNotFound):
			return err
		}
		now := s.opt.Now().UTC()
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := tx.NewRaw(`INSERT INTO meta_deletion_requests (id, code_hash, asid_hash, source, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'received', ?, ?)`, id, codeHash(s.code(id)), subject, source, now, now).Exec(ctx); err != nil {
			return err
		}
		if err := s.enqueueDeletion(ctx, tx, asid, id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, "", a, ActionDeletionReceived, "meta_deletion_request", id,
			map[string]string{"source": source, "subject": subject}); err != nil {
			return err
		}
		out = Request{ID: id, Source: source, State: Received, CreatedAt: now, UpdatedAt: now}
		return nil
	})
	return out, err
}

// enqueueDeletion queues the deletion job of request id, with the ASID
// sealed for Meta's ID matching. It is idempotent: while a pending,
// waiting or running job of the request exists, nothing is added; a dead
// one does not count, so a request whose job died gets a new one.
func (s *Service) enqueueDeletion(ctx context.Context, tx bun.Tx, asid, id string) error {
	sealed, err := s.opt.Master.SealPlatform([]byte(asid), asidAAD(id))
	if err != nil {
		return err
	}
	_, err = s.opt.Queue.Enqueue(ctx, tx, KindDeletion, deletionPayload{RequestID: id, ASID: sealed}, job.Unique(KindDeletion+":"+id))
	return err
}

// Status finds the request of a confirmation code. Unknown, malformed and
// empty codes are all db.ErrNotFound, told apart by nothing (H-2: the
// page must not reveal whether Parley knew the person).
func (s *Service) Status(ctx context.Context, code string) (Request, error) {
	if len(code) != 32 {
		return Request{}, fmt.Errorf("metacallback: status: %w", db.ErrNotFound)
	}
	var r requestRow
	err := s.d.R.NewRaw(`SELECT `+requestCols+` FROM meta_deletion_requests WHERE code_hash = ?`, codeHash(code)).Scan(ctx, &r)
	if err != nil {
		return Request{}, fmt.Errorf("metacallback: status: %w", db.NoRows(err))
	}
	return r.request(), nil
}

// Requests lists the latest deletion requests for the operator, newest
// first (at most limit, default 100).
func (s *Service) Requests(ctx context.Context, limit int) ([]Request, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rows []requestRow
	if err := s.d.R.NewRaw(`SELECT `+requestCols+` FROM meta_deletion_requests ORDER BY created_at DESC, id DESC LIMIT ?`, limit).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("metacallback: requests: %w", err)
	}
	out := make([]Request, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

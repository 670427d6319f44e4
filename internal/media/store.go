package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// ErrUnreadable means an object's row exists but its content cannot be
// opened any more: the contact's key was destroyed (erasure) or the stored
// bytes are gone or were tampered with. Surfaces answer it like a missing
// object (404).
var ErrUnreadable = errors.New("media: object unreadable")

// Options tunes a Store.
type Options struct {
	// Now is the clock (default time.Now, in UTC).
	Now func() time.Time
	// Log receives the failures of best-effort cleanups (never content).
	Log *slog.Logger
	// MaxBytes is the largest file accepted (default DefaultMaxBytes).
	MaxBytes int64
	// URLKey signs the tokens of object URLs (Token); derive it from the
	// master key (keyring.Master.Derive("media-url/v1")). Without it,
	// Token and OpenToken fail.
	URLKey []byte
	// OrphanGrace is how old a file with no row must be before Purge
	// deletes it (default one hour): younger ones may be uploads whose row
	// is about to be written.
	OrphanGrace time.Duration
}

// Store keeps encrypted objects: the rows of media_objects and the sealed
// files in a Backend.
type Store struct {
	d   *db.DB
	kr  *keyring.Keyring
	b   Backend
	opt Options
}

// New builds a Store over d, sealing with kr and storing in b.
func New(d *db.DB, kr *keyring.Keyring, b Backend, opt Options) *Store {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.OrphanGrace <= 0 {
		opt.OrphanGrace = time.Hour
	}
	return &Store{d: d, kr: kr, b: b, opt: opt}
}

// MaxBytes is the largest file the Store accepts.
func (s *Store) MaxBytes() int64 { return s.opt.MaxBytes }

func (s *Store) now() time.Time { return s.opt.Now().UTC() }

// Object is what Parley knows about a stored file. Name is opened from its
// sealed column (empty when the contact's key is gone).
type Object struct {
	ID             string
	WorkspaceID    string
	ContactID      string
	ConversationID string
	MessageID      string
	// Kind is image, video, audio or file; ContentType is what the bytes
	// are (sniffed at upload).
	Kind        string
	ContentType string
	Size        int64
	Name        string
	CreatedBy   string
	CreatedAt   time.Time

	storageKey string
	sealedName []byte
}

// row is a media_objects row as scanned.
type row struct {
	ID             string    `bun:"id"`
	WorkspaceID    string    `bun:"workspace_id"`
	ContactID      string    `bun:"contact_id"`
	ConversationID *string   `bun:"conversation_id"`
	MessageID      *string   `bun:"message_id"`
	Kind           string    `bun:"kind"`
	ContentType    string    `bun:"content_type"`
	Size           int64     `bun:"size_bytes"`
	Name           []byte    `bun:"name"`
	StorageKey     string    `bun:"storage_key"`
	CreatedBy      string    `bun:"created_by"`
	CreatedAt      time.Time `bun:"created_at"`
}

const cols = `id, workspace_id, contact_id, conversation_id, message_id, kind, content_type, size_bytes, name, storage_key, created_by, created_at`

func (r row) object() Object {
	o := Object{ID: r.ID, WorkspaceID: r.WorkspaceID, ContactID: r.ContactID, Kind: r.Kind, ContentType: r.ContentType,
		Size: r.Size, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), storageKey: r.StorageKey, sealedName: r.Name}
	if r.ConversationID != nil {
		o.ConversationID = *r.ConversationID
	}
	if r.MessageID != nil {
		o.MessageID = *r.MessageID
	}
	return o
}

// The associated data binding each sealed value to its workspace, contact
// and object: a file copied under another object's key, or to another
// contact or workspace, fails to open.
func dataAAD(workspaceID, contactID, objectID string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "media_objects", Column: "data:" + contactID, Row: objectID}
}

func nameAAD(workspaceID, contactID, objectID string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "media_objects", Column: "name:" + contactID, Row: objectID}
}

// storageKey is where an object lives in the Backend: grouped by contact,
// so a contact's files can be removed by prefix once its rows are gone.
func storageKey(workspaceID, contactID, objectID string) string {
	return workspaceID + "/" + contactID + "/" + objectID
}

// Put stores up as a new object of the conversation's contact in the
// workspace: checks it (refusals are *validate.Error on field "file",
// nothing stored), seals it under the contact's key, writes it to the
// Backend, then records its row. db.ErrNotFound: no such conversation in
// the workspace. createdBy says who uploaded it (user:<id>, api_key:<id>).
//
// Put must not be called inside a transaction (it may create the
// contact's key through the keyring's own connection).
func (s *Store) Put(ctx context.Context, workspaceID, conversationID, createdBy string, up Upload) (Object, error) {
	c, err := check(up, s.opt.MaxBytes)
	if err != nil {
		return Object{}, err
	}
	var contactID string
	if err := s.d.R.NewRaw(`SELECT contact_id FROM conversations WHERE workspace_id = ? AND id = ?`, workspaceID, conversationID).
		Scan(ctx, &contactID); err != nil {
		return Object{}, fmt.Errorf("media: put: %w", db.NoRows(err))
	}
	o := Object{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, ContactID: contactID, ConversationID: conversationID,
		Kind: c.kind, ContentType: c.contentType, Size: int64(len(up.Data)), Name: c.name, CreatedBy: createdBy, CreatedAt: s.now()}
	o.storageKey = storageKey(workspaceID, contactID, o.ID)
	sealed, err := s.kr.SealContact(ctx, dataAAD(workspaceID, contactID, o.ID), contactID, up.Data)
	if err != nil {
		return Object{}, fmt.Errorf("media: put: %w", err)
	}
	if o.sealedName, err = s.kr.SealContact(ctx, nameAAD(workspaceID, contactID, o.ID), contactID, []byte(o.Name)); err != nil {
		return Object{}, fmt.Errorf("media: put: %w", err)
	}
	// The file first, then the row: a crash in between leaves a sealed
	// file no row points at, which Purge sweeps, never a row without its
	// file.
	if err := s.b.Put(ctx, o.storageKey, sealed); err != nil {
		return Object{}, err
	}
	_, err = s.d.W.NewRaw(`INSERT INTO media_objects (`+cols+`) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.WorkspaceID, o.ContactID, o.ConversationID, o.Kind, o.ContentType, o.Size, o.sealedName, o.storageKey, o.CreatedBy, o.CreatedAt).Exec(ctx)
	if err != nil {
		s.unlink(ctx, o.storageKey)
		return Object{}, fmt.Errorf("media: put: record: %w", err)
	}
	return o, nil
}

// Get returns the object's metadata (its name opened), scoped by workspace:
// db.ErrNotFound for an unknown or foreign ID.
func (s *Store) Get(ctx context.Context, workspaceID, id string) (Object, error) {
	o, err := s.get(ctx, s.d.R, `workspace_id = ? AND id = ?`, workspaceID, id)
	if err != nil {
		return Object{}, fmt.Errorf("media: get: %w", err)
	}
	return o, nil
}

func (s *Store) get(ctx context.Context, idb bun.IDB, where string, args ...any) (Object, error) {
	var r row
	if err := idb.NewRaw(`SELECT `+cols+` FROM media_objects WHERE `+where, args...).Scan(ctx, &r); err != nil {
		return Object{}, db.NoRows(err)
	}
	o := r.object()
	if name, err := s.kr.OpenContact(ctx, nameAAD(o.WorkspaceID, o.ContactID, o.ID), o.ContactID, o.sealedName); err == nil {
		o.Name = string(name)
	}
	return o, nil
}

// Open returns the object and its content, scoped by workspace:
// db.ErrNotFound for an unknown or foreign ID, ErrUnreadable when the
// content cannot be opened (the contact was erased, the file is gone).
func (s *Store) Open(ctx context.Context, workspaceID, id string) (Object, []byte, error) {
	o, err := s.get(ctx, s.d.R, `workspace_id = ? AND id = ?`, workspaceID, id)
	if err != nil {
		return Object{}, nil, fmt.Errorf("media: open: %w", err)
	}
	data, err := s.content(ctx, o)
	if err != nil {
		return Object{}, nil, fmt.Errorf("media: open: %w", err)
	}
	return o, data, nil
}

// content reads and opens o's file.
func (s *Store) content(ctx context.Context, o Object) ([]byte, error) {
	sealed, err := s.b.Get(ctx, o.storageKey)
	if errors.Is(err, ErrNoObject) {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if err != nil {
		return nil, err
	}
	data, err := s.kr.OpenContact(ctx, dataAAD(o.WorkspaceID, o.ContactID, o.ID), o.ContactID, sealed)
	if errors.Is(err, keyring.ErrKeyDestroyed) || errors.Is(err, keyring.ErrDecrypt) || errors.Is(err, keyring.ErrMalformed) {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}

// LinkMessage records the message that carried the object (the reply it
// was sent with). db.ErrNotFound for an unknown or foreign object.
func (s *Store) LinkMessage(ctx context.Context, workspaceID, id, messageID string) error {
	if err := db.OneRow(s.d.W.NewRaw(`UPDATE media_objects SET message_id = ? WHERE workspace_id = ? AND id = ?`,
		messageID, workspaceID, id).Exec(ctx)); err != nil {
		return fmt.Errorf("media: link message: %w", err)
	}
	return nil
}

// Delete removes an object: its file, then its row (so a failure in between
// leaves a row whose content is gone, which Open reports as ErrUnreadable
// and a later Delete or Purge finishes). db.ErrNotFound for an unknown or
// foreign object.
func (s *Store) Delete(ctx context.Context, workspaceID, id string) error {
	o, err := s.get(ctx, s.d.R, `workspace_id = ? AND id = ?`, workspaceID, id)
	if err != nil {
		return fmt.Errorf("media: delete: %w", err)
	}
	if err := s.b.Delete(ctx, o.storageKey); err != nil {
		return err
	}
	if err := db.OneRow(s.d.W.NewRaw(`DELETE FROM media_objects WHERE workspace_id = ? AND id = ?`, workspaceID, id).Exec(ctx)); err != nil {
		return fmt.Errorf("media: delete: %w", err)
	}
	return nil
}

// unlink removes a file whose row is gone or was never written; failures
// are logged (Purge's sweep finds what is left).
func (s *Store) unlink(ctx context.Context, key string) {
	if err := s.b.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.opt.Log.Warn("media: file not removed; the retention sweep will retry", "err", err)
	}
}

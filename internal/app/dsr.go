package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/retention"
)

// privacy builds the data-subject request service (promises P-34, P-40)
// and registers its export and expiry jobs, and its retention purger for
// the exports class. It runs after messaging, retention and media, before
// the job queue starts. The inbox was already given dsr.Automation (its
// one outbound path refuses automated sends to blocked contacts, and its
// ingest starts no flow for them; messaging.go).
//
// Erasure, when wired, must call a.DSR.SetEraser(the erasure service) and
// register a.DSR.ForgetContact as its "dsr" hook, so that erasing a
// contact deletes its exports and consent records and unlinks its
// requests in the erasing transaction.
func (a *App) privacy() {
	a.DSR = dsr.New(a.DB, a.Keyring, dsr.Options{
		Now: a.Now, Log: a.Log.With("component", "dsr"),
		Contacts: a.Contacts, Activity: a.Activity, Inbox: a.Inbox, Timeline: a.Timeline, Jobs: a.Jobs,
	})
	if a.Media != nil {
		a.DSR.SetMedia(mediaExport{a})
	}
	a.DSR.Register()
	if a.Retention != nil {
		a.Retention.Register(retention.ClassExports, a.DSR.PurgeExports)
	}
}

// mediaExport gives dsr exports the contact's attachments from the media
// store, opened (dsr.Media).
type mediaExport struct{ a *App }

// notIncluded is why an attachment is missing from an export, in words the
// person reading their archive understands.
const notIncluded = "could not be included: its file is missing or can no longer be opened"

// ContactObjects implements dsr.Media. An object whose file is gone or
// unreadable (media.ErrUnreadable), or that was deleted since the list was
// read, is skipped and reported; any other error (the database or the
// storage backend failing) stops the export, which is retried.
func (m mediaExport) ContactObjects(ctx context.Context, workspaceID, contactID string,
	fn func(name, contentType string, r io.Reader) error, skipped func(name, reason string)) error {
	var ids []string
	if err := m.a.DB.R.NewRaw(`SELECT id FROM media_objects WHERE workspace_id = ? AND contact_id = ? ORDER BY created_at, id`,
		workspaceID, contactID).Scan(ctx, &ids); err != nil {
		return fmt.Errorf("media export: %w", err)
	}
	for _, id := range ids {
		o, data, err := m.a.Media.Open(ctx, workspaceID, id)
		switch {
		case errors.Is(err, db.ErrNotFound):
			continue // deleted meanwhile: no longer held
		case errors.Is(err, media.ErrUnreadable):
			name := id
			if o, err := m.a.Media.Get(ctx, workspaceID, id); err == nil && o.Name != "" {
				name = id + "-" + o.Name
			}
			skipped(name, notIncluded)
			continue
		case err != nil:
			return fmt.Errorf("media export: %w", err)
		}
		name := o.Name
		if name == "" {
			name = o.ID
		}
		if err := fn(o.ID+"-"+name, o.ContentType, bytes.NewReader(data)); err != nil {
			return err
		}
	}
	return nil
}

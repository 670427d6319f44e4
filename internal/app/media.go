package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/retention"
)

// MediaURLTTL is how long the URL the platform fetches a reply's
// attachment from stays valid: the longest a queued reply can still be
// sent (the HUMAN_AGENT tag's 7 days). Meta fetches it once, when the
// Send API call is made, and keeps its own copy (is_reusable).
const MediaURLTTL = 7 * 24 * time.Hour

// MediaPath is the public path prefix of those URLs (web serves it).
const MediaPath = "/media/"

// openMedia builds the encrypted object store (promise P-31) on local disk
// under DataDir/media, after the retention service, which it registers
// attachments' purge with. On PostgreSQL with several replicas that directory
// must be shared by every replica (any of them may serve a file another
// stored) until an S3-compatible Backend is configured.
func (a *App) openMedia() error {
	disk, err := media.OpenDisk(filepath.Join(a.Config.DataDir, "media"))
	if err != nil {
		return fmt.Errorf("app: media: %w", err)
	}
	a.mediaDisk = disk
	a.Media = media.New(a.DB, a.Keyring, disk, media.Options{Now: a.Now, Log: a.Log, URLKey: a.Master.Derive("media-url/v1")})
	// Attachments' retention period (P-35); the purge also sweeps files
	// no row points at any more. Erasure's hooks are wired in erasure.go.
	if a.Retention != nil {
		a.Retention.RegisterNamed(retention.ClassAttachments, "media_objects", a.Media.Purge)
		// An attachment is part of its message: expiring message content
		// takes the attachments sent with it (their files go at the sweep).
		a.Retention.OnMessagesDeleted("media", a.Media.ForgetMessages)
	}
	a.Jobs.Register(mediaSweepKind, a.sweepMedia, job.Timeout(30*time.Minute), job.MaxAttempts(3))
	a.Jobs.Periodic("sweep orphaned media files", mediaSweepEvery, mediaSweepKind)
	return nil
}

// The media sweep: files whose row is gone (a deleted conversation's, a
// merged contact's old copies) are removed within mediaSweepEvery plus
// the store's one-hour grace, whatever the workspace's retention.
const (
	mediaSweepKind  = "media.sweep"
	mediaSweepEvery = 6 * time.Hour
	mediaSweepBatch = 1000
)

// sweepMedia runs media.Store.Sweep over every workspace, a page of
// workspaces at a time, in batches.
func (a *App) sweepMedia(ctx context.Context, _ *job.Job) error {
	after := ""
	for {
		var ids []string
		if err := a.DB.R.NewRaw(`SELECT id FROM workspaces WHERE id > ? ORDER BY id LIMIT 100`, after).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("app: media sweep: %w", err)
		}
		for _, ws := range ids {
			for {
				n, err := a.Media.Sweep(ctx, ws, mediaSweepBatch)
				if err != nil {
					return fmt.Errorf("app: media sweep: %w", err)
				}
				if n < mediaSweepBatch {
					break
				}
			}
		}
		if len(ids) < 100 {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// closeMedia releases the media directory.
func (a *App) closeMedia() {
	if a.mediaDisk != nil {
		a.mediaDisk.Close()
	}
}

// SendAttachment stores up (sealed) as an object of the conversation's
// contact and sends it, with text as its caption when given, through the
// inbox's one outbound path: the reply carries an unguessable, expiring
// Parley URL of the file, which the platform fetches when the send job
// calls its Send API (so the messaging policy, the kill switch's hold and
// the per-conversation order all apply to it as to any reply). When the
// reply is refused, the object is deleted again: nothing stays stored.
// Errors are Put's (*validate.Error, media.ErrTooLarge, db.ErrNotFound) and
// Reply's (*inbox.PolicyError, *channel.ContentError, inbox.ErrHumanOwned).
func (a *App) SendAttachment(ctx context.Context, au inbox.Author, workspaceID, conversationID string, up media.Upload, text string) (media.Object, []inbox.Message, error) {
	by := ""
	switch {
	case au.Actor.APIKeyID != "":
		by = "api_key:" + au.Actor.APIKeyID
	case au.Actor.UserID != "":
		by = "user:" + au.Actor.UserID
	}
	o, err := a.Media.Put(ctx, workspaceID, conversationID, by, up)
	if err != nil {
		return media.Object{}, nil, err
	}
	tok, err := a.Media.Token(o, a.Now().Add(MediaURLTTL))
	if err != nil {
		a.dropObject(ctx, o)
		return media.Object{}, nil, err
	}
	u := strings.TrimSuffix(a.Config.BaseURL.String(), "/") + MediaPath + tok
	c := channel.Content{Text: strings.TrimSpace(text), Attachments: []channel.Attachment{{Type: o.Kind, URL: u}}}
	msgs, err := a.Inbox.Reply(ctx, au, workspaceID, conversationID, c)
	if err != nil {
		a.dropObject(ctx, o)
		return media.Object{}, nil, err
	}
	for _, m := range msgs {
		if len(m.Content.Attachments) > 0 {
			if err := a.Media.LinkMessage(ctx, workspaceID, o.ID, m.ID); err != nil {
				a.Log.Warn("attachment not linked to its message", "workspace", workspaceID, "err", err)
			}
			o.MessageID = m.ID
		}
	}
	return o, msgs, nil
}

// dropObject deletes an object whose reply was refused.
func (a *App) dropObject(ctx context.Context, o media.Object) {
	if err := a.Media.Delete(context.WithoutCancel(ctx), o.WorkspaceID, o.ID); err != nil {
		a.Log.Warn("refused attachment not deleted; the retention sweep will remove it", "workspace", o.WorkspaceID, "err", err)
	}
}

// isAttachmentUpload reports whether a POST to path carries an attachment
// (the dashboard's and the API's), whose body may be up to
// maxAttachmentBody.
func isAttachmentUpload(path string) bool {
	return strings.HasSuffix(path, "/attachments")
}

// maxAttachmentBody is the body limit of attachment uploads: the largest
// file plus room for the multipart framing and a caption.
const maxAttachmentBody = media.DefaultMaxBytes + 1<<20

// attachmentLimit is the bodyLimit rule for attachment uploads, or 0.
func attachmentLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && isAttachmentUpload(r.URL.Path) {
		return maxAttachmentBody
	}
	return 0
}

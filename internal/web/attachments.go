package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/validate"
)

// AttachmentSender stores an uploaded file sealed under the conversation's
// contact's key and sends it, with text as its caption, through the
// inbox's outbound path (the app's SendAttachment).
type AttachmentSender func(ctx context.Context, a inbox.Author, workspaceID, conversationID string, up media.Upload, text string) (media.Object, []inbox.Message, error)

// sendAttachment is the reply box's "Send file": the file (and an optional
// caption) goes to the contact as its own message. Refusals (too large, a
// type Parley does not send, the messaging policy) show the conversation
// again with the reason under the file input; nothing is stored.
func (d *Dashboard) sendAttachment(w http.ResponseWriter, r *http.Request) error {
	ws, id := scopeWS(r), r.PathValue("conversation_id")
	if d.Media == nil || d.SendAttachment == nil {
		return httpx.Internal(errors.New("web: attachments are not wired"))
	}
	f := &form{Values: url.Values{}, Errors: map[string]string{}}
	mr, err := r.MultipartReader()
	if err != nil {
		return d.showProblem(w, r, http.StatusBadRequest, f, "file", "Choose a file to send.")
	}
	up, fields, err := media.ReadForm(mr, d.Media.MaxBytes())
	if err == nil {
		f.Values.Set("caption", fields["text"])
		user := access.PrincipalFrom(r.Context()).User
		_, _, err = d.SendAttachment(r.Context(), inbox.Author{Type: inbox.SenderAgent, ID: user.ID, Actor: access.Actor(r)}, ws, id, up, fields["text"])
		clear(up.Data)
	}
	if err == nil {
		return redirect(w, r, conversationPath(ws, id))
	}
	var (
		pe *inbox.PolicyError
		ce *channel.ContentError
	)
	switch {
	case errors.Is(err, media.ErrTooLarge):
		v, _ := validate.As(err)
		return d.showProblem(w, r, http.StatusRequestEntityTooLarge, f, "file", v.Message)
	case errors.As(err, &pe):
		return d.showProblem(w, r, http.StatusUnprocessableEntity, f, "file", pe.Decision.Explanation)
	case errors.As(err, &ce):
		return d.showProblem(w, r, http.StatusUnprocessableEntity, f, "file", ce.Message)
	}
	if v, ok := validate.As(err); ok {
		return d.showProblem(w, r, http.StatusUnprocessableEntity, f, "file", v.Message)
	}
	return notFound(err, "conversation")
}

// mediaObject serves an attachment to a member of its workspace, opened
// from its sealed copy: the timeline's previews and downloads. Another
// workspace's object, an unknown one and one whose contact was erased are
// all 404.
func (d *Dashboard) mediaObject(w http.ResponseWriter, r *http.Request) error {
	if d.Media == nil {
		return httpx.NotFound("attachment")
	}
	o, data, err := d.Media.Open(r.Context(), scopeWS(r), r.PathValue("object_id"))
	if err != nil {
		return objectNotFound(err)
	}
	writeObject(w, o, data)
	return nil
}

// publicMedia serves an attachment to whoever holds its signed, expiring
// token: the URL the platform fetches a reply's file from when the send
// job calls its Send API. A wrong, altered or expired token is a 404 like
// an unknown one.
func (d *Dashboard) publicMedia(w http.ResponseWriter, r *http.Request) error {
	if d.Media == nil {
		return httpx.NotFound("attachment")
	}
	o, data, err := d.Media.OpenToken(r.Context(), r.PathValue("token"))
	if err != nil {
		return objectNotFound(err)
	}
	writeObject(w, o, data)
	return nil
}

func objectNotFound(err error) error {
	if errors.Is(err, media.ErrUnreadable) || errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("attachment")
	}
	return err
}

// writeObject sends an object's bytes so that no browser runs them:
// images, video and audio inline with their sniffed type, anything else
// as a download (security.md J-4; httpx.WriteFile).
func writeObject(w http.ResponseWriter, o media.Object, data []byte) {
	httpx.WriteFile(w, o.ContentType, o.Name, o.Kind != media.KindFile, data)
}

// attachmentPreviews points the thread row of m at Parley's own copy of
// the files it sent: a link to the member-only route, and an image preview
// for photos, instead of the signed URL the platform fetched (which
// expires, and is not for members' browsers).
func (d *Dashboard) attachmentPreviews(wsID string, m inbox.Message, row *messageRow) {
	prefix := strings.TrimSuffix(d.BaseURL, "/") + d.MediaPath
	if d.MediaPath == "" || m.Direction != inbox.Out {
		return
	}
	for _, a := range m.Content.Attachments {
		tok, ok := strings.CutPrefix(a.URL, prefix)
		if !ok {
			continue
		}
		id, ok := media.ObjectIDOf(tok)
		if !ok {
			continue
		}
		local := "/w/" + wsID + "/media/" + id
		for i := range row.Body.Extras {
			e := &row.Body.Extras[i]
			if e.URL != a.URL {
				continue
			}
			e.URL = local
			if a.Type == channel.AttachImage {
				e.Image = local
			}
		}
	}
}

package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/validate"
)

// AttachmentSender stores an uploaded file sealed under the conversation's
// contact's key and sends it, with text as its caption, through the
// inbox's outbound path (the app's SendAttachment). Errors: media's
// refusals (*validate.Error, media.ErrTooLarge), db.ErrNotFound and the
// inbox's (*inbox.PolicyError, *channel.ContentError).
type AttachmentSender func(ctx context.Context, a inbox.Author, workspaceID, conversationID string, up media.Upload, text string) (media.Object, []inbox.Message, error)

// attachmentJSON is a stored attachment. Its content is at content_url,
// for members of the workspace only.
type attachmentJSON struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	ContactID      string    `json:"contact_id"`
	MessageID      string    `json:"message_id"`
	Kind           string    `json:"kind"`
	ContentType    string    `json:"content_type"`
	Size           int64     `json:"size"`
	Name           string    `json:"name"`
	ContentURL     string    `json:"content_url"`
	CreatedAt      time.Time `json:"created_at"`
}

func toAttachmentJSON(o media.Object) attachmentJSON {
	return attachmentJSON{ID: o.ID, ConversationID: o.ConversationID, ContactID: o.ContactID, MessageID: o.MessageID,
		Kind: o.Kind, ContentType: o.ContentType, Size: o.Size, Name: o.Name,
		ContentURL: "/api/v1/workspaces/" + o.WorkspaceID + "/attachments/" + o.ID + "/content", CreatedAt: o.CreatedAt}
}

// sendAttachment takes a multipart/form-data body (a "file" part and an
// optional "text" caption), stores the file sealed (promise P-31) and
// sends it to the conversation's contact through the messaging policy.
// 201 with the attachment and the queued messages; 413 for a file over
// the limit; 422 for an empty or unaccepted file; nothing is stored on
// any refusal.
func (a *API) sendAttachment(w http.ResponseWriter, r *http.Request) error {
	ws, id := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("conversation_id")
	// Another workspace's conversation is a 404 whatever the body says.
	if _, err := a.Inbox.Conversation(r.Context(), ws, id); err != nil {
		return conversationError(err)
	}
	if a.Media == nil || a.SendAttachment == nil {
		return httpx.Internal(errors.New("api: attachments are not wired"))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return httpx.BadRequest("invalid_body", "Send the file as multipart/form-data, in a part named file.")
	}
	up, fields, err := media.ReadForm(mr, a.Media.MaxBytes())
	if err != nil {
		return attachmentError(err)
	}
	author := inbox.Author{Type: inbox.SenderAgent, Actor: access.Actor(r)}
	if p := access.PrincipalFrom(r.Context()); p.User != nil {
		author.ID = p.User.ID
	} else if p.APIKey != nil {
		author.ID = p.APIKey.ID
	}
	o, ms, err := a.SendAttachment(r.Context(), author, ws, id, up, fields["text"])
	clear(up.Data)
	if err != nil {
		return attachmentError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"attachment": toAttachmentJSON(o), "messages": toMessagesJSON(ms)})
}

// attachment returns one attachment's description.
func (a *API) attachment(w http.ResponseWriter, r *http.Request) error {
	if a.Media == nil {
		return httpx.NotFound("attachment")
	}
	o, err := a.Media.Get(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("attachment_id"))
	if err != nil {
		return objectError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"attachment": toAttachmentJSON(o)})
}

// attachmentContent returns an attachment's bytes, opened from their
// sealed copy. 404 for another workspace's attachment and for one whose
// contact was erased (its key is gone).
func (a *API) attachmentContent(w http.ResponseWriter, r *http.Request) error {
	if a.Media == nil {
		return httpx.NotFound("attachment")
	}
	o, data, err := a.Media.Open(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("attachment_id"))
	if err != nil {
		return objectError(err)
	}
	writeObject(w, o, data)
	return nil
}

// writeObject sends an object's bytes so that no browser runs them:
// images, video and audio inline with their sniffed type, anything else
// as a download (security.md J-4; httpx.WriteFile).
func writeObject(w http.ResponseWriter, o media.Object, data []byte) {
	httpx.WriteFile(w, o.ContentType, o.Name, o.Kind != media.KindFile, data)
}

// attachmentError maps media's refusals; the rest is conversationError's.
func attachmentError(err error) error {
	if errors.Is(err, media.ErrTooLarge) {
		v, _ := validate.As(err)
		return &httpx.Error{Status: http.StatusRequestEntityTooLarge, Code: "file_too_large", Field: "file", Message: v.Message}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &httpx.Error{Status: http.StatusRequestEntityTooLarge, Code: "file_too_large", Field: "file", Message: "The upload is too large."}
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return conversationError(err)
}

// objectError maps the errors of reading an attachment: another
// workspace's, an unknown one and one that cannot be opened any more (its
// contact was erased) are all 404.
func objectError(err error) error {
	if errors.Is(err, media.ErrUnreadable) || errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("attachment")
	}
	return httpx.Internal(err)
}

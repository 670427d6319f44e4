package app

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/erasure"
	"github.com/parleyhq/parley/internal/realtime"
)

// newErasure builds the erasure service (issue 6 item 4, promises P-33,
// P-34) right after messaging, so that what is wired after it (media,
// data-subject requests, the Meta callbacks, workspace deletion) can
// register hooks with it or erase through it.
func (a *App) newErasure() {
	a.Erasure = erasure.New(a.DB, a.Keyring, erasure.Options{
		Now: a.Now, Log: a.Log.With("component", "erasure"), Master: a.Master,
	})
}

// wireErasure connects erasure to what keeps a contact outside the tables
// package erasure deletes from itself, once those are built: media
// objects (their rows in the erasing transaction, their files after it
// commits) and data-subject records (exports, consent records, request
// links), and gives the data-subject service, the API and the dashboard
// the app's EraseContact (which also tells open dashboards).
func (a *App) wireErasure() {
	if a.Media != nil {
		a.Erasure.OnErase("media", a.Media.EraseContact)
		a.Erasure.AfterErase("media", a.Media.UnlinkContact)
	}
	if a.DSR != nil {
		a.Erasure.OnErase("dsr", a.DSR.ForgetContact)
		a.DSR.SetEraser(a)
	}
	a.API.EraseContact, a.API.DeleteConversation = a.EraseContact, a.DeleteConversation
	a.Web.EraseContact, a.Web.DeleteConversation = a.EraseContact, a.DeleteConversation
}

// EraseContact erases the workspace's contact everywhere and destroys its
// key (erasure.Service.EraseContact, as actor), then tells open
// dashboards, by IDs only, that the contact and its conversations are
// gone (they reload, and find nothing). db.ErrNotFound for a contact that
// is not the workspace's.
func (a *App) EraseContact(ctx context.Context, actor audit.Actor, workspaceID, contactID string) error {
	// Read before: afterwards nothing names them. A conversation created
	// in between is erased too and only misses its hint.
	var convs []string
	if err := a.DB.R.NewRaw(`SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ?`, workspaceID, contactID).Scan(ctx, &convs); err != nil {
		return err
	}
	if err := a.Erasure.EraseContact(ctx, actor, workspaceID, contactID); err != nil {
		return err
	}
	events := []realtime.Event{{WorkspaceID: workspaceID, Kind: realtime.KindContact, ContactID: contactID}}
	for _, c := range convs {
		events = append(events, realtime.Event{WorkspaceID: workspaceID, Kind: realtime.KindConversation, ConversationID: c, ContactID: contactID})
	}
	a.publishGone(ctx, events)
	return nil
}

// DeleteConversation deletes the workspace's conversation with its
// messages, notes and flow session (erasure.Service.DeleteConversation),
// then tells open dashboards. db.ErrNotFound for a conversation that is
// not the workspace's.
func (a *App) DeleteConversation(ctx context.Context, actor audit.Actor, workspaceID, conversationID string) error {
	if err := a.Erasure.DeleteConversation(ctx, actor, workspaceID, conversationID); err != nil {
		return err
	}
	a.publishGone(ctx, []realtime.Event{{WorkspaceID: workspaceID, Kind: realtime.KindConversation, ConversationID: conversationID}})
	return nil
}

// publishGone sends live-update hints after a deletion; like
// publishChange, a lost hint is only logged.
func (a *App) publishGone(ctx context.Context, events []realtime.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	for _, ev := range events {
		if err := a.Events.Publish(ctx, ev); err != nil && !errors.Is(err, realtime.ErrHubClosed) {
			a.Log.Warn("live update not published", "workspace", ev.WorkspaceID, "kind", string(ev.Kind), "err", err)
			return
		}
	}
}

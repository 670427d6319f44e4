package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/httpx"
)

// Deleting a contact (erasure: everywhere, key destroyed) or one
// conversation (promise P-33): a page that says exactly what will be gone
// and what stays, and a confirmation — typing a word for a contact, whose
// erasure reaches every copy, ticking a box for a conversation. Admins
// only; both stay open once a trial has ended.

// EraseFunc erases one of the workspace's contacts or conversations (the
// app's EraseContact and DeleteConversation); db.ErrNotFound when it is
// not the workspace's.
type EraseFunc func(ctx context.Context, a audit.Actor, workspaceID, id string) error

// eraseWord is what an admin types to confirm a contact's erasure.
const eraseWord = "delete"

// eraseView is the confirmation page.
type eraseView struct {
	// Kind is "contact" or "conversation"; Name who it is about; On the
	// conversation's channel.
	Kind, Name, On string
	// Back is where "Cancel" goes, Action where the form posts.
	Back, Action string
	// Gone lists what will be deleted, Stays what will not.
	Gone, Stays []string
	// Word is the word to type; "" for a checkbox.
	Word string
}

func contactErasePath(wsID, id string) string { return contactPath(wsID, id) + "/delete" }
func conversationDeletePath(wsID, id string) string {
	return conversationPath(wsID, id) + "/delete"
}

// plural says n things in words ("1 message", "3 messages").
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// eraseCount counts rows for the confirmation page.
func (d *Dashboard) eraseCount(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	if err := d.DB.R.NewRaw(q, args...).Scan(ctx, &n); err != nil {
		return 0, httpx.Internal(err)
	}
	return n, nil
}

func (d *Dashboard) eraseContactPage(w http.ResponseWriter, r *http.Request) error {
	p, err := d.eraseContactLoad(r, newForm(r))
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "erase_confirm", p)
}

// eraseContactLoad builds the contact's confirmation page.
func (d *Dashboard) eraseContactLoad(r *http.Request, f *form) (*page, error) {
	ct, err := d.profileContact(r)
	if err != nil {
		return nil, err
	}
	p, err := d.newPage(r, "Delete contact")
	if err != nil {
		return nil, err
	}
	p.Nav, p.Form = "contacts", f
	ctx, ws := r.Context(), p.WS.ID
	convs, err := d.eraseCount(ctx, `SELECT count(*) FROM conversations WHERE workspace_id = ? AND contact_id = ?`, ws, ct.ID)
	if err != nil {
		return nil, err
	}
	msgs, err := d.eraseCount(ctx, `SELECT count(*) FROM messages WHERE workspace_id = ? AND contact_id = ?`, ws, ct.ID)
	if err != nil {
		return nil, err
	}
	p.Data = &eraseView{
		Kind: "contact", Name: orUnnamed(ct.DisplayName()), Back: contactPath(ws, ct.ID), Action: contactErasePath(ws, ct.ID), Word: eraseWord,
		Gone: []string{
			"The contact, its name, picture, channel IDs, custom fields and tags",
			plural(convs, "conversation", "conversations") + " with " + plural(msgs, "message", "messages") + " both ways, private notes and mentions",
			"Its activity log and notes, cards on the boards, flow sessions and their answers",
			"Its search entries, attachments and exports, and queued jobs and webhook events about it",
			"Its encryption key: copies of its data in backups can no longer be read",
		},
		Stays: []string{
			"A record that a contact was erased, by whom and when, naming it only by a one-way code",
			"If the person writes again, they start as a new contact",
		},
	}
	return p, nil
}

// eraseContact erases the contact once the word is typed, then goes to
// the contact list.
func (d *Dashboard) eraseContact(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	if _, err := d.profileContact(r); err != nil {
		return err
	}
	f := newForm(r, "confirm")
	var err error
	switch {
	case d.EraseContact == nil:
		return httpx.Internal(errors.New("web: erase contact: not wired"))
	case !strings.EqualFold(strings.TrimSpace(r.PostFormValue("confirm")), eraseWord):
		err = httpx.Invalid("confirm", "Type "+eraseWord+" to confirm: this cannot be undone.")
	default:
		err = d.EraseContact(r.Context(), access.Actor(r), ws, r.PathValue("contact_id"))
		if err == nil {
			return redirect(w, r, contactsPath(ws))
		}
		if nf := notFound(err, "contact"); nf != err {
			return nf
		}
		return httpx.Internal(err)
	}
	status, ierr := f.fail(w, err, "confirm")
	if ierr != nil {
		return ierr
	}
	p, lerr := d.eraseContactLoad(r, f)
	if lerr != nil {
		return lerr
	}
	return d.render(w, status, "erase_confirm", p)
}

func (d *Dashboard) deleteConversationPage(w http.ResponseWriter, r *http.Request) error {
	p, err := d.deleteConversationLoad(r, newForm(r))
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "erase_confirm", p)
}

// deleteConversationLoad builds the conversation's confirmation page.
func (d *Dashboard) deleteConversationLoad(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Delete conversation")
	if err != nil {
		return nil, err
	}
	p.Nav, p.Form = "conversations", f
	ws := p.WS.ID
	c, ch, ct, err := d.loadConversation(r, ws)
	if err != nil {
		return nil, err
	}
	msgs, err := d.eraseCount(r.Context(), `SELECT count(*) FROM messages WHERE workspace_id = ? AND conversation_id = ?`, ws, c.ID)
	if err != nil {
		return nil, err
	}
	name := orUnnamed(ct.DisplayName())
	p.Data = &eraseView{
		Kind: "conversation", Name: name, On: ch.Name, Back: conversationPath(ws, c.ID), Action: conversationDeletePath(ws, c.ID),
		Gone: []string{
			plural(msgs, "message", "messages") + " both ways, with their attachments",
			"Its private notes, mentions and history (assignments, status changes)",
			"Its flow session and queued jobs",
		},
		Stays: []string{
			name + " as a contact, with their fields, tags, notes and activity",
			"A record that the conversation was deleted, by whom and when",
			"If " + name + " writes again, a new conversation starts",
		},
	}
	return p, nil
}

// deleteConversation deletes the conversation once confirmed, then goes
// to the inbox.
func (d *Dashboard) deleteConversation(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	if _, err := d.Inbox.Conversation(r.Context(), ws, r.PathValue("conversation_id")); err != nil {
		return notFound(err, "conversation")
	}
	f := newForm(r, "confirm")
	var err error
	switch {
	case d.DeleteConversation == nil:
		return httpx.Internal(errors.New("web: delete conversation: not wired"))
	case r.PostFormValue("confirm") != "yes":
		err = httpx.Invalid("confirm", "Tick the box to confirm: this cannot be undone.")
	default:
		err = d.DeleteConversation(r.Context(), access.Actor(r), ws, r.PathValue("conversation_id"))
		if err == nil {
			return redirect(w, r, conversationsPath(ws))
		}
		if nf := notFound(err, "conversation"); nf != err {
			return nf
		}
		return httpx.Internal(err)
	}
	status, ierr := f.fail(w, err, "confirm")
	if ierr != nil {
		return ierr
	}
	p, lerr := d.deleteConversationLoad(r, f)
	if lerr != nil {
		return lerr
	}
	return d.render(w, status, "erase_confirm", p)
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/workspace"
)

// nullableID is a body field that may be absent (keep), null or "" (clear)
// or an ID (set): assignee_id and team_id of a conversation.
type nullableID struct {
	Set bool
	ID  string
}

// UnmarshalJSON implements json.Unmarshaler; encoding/json calls it for
// null too, which is how null is told from absent.
func (n *nullableID) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(b, []byte("null")) {
		n.ID = ""
		return nil
	}
	if err := json.Unmarshal(b, &n.ID); err != nil {
		// The decoder adds the field's name to a type error.
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[string]()}
	}
	return nil
}

// conversationPatch is what PATCH changes; absent fields are kept.
type conversationPatch struct {
	Owner        *string    `json:"owner"`
	Status       *string    `json:"status"`
	SnoozedUntil *string    `json:"snoozed_until"`
	AssigneeID   nullableID `json:"assignee_id"`
	TeamID       nullableID `json:"team_id"`
}

// conversationChanges is a patch checked and resolved ("me" to the
// caller's user ID), ready to apply.
type conversationChanges struct {
	owner      inbox.Owner
	status     inbox.Status
	until      time.Time
	assignee   nullableID
	team       nullableID
	hasOwner   bool
	hasStatus  bool
	hasChanges bool
}

// updateConversation changes a conversation's assignee, team, owner and
// status (snoozing it until snoozed_until), in that order, so that an
// explicit owner wins over the takeover an assignment implies and an
// explicit status over the reopening a takeover implies. Every field is
// checked before anything changes: a bad one (422, or 404 for an
// assignee or team that is not the workspace's) changes nothing.
//
// Owner changes follow the inbox's state machine: "human" takes the
// conversation over (every automated sender pauses), "bot" returns it to
// the bot, "ai" gives it to the AI agent, "nobody" leaves it to nobody.
func (a *API) updateConversation(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	id := r.PathValue("conversation_id")
	if _, err := a.Inbox.Conversation(r.Context(), ws, id); err != nil {
		return conversationError(err)
	}
	var in conversationPatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	ch, err := a.checkPatch(r, ws, in)
	if err != nil {
		return err
	}
	actor := access.Actor(r)
	if ch.assignee.Set {
		if err := a.Inbox.Assign(r.Context(), actor, ws, id, ch.assignee.ID); err != nil {
			return changeError(err, "assignee_id")
		}
	}
	if ch.team.Set {
		if err := a.Inbox.SetTeam(r.Context(), actor, ws, id, ch.team.ID); err != nil {
			return changeError(err, "team_id")
		}
	}
	if ch.hasOwner {
		if err := a.Inbox.SetOwner(r.Context(), actor, ws, id, ch.owner); err != nil {
			return changeError(err, "owner")
		}
	}
	if ch.hasStatus {
		if ch.status == inbox.StatusSnoozed {
			err = a.Inbox.Snooze(r.Context(), actor, ws, id, ch.until)
		} else {
			err = a.Inbox.SetStatus(r.Context(), actor, ws, id, ch.status)
		}
		if err != nil {
			return changeError(err, "status")
		}
	}
	return a.writeConversation(w, r, ws, id)
}

// checkPatch validates in against the workspace without changing
// anything.
func (a *API) checkPatch(r *http.Request, ws string, in conversationPatch) (conversationChanges, error) {
	ch := conversationChanges{assignee: in.AssigneeID, team: in.TeamID}
	if in.Owner == nil && in.Status == nil && in.SnoozedUntil == nil && !in.AssigneeID.Set && !in.TeamID.Set {
		return ch, httpx.BadRequest("nothing_to_change", "Send owner, status, snoozed_until, assignee_id or team_id.")
	}
	if in.Owner != nil {
		switch o := inbox.Owner(*in.Owner); o {
		case inbox.OwnerBot, inbox.OwnerAI, inbox.OwnerHuman, inbox.OwnerNobody:
			ch.owner, ch.hasOwner = o, true
		default:
			return ch, httpx.Invalid("owner", `owner must be one of "bot", "ai", "human" or "nobody".`)
		}
	}
	if in.Status != nil {
		switch st := inbox.Status(*in.Status); st {
		case inbox.StatusOpen, inbox.StatusPending, inbox.StatusResolved, inbox.StatusSnoozed:
			ch.status, ch.hasStatus = st, true
		default:
			return ch, httpx.Invalid("status", `status must be "open", "pending", "snoozed" or "resolved".`)
		}
	}
	if in.SnoozedUntil != nil {
		if ch.hasStatus && ch.status != inbox.StatusSnoozed {
			return ch, httpx.Invalid("snoozed_until", `snoozed_until goes with status "snoozed" (or alone).`)
		}
		until, err := time.Parse(time.RFC3339, *in.SnoozedUntil)
		now := a.Now()
		if err != nil {
			return ch, httpx.Invalid("snoozed_until", "snoozed_until must be a time like 2026-11-22T09:00:00Z.")
		}
		if !until.After(now) || until.Sub(now) > inbox.MaxSnooze {
			return ch, httpx.Invalid("snoozed_until", "snoozed_until must be in the future, at most a year from now.")
		}
		ch.status, ch.hasStatus, ch.until = inbox.StatusSnoozed, true, until
	} else if ch.hasStatus && ch.status == inbox.StatusSnoozed {
		return ch, httpx.Invalid("snoozed_until", "Snoozing needs snoozed_until: when the conversation wakes up.")
	}
	if ch.assignee.Set && ch.assignee.ID != "" {
		if ch.assignee.ID == "me" {
			p := access.PrincipalFrom(r.Context())
			if p == nil || p.User == nil {
				return ch, &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "assignee_me_needs_user", Field: "assignee_id",
					Message: `"me" means the signed-in member; an API key is nobody. Send the member's user ID.`}
			}
			ch.assignee.ID = p.User.ID
		}
		role, err := a.Workspaces.MemberRole(r.Context(), ws, ch.assignee.ID)
		if errors.Is(err, db.ErrNotFound) {
			return ch, httpx.NotFound("member")
		}
		if err != nil {
			return ch, httpx.Internal(err)
		}
		if !role.AtLeast(workspace.RoleAgent) {
			return ch, httpx.Invalid("assignee_id", "A viewer cannot be assigned conversations: assign an agent, an admin or an owner.")
		}
	}
	if ch.team.Set && ch.team.ID != "" {
		ok, err := a.Teams.Has(r.Context(), a.DB.R, ws, ch.team.ID)
		if err != nil {
			return ch, httpx.Internal(err)
		}
		if !ok {
			return ch, httpx.NotFound("team")
		}
	}
	return ch, nil
}

// changeError maps what the inbox refuses when a checked change is
// applied: the conversation gone meanwhile (404), or a change its state
// machine does not allow (422 naming the field).
func changeError(err error, field string) error {
	switch {
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("conversation")
	case errors.Is(err, inbox.ErrInvalid):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_change", Field: field,
			Message: "The conversation cannot change this way now; reload it and try again.", Err: err}
	}
	return conversationError(err)
}

// writeConversation answers with the conversation as it now is.
func (a *API) writeConversation(w http.ResponseWriter, r *http.Request, ws, id string) error {
	c, err := a.Inbox.Conversation(r.Context(), ws, id)
	if err != nil {
		return conversationError(err)
	}
	ct, err := a.Contacts.Get(r.Context(), ws, c.ContactID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toConversationJSON(c, ct.DisplayName()))
}

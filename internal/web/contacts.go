package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// A contact's profile (promise P-25): every channel identity, the lead,
// pipelines, tags, fields, and the activity log with notes. The list of
// contacts is contacts_list.go.

// activityPage is how many entries of a profile's activity show at a
// time.
const activityPage = 20

func contactsPath(wsID string) string    { return "/w/" + wsID + "/contacts" }
func contactPath(wsID, id string) string { return contactsPath(wsID) + "/" + id }
func activityID(entryID string) string   { return "entry-" + entryID }
func activityMore(wsID, id, before string) string {
	return contactPath(wsID, id) + "/activity?before=" + before
}

// contactRow is a contact in a short list (the merge page's candidates).
type contactRow struct {
	ID, Name, Initials, Stage, Since string
}

// profileView is a contact's profile.
type profileView struct {
	ID, Name, Initials, Since string
	Identities                []identityRow
	Stage, StageNote          string
	Subscribed                bool
	SubscriptionNote          string
	Tags                      []contact.Tag
	Fields                    []fieldInput
	Placements                []placementRow
	// AddTo lists the pipelines' stages the contact can be put in.
	AddTo      []pipeline.Pipeline
	CanEdit    bool
	Activity   activityView
	NoteAction string
}

type identityRow struct {
	Channel, Kind, ExternalID, Since string
	Merged                           bool
}

type placementRow struct {
	PipelineID, Pipeline, Stage, Since, Board string
}

// activityView is a page of a contact's activity, which "Load more"
// continues.
type activityView struct {
	Entries []activityRow
	More    string
	// Empty is said when the contact has no activity at all.
	Empty bool
}

// activityRow is one entry in words.
type activityRow struct {
	ID, Kind, Who, What, When string
	// Text is a note's text.
	Text string
	// Delete is the address deleting the note, for its author or an admin.
	Delete string
	Edited bool
}

// profileContact returns the workspace's contact named in the path.
func (d *Dashboard) profileContact(r *http.Request) (contact.Contact, error) {
	c, err := d.Contacts.Get(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("contact_id"))
	return c, notFound(err, "contact")
}

func (d *Dashboard) contactProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := d.profilePage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "contact_profile", p)
}

// profilePage loads a contact's whole profile; f carries the note
// composer's text and error.
func (d *Dashboard) profilePage(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Contact")
	if err != nil {
		return nil, err
	}
	p.Nav = "contacts"
	ct, err := d.profileContact(r)
	if err != nil {
		return nil, err
	}
	ctx, ws, now := r.Context(), p.WS.ID, d.Now()
	names, err := d.memberNames(r, ws)
	if err != nil {
		return nil, err
	}
	v := &profileView{ID: ct.ID, Name: orUnnamed(ct.DisplayName()), Since: ago(ct.CreatedAt, now),
		CanEdit: p.Can(workspace.RoleAgent) && !p.ReadOnly(), NoteAction: contactPath(ws, ct.ID) + "/notes"}
	v.Initials = initials(v.Name)
	channels, err := d.channelNames(r, ws)
	if err != nil {
		return nil, err
	}
	ids, err := d.Contacts.Identities(ctx, ws, ct.ID)
	if err != nil {
		return nil, notFound(err, "contact")
	}
	for _, id := range ids {
		ch := channels[id.ChannelID]
		row := identityRow{Channel: ch.Name, Kind: channelKind(string(ch.Type)), ExternalID: id.ExternalID, Since: ago(id.Since, now), Merged: id.Merged}
		if row.Channel == "" {
			row.Channel = "A channel since removed"
		}
		v.Identities = append(v.Identities, row)
	}
	// The lead and custom fields, read as the conversation panel reads
	// them (editing stays on the conversation page, next to the chat).
	panel, err := d.loadPanel(r, p.WS, "", ct, true, nil)
	if err != nil {
		return nil, err
	}
	v.Stage, v.StageNote, v.Subscribed, v.SubscriptionNote = ct.Stage, panel.StageNote, ct.Subscribed, panel.SubscriptionNote
	v.Tags, v.Fields = panel.Tags, panel.Fields
	placements, err := d.Pipelines.CardsOf(ctx, ws, ct.ID)
	if err != nil {
		return nil, err
	}
	on := map[string]bool{}
	for _, pl := range placements {
		on[pl.PipelineID] = true
		v.Placements = append(v.Placements, placementRow{PipelineID: pl.PipelineID, Pipeline: pl.PipelineName, Stage: pl.StageName,
			Since: inStage(pl.MovedAt, now), Board: pipelinePath(ws, pl.PipelineID)})
	}
	all, err := d.Pipelines.Pipelines(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, pl := range all {
		if !on[pl.ID] {
			v.AddTo = append(v.AddTo, pl)
		}
	}
	if v.Activity, err = d.loadActivity(r, p.WS, ct.ID, "", names); err != nil {
		return nil, err
	}
	if f == nil {
		f = newForm(r)
	}
	p.Title, p.Form, p.Data = v.Name, f, v
	return p, nil
}

// channelKind names a channel type for people.
func channelKind(t string) string {
	switch t {
	case "messenger":
		return "Messenger"
	case "instagram":
		return "Instagram"
	case "whatsapp":
		return "WhatsApp"
	case "webchat":
		return "Web chat"
	}
	return t
}

// inStage says how long a card has been in its stage.
func inStage(since, now time.Time) string {
	d := now.Sub(since)
	switch {
	case d < time.Hour:
		return "Moved here just now"
	case d < 24*time.Hour:
		return count(int(d/time.Hour), "hour") + " in this stage"
	default:
		return count(int(d/(24*time.Hour)), "day") + " in this stage"
	}
}

// loadActivity reads a page of the contact's activity, older than before
// ("" for the newest), in words.
func (d *Dashboard) loadActivity(r *http.Request, ws *workspace.Membership, contactID, before string, names map[string]string) (activityView, error) {
	es, err := d.Activity.List(r.Context(), ws.ID, contactID, before, activityPage)
	if err != nil {
		return activityView{}, err
	}
	v := activityView{Empty: before == "" && len(es) == 0}
	if len(es) == activityPage {
		v.More = activityMore(ws.ID, contactID, es[len(es)-1].ID)
	}
	self := ""
	if pr := access.PrincipalFrom(r.Context()); pr != nil && pr.User != nil {
		self = "user:" + pr.User.ID
	}
	admin := ws.Role.AtLeast(workspace.RoleAdmin)
	now := d.Now()
	for _, e := range es {
		row := activityRow{ID: activityID(e.ID), Kind: e.Kind, Who: actorWords(e.Actor, names), When: ago(e.At, now), Edited: !e.EditedAt.IsZero()}
		row.What = activityWords(e)
		if e.Kind == activity.KindNote {
			row.Text = e.Data["text"]
			if ws.Role.AtLeast(workspace.RoleAgent) && (e.Actor == self || admin) {
				row.Delete = contactPath(ws.ID, contactID) + "/notes/" + e.ID + "/delete"
			}
		}
		v.Entries = append(v.Entries, row)
	}
	return v, nil
}

// actorWords names who did something, from its author string.
func actorWords(actor string, names map[string]string) string {
	kind, id, _ := strings.Cut(actor, ":")
	switch kind {
	case "user":
		if n := names[id]; n != "" {
			return n
		}
		return "A former member"
	case "api_key":
		return "Your software, through the API,"
	case "flow":
		return "A flow"
	case "ai":
		return "The AI agent"
	}
	return "Parley"
}

// activityWords says what an entry tells, after its author's name.
func activityWords(e activity.Entry) string {
	d := e.Data
	switch e.Kind {
	case activity.KindNote:
		return "wrote a note"
	case activity.KindPipeline:
		from, to, board := d[pipeline.DataFromStage], d[pipeline.DataToStage], d[pipeline.DataPipeline]
		switch {
		case from == "" && to != "":
			return "put them in “" + to + "” on " + board
		case to == "":
			return "took them off " + board + " (they were in “" + from + "”)"
		default:
			return "moved them from “" + from + "” to “" + to + "” on " + board
		}
	case activity.KindStage:
		if d["to"] == "" {
			return "took them out of their lead stage"
		}
		return "set their lead stage to “" + d["to"] + "”"
	case activity.KindCall:
		return "logged a call"
	case activity.KindImport:
		return "imported them from a spreadsheet"
	case activity.KindMerge:
		return "merged another contact into this one"
	case activity.KindField:
		return "changed a field"
	case activity.KindTag:
		return "changed their tags"
	case activity.KindConversation:
		return "had a conversation with them"
	case activity.KindBooking:
		return "booked an appointment"
	}
	return "did something"
}

// moreActivity answers "Load more": the next entries, and the next button.
func (d *Dashboard) moreActivity(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	ct, err := d.profileContact(r)
	if err != nil {
		return err
	}
	names, err := d.memberNames(r, s.Workspace.ID)
	if err != nil {
		return err
	}
	ws := &workspace.Membership{Workspace: *s.Workspace, Role: s.Role}
	v, err := d.loadActivity(r, ws, ct.ID, r.URL.Query().Get("before"), names)
	if err != nil {
		return err
	}
	return d.renderFragment(w, "contact_profile", "activity-entries", v)
}

// addContactNote writes a note on the profile. A refused note comes back
// in the composer with what was typed.
func (d *Dashboard) addContactNote(w http.ResponseWriter, r *http.Request) error {
	ct, err := d.profileContact(r)
	if err != nil {
		return err
	}
	_, err = d.Activity.AddNote(r.Context(), access.Actor(r), ct.WorkspaceID, ct.ID, r.PostFormValue("text"))
	if v, ok := validate.As(err); ok {
		f := newForm(r, "text")
		f.Errors["text"] = v.Message
		p, perr := d.profilePage(r, f)
		if perr != nil {
			return perr
		}
		pushURL(w, contactPath(ct.WorkspaceID, ct.ID))
		return d.render(w, http.StatusUnprocessableEntity, "contact_profile", p)
	}
	if err != nil {
		return notFound(err, "contact")
	}
	return redirect(w, r, contactPath(ct.WorkspaceID, ct.ID)+"#activity")
}

// deleteContactNote deletes a note: its author may, and so may admins.
func (d *Dashboard) deleteContactNote(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	ct, err := d.profileContact(r)
	if err != nil {
		return err
	}
	e, err := d.Activity.Get(r.Context(), ct.WorkspaceID, r.PathValue("note_id"))
	if err != nil || e.ContactID != ct.ID || e.Kind != activity.KindNote {
		return httpx.NotFound("note")
	}
	err = d.Activity.DeleteNote(r.Context(), access.Actor(r), s.Role.AtLeast(workspace.RoleAdmin), ct.WorkspaceID, e.ID)
	switch {
	case errors.Is(err, activity.ErrNotAuthor):
		return &httpx.Error{Status: http.StatusForbidden, Code: "not_note_author", Message: "Only the note's author, or an owner or admin, can delete it."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("note")
	case err != nil:
		return err
	}
	return redirect(w, r, contactPath(ct.WorkspaceID, ct.ID)+"#activity")
}

// addToPipeline puts the contact in a stage of a pipeline it is not on
// (the form's "place" value is pipeline_id/stage_id).
func (d *Dashboard) addToPipeline(w http.ResponseWriter, r *http.Request) error {
	ct, err := d.profileContact(r)
	if err != nil {
		return err
	}
	pid, sid, _ := strings.Cut(r.PostFormValue("place"), "/")
	if _, err := d.Pipelines.AddCard(r.Context(), access.Actor(r), ct.WorkspaceID, pid, ct.ID, sid); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.Invalid("place", "Choose a stage of one of your pipelines.")
		}
		return err
	}
	return redirect(w, r, contactPath(ct.WorkspaceID, ct.ID))
}

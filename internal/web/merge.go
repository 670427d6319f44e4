package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/search"
)

// Merging two contacts (promise P-25): the page of a contact, kept, where
// an admin picks the other contact, sees side by side what the merged
// person will have, and confirms. Merging cannot be undone: the other
// contact is deleted with its key.

// MergeFunc merges the workspace's contact goneID into keepID with every
// package's rows moved (the app's MergeContacts).
type MergeFunc func(ctx context.Context, a audit.Actor, workspaceID, keepID, goneID string) (contact.Contact, error)

// Limits of the picker: how many candidates it shows at a time, and how
// many contacts one request reads looking for names that match the filter
// (names are sealed, so the filter runs on opened names, a bounded scan).
const (
	mergePickPage = 20
	mergeScan     = 500
)

func mergePath(wsID, id string) string { return contactPath(wsID, id) + "/merge" }

// mergeView is the merge page: the picker until the other contact is
// chosen, then the preview and the confirmation.
type mergeView struct {
	Kept  mergeSide
	Query string
	// Candidates are contacts matching Query; More continues the scan.
	Candidates []mergeCandidate
	More       string
	// Scanned says the scan stopped before the end (More is set).
	Scanned bool
	// Other is the chosen contact (nil while picking) and Preview the
	// merged result.
	Other   *mergeSide
	Preview *mergeSide
	Rows    []mergeRow
	// Clash names the channel both contacts are on: they cannot be merged.
	Clash  string
	Action string
}

// mergeCandidate is a contact the picker offers.
type mergeCandidate struct {
	ID, Name, Initials, Stage, Since string
}

// mergeSide is one contact as the preview shows it.
type mergeSide struct {
	ID, Name, Initials, Stage string
	Channels                  []string
	Tags                      []string
}

// mergeRow is one field in the preview: both values and the one kept.
type mergeRow struct {
	Label, Kept, Other, Result string
	// FromOther says the other contact's value fills a gap.
	FromOther bool
}

func (d *Dashboard) mergePage(w http.ResponseWriter, r *http.Request) error {
	p, err := d.mergeLoad(r, r.URL.Query().Get("with"), nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "contact_merge", p)
}

// mergeContact merges the chosen contact into the one in the path and
// goes to the kept contact's profile.
func (d *Dashboard) mergeContact(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	keepID, goneID := r.PathValue("contact_id"), r.PostFormValue("other_contact_id")
	if _, err := d.profileContact(r); err != nil {
		return err
	}
	f := newForm(r, "other_contact_id")
	var err error
	switch {
	case d.MergeContacts == nil:
		return httpx.Internal(errors.New("web: merge contacts: not wired"))
	case goneID == "":
		err = httpx.Invalid("other_contact_id", "Choose the contact to merge into this one.")
	case goneID == keepID:
		err = httpx.Invalid("other_contact_id", "A contact cannot be merged with itself.")
	case r.PostFormValue("confirm") != "yes":
		err = httpx.Invalid("confirm", "Tick the box to confirm: merging cannot be undone.")
	default:
		_, err = d.MergeContacts(r.Context(), access.Actor(r), ws, keepID, goneID)
		if err == nil {
			return redirect(w, r, contactPath(ws, keepID))
		}
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("contact")
		}
		if errors.Is(err, contact.ErrInvalid) {
			err = httpx.Invalid("other_contact_id", "These two contacts cannot be merged: they both write to you on the same channel, where they are two different people.")
		}
	}
	status, ierr := f.fail(w, err, "confirm")
	if ierr != nil {
		return ierr
	}
	p, lerr := d.mergeLoad(r, goneID, f)
	if lerr != nil {
		return lerr
	}
	pushURL(w, mergePath(ws, keepID)+"?with="+url.QueryEscape(goneID))
	return d.render(w, status, "contact_merge", p)
}

// mergeLoad builds the merge page of the contact in the path, with the
// other contact otherID chosen ("" to pick one).
func (d *Dashboard) mergeLoad(r *http.Request, otherID string, f *form) (*page, error) {
	ctx := r.Context()
	kept, err := d.profileContact(r)
	if err != nil {
		return nil, err
	}
	p, err := d.newPage(r, "Merge contacts")
	if err != nil {
		return nil, err
	}
	p.Nav = "contacts"
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	ws := p.WS.ID
	channels, err := d.mergeChannels(ctx, ws)
	if err != nil {
		return nil, err
	}
	keptSide, keptChannels, err := d.mergeSide(ctx, ws, kept, channels)
	if err != nil {
		return nil, err
	}
	v := &mergeView{Kept: keptSide, Action: mergePath(ws, kept.ID)}
	p.Data = v
	if otherID == "" || otherID == kept.ID {
		return p, d.mergeCandidates(r, v, ws, kept.ID)
	}
	other, err := d.Contacts.Get(ctx, ws, otherID)
	if err != nil {
		return nil, notFound(err, "contact")
	}
	otherSide, otherChannels, err := d.mergeSide(ctx, ws, other, channels)
	if err != nil {
		return nil, err
	}
	v.Other = &otherSide
	for _, id := range keptChannels {
		if slices.Contains(otherChannels, id) {
			v.Clash = channels[id]
			break
		}
	}
	v.Preview, v.Rows, err = d.mergePreview(ctx, ws, kept, other, keptSide, otherSide)
	return p, err
}

// mergeCandidates fills the picker: contacts other than keptID whose name
// holds the filter q, newest first, scanning at most mergeScan contacts
// from the cursor "after".
func (d *Dashboard) mergeCandidates(r *http.Request, v *mergeView, ws, keptID string) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v.Query = q
	needle := strings.ToLower(q)
	cursor := r.URL.Query().Get("after")
	now := d.Now()
	if q != "" && cursor == "" {
		if found, err := d.searchCandidates(r, v, ws, keptID, q); err != nil || found {
			return err
		}
	}
	for scanned := 0; scanned < mergeScan && len(v.Candidates) < mergePickPage; {
		list, err := d.Contacts.List(r.Context(), ws, contact.ListOptions{Limit: 100, Before: cursor})
		if err != nil {
			return err
		}
		for i, c := range list {
			cursor = c.ID
			scanned++
			name := orUnnamed(c.DisplayName())
			if c.ID != keptID && strings.Contains(strings.ToLower(name), needle) {
				v.Candidates = append(v.Candidates, mergeCandidate{ID: c.ID, Name: name, Initials: initials(name), Stage: c.Stage, Since: ago(c.CreatedAt, now)})
			}
			if len(v.Candidates) == mergePickPage && i < len(list)-1 {
				break
			}
		}
		if len(list) < 100 {
			return nil // the end of the list
		}
	}
	v.Scanned = true
	v.More = mergePath(ws, keptID) + "?" + url.Values{"q": {q}, "after": {cursor}}.Encode()
	return nil
}

// searchCandidates fills the picker from the search index (names, phones
// and e-mails, fast however many contacts there are) and reports whether
// it found anyone. Contacts the indexer has not reached yet (a few seconds
// old) are not there: finding nobody, the caller scans names instead.
func (d *Dashboard) searchCandidates(r *http.Request, v *mergeView, ws, keptID, q string) (bool, error) {
	if d.Search == nil || utf8.RuneCountInString(q) > search.MaxQueryRunes {
		return false, nil
	}
	if err := d.searchAllowed(r, ws); err != nil {
		return false, err
	}
	res, err := d.Search.Search(r.Context(), ws, q, search.QueryOptions{Contacts: true, Limit: mergePickPage + 1})
	if errors.Is(err, search.ErrInvalid) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := d.Now()
	for _, h := range res.Contacts {
		if h.ID == keptID || len(v.Candidates) == mergePickPage {
			continue
		}
		c, err := d.Contacts.Get(r.Context(), ws, h.ID)
		if errors.Is(err, db.ErrNotFound) {
			continue // merged or erased since it was found
		} else if err != nil {
			return false, err
		}
		name := orUnnamed(c.DisplayName())
		v.Candidates = append(v.Candidates, mergeCandidate{ID: c.ID, Name: name, Initials: initials(name), Stage: c.Stage, Since: ago(c.CreatedAt, now)})
	}
	return len(v.Candidates) > 0, nil
}

// mergeChannels maps the workspace's channels to "Kind · Name".
func (d *Dashboard) mergeChannels(ctx context.Context, ws string) (map[string]string, error) {
	chs, err := d.Channels.List(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(chs))
	for _, ch := range chs {
		out[ch.ID] = channelLabel(ch)
	}
	return out, nil
}

func channelLabel(ch channel.Channel) string {
	return channelKind(string(ch.Type)) + " · " + ch.Name
}

// mergeSide reads one contact's names, channels and tags for the preview;
// it also returns its channel IDs.
func (d *Dashboard) mergeSide(ctx context.Context, ws string, c contact.Contact, channels map[string]string) (mergeSide, []string, error) {
	name := orUnnamed(c.DisplayName())
	s := mergeSide{ID: c.ID, Name: name, Initials: initials(name), Stage: c.Stage}
	ids, err := d.Contacts.Identities(ctx, ws, c.ID)
	if err != nil {
		return s, nil, err
	}
	var chIDs []string
	for _, id := range ids {
		chIDs = append(chIDs, id.ChannelID)
		s.Channels = append(s.Channels, channels[id.ChannelID])
	}
	tags, err := d.Contacts.ContactTags(ctx, ws, c.ID)
	if err != nil {
		return s, nil, err
	}
	for _, t := range tags {
		s.Tags = append(s.Tags, t.Name)
	}
	return s, chIDs, nil
}

// mergePreview is what the merged contact will have, by contact.Store.Merge's
// rules: the kept contact's names, stage and field values win, the other's
// fill the gaps; channels and tags are the union.
func (d *Dashboard) mergePreview(ctx context.Context, ws string, kept, other contact.Contact, k, o mergeSide) (*mergeSide, []mergeRow, error) {
	res := k
	if kept.FirstName == "" && kept.LastName == "" && (other.FirstName != "" || other.LastName != "") {
		res.Name, res.Initials = o.Name, o.Initials
	}
	if res.Stage == "" {
		res.Stage = o.Stage
	}
	res.Channels = append(slices.Clone(k.Channels), o.Channels...)
	res.Tags = slices.Clone(k.Tags)
	for _, t := range o.Tags {
		if !slices.ContainsFunc(res.Tags, func(x string) bool { return strings.EqualFold(x, t) }) {
			res.Tags = append(res.Tags, t)
		}
	}
	fields, err := d.Contacts.Fields(ctx, ws, false)
	if err != nil {
		return nil, nil, err
	}
	kv, err := d.Contacts.FieldValues(ctx, ws, kept.ID)
	if err != nil {
		return nil, nil, err
	}
	ov, err := d.Contacts.FieldValues(ctx, ws, other.ID)
	if err != nil {
		return nil, nil, err
	}
	var rows []mergeRow
	for _, f := range fields {
		a, b := kv[f.Key].Text, ov[f.Key].Text
		if a == "" && b == "" {
			continue
		}
		row := mergeRow{Label: f.Label, Kept: a, Other: b, Result: a}
		if a == "" {
			row.Result, row.FromOther = b, true
		}
		rows = append(rows, row)
	}
	return &res, rows, nil
}

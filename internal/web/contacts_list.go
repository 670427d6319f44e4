package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/validate"
)

// The contact list (promise P-25): every contact, or those of a saved
// segment or of a filter being built, a page at a time; saving a filter
// as a segment; export and import buttons for admins.

// listPage is how many contacts the list shows at a time.
const listPage = 50

// contactsView is the contact list.
type contactsView struct {
	Rows []listRow
	// More is the address of the next page ("" at the end).
	More string
	// Count is how many contacts the list holds; CountExact is false when
	// it is a lower bound (a filter on many sealed values).
	Count      int
	CountExact bool
	// Segments are the saved segments for the picker; Segment the one
	// shown ("" for none).
	Segments []segment.Segment
	Segment  string
	// SegmentName names the segment shown.
	SegmentName string
	Builder     *filterBuilder
	// Problem says why the filter was refused (the list is then empty).
	Problem string
	// Self is the list's address with its filter, for "Export".
	Export string
	// Total says the workspace has contacts at all (for the empty state).
	Total bool
}

// listRow is one contact of the list.
type listRow struct {
	ID, Name, Initials, Stage, Added string
	Channels                         []string
	Tags                             []contact.Tag
}

// contacts is the contact list: ?segment= shows a saved segment, the
// builder's match/field/op/value a filter, neither every contact newest
// first.
func (d *Dashboard) contacts(w http.ResponseWriter, r *http.Request) error {
	p, err := d.listPage(r, r.URL.Query(), nil)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if v := p.Data.(*contactsView); v.Problem != "" {
		status = http.StatusUnprocessableEntity
	}
	return d.render(w, status, "contacts", p)
}

// listPage builds the list for the query q; f carries a refused "Save as
// segment" back.
func (d *Dashboard) listPage(r *http.Request, q url.Values, f *form) (*page, error) {
	ctx := r.Context()
	p, err := d.newPage(r, "Contacts")
	if err != nil {
		return nil, err
	}
	p.Nav = "contacts"
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	ws := p.WS.ID
	v := &contactsView{Segment: q.Get("segment")}
	p.Data = v
	if v.Builder, err = d.builderFor(ctx, ws); err != nil {
		return nil, err
	}
	if v.Segments, err = d.Segments.List(ctx, ws); err != nil {
		return nil, err
	}
	all := segment.Target{}
	switch {
	case v.Segment != "":
		sg, err := d.Segments.Get(ctx, ws, v.Segment)
		if errors.Is(err, db.ErrNotFound) {
			return nil, httpx.NotFound("segment")
		} else if err != nil {
			return nil, err
		}
		v.SegmentName = sg.Name
		v.Builder.Match = string(sg.Definition.Match)
		if v.Builder.Rows, err = d.rowsOf(ctx, ws, sg.Definition); err != nil {
			return nil, err
		}
		all.SegmentID = sg.ID
	default:
		match, rows := rowsFrom(q)
		v.Builder.Match, v.Builder.Rows = match, rows
		if len(rows) > 0 {
			def, err := d.definition(ctx, ws, match, rows)
			if err != nil {
				return nil, err
			}
			all.Definition = &def
		}
	}
	v.Builder.Active = len(v.Builder.Rows) > 0
	v.Builder.lines()
	if v.Segment != "" {
		v.Export = "/api/v1/workspaces/" + ws + "/contacts/export.csv?segment_id=" + url.QueryEscape(v.Segment)
	} else if !v.Builder.Active {
		v.Export = "/api/v1/workspaces/" + ws + "/contacts/export.csv"
	}
	if all.SegmentID == "" && all.Definition == nil {
		return p, d.everyone(ctx, v, ws, q.Get("before"))
	}
	return p, d.members(ctx, v, ws, all, q)
}

// everyone fills the list with the workspace's contacts, newest first.
func (d *Dashboard) everyone(ctx context.Context, v *contactsView, ws, before string) error {
	list, err := d.Contacts.List(ctx, ws, contact.ListOptions{Limit: listPage, Before: before})
	if err != nil {
		return err
	}
	if err := d.fillRows(ctx, v, ws, list); err != nil {
		return err
	}
	if len(list) == listPage {
		v.More = contactsPath(ws) + "?before=" + url.QueryEscape(list[len(list)-1].ID)
	}
	// Every contact was added before tomorrow: a count segment can do in
	// one count(*), without this package reading contacts itself.
	n, err := d.Segments.Count(ctx, ws, segment.Target{Definition: &segment.Definition{Match: segment.MatchAll,
		Conditions: []segment.Condition{{Field: segment.FieldCreatedAt, Op: segment.OpBefore, Value: d.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)}}}})
	if err != nil {
		return err
	}
	v.Count, v.CountExact, v.Total = n.N, n.Exact, n.N > 0
	return nil
}

// members fills the list with a segment's or a filter's members, in
// the order they were added.
func (d *Dashboard) members(ctx context.Context, v *contactsView, ws string, t segment.Target, q url.Values) error {
	n, err := d.Segments.Count(ctx, ws, t)
	if errors.Is(err, segment.ErrInvalid) {
		v.Problem = definitionProblem(err)
		return nil
	} else if err != nil {
		return err
	}
	v.Count, v.CountExact, v.Total = n.N, n.Exact, true
	pg, err := d.Segments.Members(ctx, ws, t, q.Get("cursor"), listPage)
	if err != nil {
		return err
	}
	byID, err := d.Contacts.GetMany(ctx, ws, pg.IDs)
	if err != nil {
		return err
	}
	list := make([]contact.Contact, 0, len(pg.IDs))
	for _, id := range pg.IDs {
		if c, ok := byID[id]; ok {
			list = append(list, c)
		}
	}
	if err := d.fillRows(ctx, v, ws, list); err != nil {
		return err
	}
	if pg.NextCursor != "" {
		next := url.Values{}
		for k, vs := range q {
			if k != "cursor" {
				next[k] = vs
			}
		}
		next.Set("cursor", pg.NextCursor)
		v.More = contactsPath(ws) + "?" + next.Encode()
	}
	return nil
}

// fillRows turns contacts into rows with their channels and tags.
func (d *Dashboard) fillRows(ctx context.Context, v *contactsView, ws string, list []contact.Contact) error {
	chs, err := d.Channels.List(ctx, ws)
	if err != nil {
		return err
	}
	names := make(map[string]string, len(chs))
	for _, c := range chs {
		names[c.ID] = c.Name
	}
	for _, c := range list {
		name := orUnnamed(c.DisplayName())
		row := listRow{ID: c.ID, Name: name, Initials: initials(name), Stage: c.Stage, Added: c.CreatedAt.UTC().Format("2 Jan 2006")}
		ids, err := d.Contacts.Identities(ctx, ws, c.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if n := names[id.ChannelID]; n != "" {
				row.Channels = append(row.Channels, n)
			}
		}
		if row.Tags, err = d.Contacts.ContactTags(ctx, ws, c.ID); err != nil {
			return err
		}
		v.Rows = append(v.Rows, row)
	}
	return nil
}

// saveSegment saves the builder's filter as a new segment and shows it;
// a bad name or filter comes back on the list.
func (d *Dashboard) saveSegment(w http.ResponseWriter, r *http.Request) error {
	return d.storeSegment(w, r, "")
}

// updateSegment replaces the shown segment's filter (and name, when one
// is typed) by the builder's.
func (d *Dashboard) updateSegment(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	if _, err := d.Segments.Get(r.Context(), ws, r.PathValue("segment_id")); errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("segment")
	} else if err != nil {
		return err
	}
	return d.storeSegment(w, r, r.PathValue("segment_id"))
}

// storeSegment creates a segment (id "") or updates one from the
// builder's form.
func (d *Dashboard) storeSegment(w http.ResponseWriter, r *http.Request, id string) error {
	if err := r.ParseForm(); err != nil {
		return httpx.BadRequest("bad_form", "The form could not be read.")
	}
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	match, rows := rowsFrom(r.PostForm)
	def, err := d.definition(r.Context(), ws, match, rows)
	if err != nil {
		return err
	}
	var sg segment.Segment
	if id == "" {
		sg, err = d.Segments.Create(r.Context(), access.Actor(r), ws, r.PostFormValue("name"), def)
	} else {
		name := r.PostFormValue("name")
		if name == "" {
			name = r.PostFormValue("current_name")
		}
		sg, err = d.Segments.Update(r.Context(), access.Actor(r), ws, id, name, def)
	}
	if err == nil {
		return redirect(w, r, contactsPath(ws)+"?segment="+url.QueryEscape(sg.ID))
	}
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("segment")
	}
	f := newForm(r, "name")
	status := http.StatusUnprocessableEntity
	switch {
	case errors.Is(err, segment.ErrExists):
		f.Errors["name"], status = "A segment with this name exists already.", http.StatusConflict
	case errors.Is(err, segment.ErrInvalid):
		if v, ok := validate.As(err); ok {
			f.Errors["name"] = v.Message
		} else {
			f.Error = definitionProblem(err)
		}
	default:
		return err
	}
	p, err := d.listPage(r, filterQuery(match, rows), f)
	if err != nil {
		return err
	}
	pushURL(w, contactsPath(ws)+"?"+filterQuery(match, rows).Encode())
	return d.render(w, status, "contacts", p)
}

// deleteSegment deletes a saved segment (its contacts stay).
func (d *Dashboard) deleteSegment(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	err := d.Segments.Delete(r.Context(), access.Actor(r), ws, r.PathValue("segment_id"))
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound("segment")
	} else if err != nil {
		return err
	}
	return redirect(w, r, contactsPath(ws))
}

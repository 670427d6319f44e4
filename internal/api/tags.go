package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// tagJSON is a tag. color is "#rrggbb", or "" for the dashboard's default.
type tagJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Color     string    `json:"color"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toTagJSON(t contact.Tag) tagJSON {
	return tagJSON{ID: t.ID, Name: t.Name, Color: t.Color, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func toTagsJSON(ts []contact.Tag) []tagJSON {
	out := make([]tagJSON, len(ts))
	for i, t := range ts {
		out[i] = toTagJSON(t)
	}
	return out
}

type tagRequest struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

type tagPatch struct {
	Name  *string `json:"name"`
	Color *string `json:"color"`
}

// contactTagRequest puts a tag on a contact by name; with create, a name
// the workspace does not have yet becomes a new tag.
type contactTagRequest struct {
	Name   string `json:"name"`
	Create bool   `json:"create"`
}

// listTags lists the workspace's tags by name.
func (a *API) listTags(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.Contacts.Tags(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"tags": toTagsJSON(ts)})
}

// createTag adds a tag; a name the workspace has already, ignoring letter
// case, is a 409.
func (a *API) createTag(w http.ResponseWriter, r *http.Request) error {
	var in tagRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	t, err := a.Contacts.CreateTag(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, in.Name, in.Color)
	if err != nil {
		return tagError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"tag": toTagJSON(t)})
}

// updateTag renames a tag and/or changes its colour, both or neither.
func (a *API) updateTag(w http.ResponseWriter, r *http.Request) error {
	ws, id := access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("tag_id")
	if _, err := a.Contacts.Tag(r.Context(), ws, id); err != nil {
		return tagError(err)
	}
	var in tagPatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Name == nil && in.Color == nil {
		return httpx.BadRequest("nothing_to_change", "Send name, color or both.")
	}
	t, err := a.Contacts.UpdateTag(r.Context(), access.Actor(r), ws, id, in.Name, in.Color)
	if err != nil {
		return tagError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"tag": toTagJSON(t)})
}

// deleteTag deletes a tag, taking it off every contact.
func (a *API) deleteTag(w http.ResponseWriter, r *http.Request) error {
	if err := a.Contacts.DeleteTag(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("tag_id")); err != nil {
		return tagError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// contactTags lists the tags on a contact, by name.
func (a *API) contactTags(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	ts, err := a.Contacts.ContactTags(r.Context(), c.WorkspaceID, c.ID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"tags": toTagsJSON(ts)})
}

// tagContact puts a tag on a contact: 201 when it is new on the contact,
// 200 when the contact had it already (tagging twice is harmless). An
// unknown name without create is a 422 naming "name".
func (a *API) tagContact(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	var in contactTagRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	t, added, err := a.Contacts.TagContact(r.Context(), nil, c.WorkspaceID, c.ID, in.Name, in.Create, contact.ByActor(access.Actor(r)))
	if errors.Is(err, db.ErrNotFound) {
		// The contact was there a moment ago: it is the tag that is not.
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "unknown_tag", Field: "name",
			Message: "This workspace has no tag of that name. Send create: true to create it."}
	}
	if err != nil {
		return tagError(err)
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	return httpx.WriteJSON(w, status, map[string]any{"tag": toTagJSON(t), "added": added})
}

// untagContact takes a tag off a contact; a contact without it is not an
// error (204 either way), a tag the workspace does not have is a 404.
func (a *API) untagContact(w http.ResponseWriter, r *http.Request) error {
	c, err := a.checkContact(r)
	if err != nil {
		return err
	}
	if _, err := a.Contacts.UntagContactID(r.Context(), nil, c.WorkspaceID, c.ID, r.PathValue("tag_id")); err != nil {
		return tagError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tagError maps what tags refuse: a name taken ignoring letter case (409),
// a bad name or colour (422 naming it), a tag not in the workspace (404).
func tagError(err error) error {
	switch {
	case errors.Is(err, contact.ErrTagExists):
		return &httpx.Error{Status: http.StatusConflict, Code: "tag_exists", Field: "name",
			Message: "A tag with this name already exists (letter case does not count)."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("tag")
	}
	if v, ok := validate.As(err); ok {
		return httpx.Invalid(v.Field, v.Message)
	}
	return httpx.Internal(err)
}

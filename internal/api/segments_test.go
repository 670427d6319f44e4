package api_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// seedSegmentAndImport gives the tenant a segment (its contacts with its
// tag) and a pending contact import, for the matrix tests to aim at.
func seedSegmentAndImport(t *testing.T, tn *tenant) {
	t.Helper()
	base := "/api/v1/workspaces/" + tn.ws
	var sg struct{ Segment segmentOut }
	tn.owner.Do("POST", base+"/segments", map[string]any{"name": "Tagged",
		"definition": map[string]any{"match": "all", "conditions": []map[string]any{{"field": "tag", "op": "has", "value": tn.tagID}}}}).
		Must(t, 201).JSON(t, &sg)
	tn.segmentID = sg.Segment.ID
	var imp struct{ Import importOut }
	upload(t, tn.owner.Client, base+"/contact-imports", "First name\nDara\n", `{"mapping":{"First name":"first_name"}}`).Must(t, 202).JSON(t, &imp)
	tn.importID = imp.Import.ID
}

type segmentOut struct {
	ID, Name   string
	Definition struct {
		Match      string
		Conditions []struct{ Field, Op, Value string }
	}
}

type contactsPage struct {
	Contacts []struct {
		ID        string
		FirstName string `json:"first_name"`
	}
	NextCursor *string `json:"next_cursor"`
	Count      *struct {
		N     int
		Exact bool
	}
}

func (p contactsPage) names() []string {
	out := []string{}
	for _, c := range p.Contacts {
		out = append(out, c.FirstName)
	}
	sort.Strings(out)
	return out
}

// person adds a channel-less contact with a stage and tags.
func person(t *testing.T, a *apptest.App, ws, first, stage string, tags ...string) string {
	t.Helper()
	ctx := context.Background()
	by := contact.By{Kind: contact.ByUser, ID: "seed"}
	c, err := a.Contacts.Create(ctx, a.DB.W, ws, contact.NewContact{FirstName: first, By: by})
	if err != nil {
		t.Fatal(err)
	}
	if stage != "" {
		if _, err := a.Contacts.SetStage(ctx, a.DB.W, ws, c.ID, stage, by); err != nil {
			t.Fatal(err)
		}
	}
	for _, tag := range tags {
		if _, _, err := a.Contacts.TagContact(ctx, a.DB.W, ws, c.ID, tag, true, by); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID
}

// Promise P-25, security.md §1.7 / J-7: segments are saved filters from a
// closed list of fields and operators. Admins save them, viewers read
// them and their members, agents preview; anything outside the language
// (unknown field, unknown operator, an operator of another type, a
// smuggled SQL fragment) is a 422 naming the condition, and nothing is
// saved.
func TestSegmentsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "seg")
		ws := owner.CreateWorkspace(t, "Segments")
		agent, viewer := a.SignUp(t, "seg-agent"), a.SignUp(t, "seg-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws + "/segments"
		person(t, a, ws, "Dara", "Customer", "VIP")
		person(t, a, ws, "Sokha", "Lead", "VIP")
		person(t, a, ws, "Vanna", "Customer")
		tags, err := a.Contacts.Tags(context.Background(), ws)
		if err != nil || len(tags) != 1 {
			t.Fatalf("tags %v %v", tags, err)
		}
		vip := tags[0].ID
		cond := func(field, op, value string) map[string]any {
			return map[string]any{"field": field, "op": op, "value": value}
		}
		def := func(match string, cs ...map[string]any) map[string]any {
			return map[string]any{"match": match, "conditions": cs}
		}

		// Preview while building: count and first page.
		var pv contactsPage
		agent.Do("POST", base+"/preview", map[string]any{"definition": def("all", cond("tag", "has", vip), cond("stage", "is", "Customer"))}).
			Must(t, 200).JSON(t, &pv)
		if diff := cmp.Diff([]string{"Dara"}, pv.names()); diff != "" || pv.Count == nil || pv.Count.N != 1 || !pv.Count.Exact {
			t.Errorf("preview: %+v (-want +got):\n%s", pv, diff)
		}
		agent.Do("POST", base+"/preview", map[string]any{"definition": def("any", cond("tag", "has", vip), cond("stage", "is", "Customer"))}).
			Must(t, 200).JSON(t, &pv)
		if diff := cmp.Diff([]string{"Dara", "Sokha", "Vanna"}, pv.names()); diff != "" || pv.Count.N != 3 {
			t.Errorf("preview any (-want +got):\n%s", diff)
		}
		viewer.Do("POST", base+"/preview", map[string]any{"definition": def("all", cond("tag", "has", vip))}).Must(t, 403)

		// Refused definitions: 422 naming the condition, nothing saved.
		for _, tc := range []struct {
			name string
			body any
			want string
		}{
			{"unknown operator", map[string]any{"name": "x", "definition": def("all", cond("tag", "has", vip), cond("stage", "like", "%"))}, "Condition 1"},
			{"unknown field", map[string]any{"name": "x", "definition": def("all", cond("email; DROP TABLE contacts", "is", "x"))}, "Condition 0: unknown field"},
			{"operator of another type", map[string]any{"name": "x", "definition": def("all", cond("created_at", "contains", "2026"))}, "Condition 0"},
			{"unknown tag", map[string]any{"name": "x", "definition": def("all", cond("tag", "has", "' OR 1=1 --"))}, "Condition 0: the workspace has no such tag"},
			{"bad match", map[string]any{"name": "x", "definition": def("either", cond("tag", "has", vip))}, `"all" or "any"`},
			{"no conditions", map[string]any{"name": "x", "definition": def("all")}, "conditions"},
			{"unknown key", map[string]any{"name": "x", "definition": map[string]any{"match": "all", "conditions": []any{cond("tag", "has", vip)}, "sql": "1=1"}}, "sql"},
			{"no definition", map[string]any{"name": "x"}, "definition"},
		} {
			res := owner.Do("POST", base, tc.body)
			e := errorOf(t, res)
			if res.Status != 422 || e.Error.Field != "definition" || !strings.Contains(e.Error.Message, tc.want) {
				t.Errorf("%s: %d %s", tc.name, res.Status, res.Body)
			}
		}
		if e := errorOf(t, agent.Do("POST", base+"/preview", map[string]any{"definition": def("all", cond("stage", "starts_with", "C"))}).Must(t, 422)); e.Error.Code != "invalid_definition" {
			t.Errorf("preview with an unknown operator: %+v", e)
		}
		owner.Do("POST", base, map[string]any{"name": "", "definition": def("all", cond("tag", "has", vip))}).Must(t, 422)
		var list struct{ Segments []segmentOut }
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Segments) != 0 {
			t.Fatalf("refused segments were saved: %+v", list.Segments)
		}

		// Save, read, page members, rename, redefine, delete.
		var sg struct{ Segment segmentOut }
		owner.Do("POST", base, map[string]any{"name": "VIP customers", "definition": def("all", cond("tag", "has", vip), cond("stage", "is", "Customer"))}).
			Must(t, 201).JSON(t, &sg)
		id := sg.Segment.ID
		owner.Do("POST", base, map[string]any{"name": "vip CUSTOMERS", "definition": def("all", cond("tag", "has", vip))}).Must(t, 409)
		var got struct {
			Segment segmentOut
			Count   struct{ N int }
		}
		viewer.Do("GET", base+"/"+id, nil).Must(t, 200).JSON(t, &got)
		if got.Segment.Name != "VIP customers" || got.Count.N != 1 || len(got.Segment.Definition.Conditions) != 2 {
			t.Errorf("get: %+v", got)
		}
		var members contactsPage
		viewer.Do("GET", base+"/"+id+"/contacts", nil).Must(t, 200).JSON(t, &members)
		if diff := cmp.Diff([]string{"Dara"}, members.names()); diff != "" || members.NextCursor != nil {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		viewer.Do("GET", base+"/"+id+"/contacts?limit=0", nil).Must(t, 422)

		owner.Do("PATCH", base+"/"+id, map[string]any{"definition": def("all", cond("tag", "has", vip))}).Must(t, 200)
		// Paging one at a time follows next_cursor to the end.
		var seen []string
		cursor := ""
		for range 5 {
			var pg contactsPage
			viewer.Do("GET", base+"/"+id+"/contacts?limit=1&cursor="+cursor, nil).Must(t, 200).JSON(t, &pg)
			seen = append(seen, pg.names()...)
			if pg.NextCursor == nil {
				break
			}
			cursor = *pg.NextCursor
		}
		sort.Strings(seen)
		if diff := cmp.Diff([]string{"Dara", "Sokha"}, seen); diff != "" {
			t.Errorf("paged members (-want +got):\n%s", diff)
		}
		if e := errorOf(t, owner.Do("PATCH", base+"/"+id, map[string]any{"name": "Renamed", "definition": def("all", cond("tag", "is", vip))}).Must(t, 422)); e.Error.Field != "definition" {
			t.Errorf("patch with a bad operator: %+v", e)
		}
		owner.Do("PATCH", base+"/"+id, map[string]any{}).Must(t, 400)
		viewer.Do("GET", base+"/"+id, nil).Must(t, 200).JSON(t, &got)
		if got.Segment.Name != "VIP customers" || len(got.Segment.Definition.Conditions) != 1 {
			t.Errorf("a refused patch changed the segment: %+v", got.Segment)
		}
		owner.Do("PATCH", base+"/"+id, map[string]any{"name": "VIPs"}).Must(t, 200)

		// Viewers and agents cannot write.
		for _, u := range []*apptest.User{agent, viewer} {
			u.Do("POST", base, map[string]any{"name": "Mine", "definition": def("all", cond("tag", "has", vip))}).Must(t, 403)
			u.Do("PATCH", base+"/"+id, map[string]any{"name": "Mine"}).Must(t, 403)
			u.Do("DELETE", base+"/"+id, nil).Must(t, 403)
		}
		owner.Do("DELETE", base+"/"+id, nil).Must(t, 204)
		owner.Do("DELETE", base+"/"+id, nil).Must(t, 404)
		viewer.Do("GET", base+"/"+id+"/contacts", nil).Must(t, 404)
	})
}

// A segment of another workspace, and a definition naming another
// workspace's tag, find nothing there.
func TestSegmentsAreWorkspaceScoped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		ownerA, ownerB := a.SignUp(t, "seg-a"), a.SignUp(t, "seg-b")
		wsA, wsB := ownerA.CreateWorkspace(t, "A"), ownerB.CreateWorkspace(t, "B")
		person(t, a, wsB, "Bopha", "", "Secret")
		tagsB, _ := a.Contacts.Tags(context.Background(), wsB)
		defB := map[string]any{"match": "all", "conditions": []any{map[string]any{"field": "tag", "op": "has", "value": tagsB[0].ID}}}
		var sg struct{ Segment segmentOut }
		ownerB.Do("POST", "/api/v1/workspaces/"+wsB+"/segments", map[string]any{"name": "B", "definition": defB}).Must(t, 201).JSON(t, &sg)

		ownerA.Do("GET", "/api/v1/workspaces/"+wsA+"/segments/"+sg.Segment.ID, nil).Must(t, 404)
		ownerA.Do("GET", "/api/v1/workspaces/"+wsA+"/segments/"+sg.Segment.ID+"/contacts", nil).Must(t, 404)
		ownerA.Do("PATCH", "/api/v1/workspaces/"+wsA+"/segments/"+sg.Segment.ID, map[string]any{"name": "pwned"}).Must(t, 404)
		ownerA.Do("DELETE", "/api/v1/workspaces/"+wsA+"/segments/"+sg.Segment.ID, nil).Must(t, 404)
		ownerA.Do("GET", "/api/v1/workspaces/"+wsA+"/contacts/export.csv?segment_id="+sg.Segment.ID, nil).Must(t, 404)
		res := ownerA.Do("POST", "/api/v1/workspaces/"+wsA+"/segments/preview", map[string]any{"definition": defB})
		if res.Status != http.StatusUnprocessableEntity || strings.Contains(string(res.Body), "Bopha") {
			t.Errorf("previewing B's tag in A: %d %s", res.Status, res.Body)
		}
		var got struct{ Segment segmentOut }
		ownerB.Do("GET", "/api/v1/workspaces/"+wsB+"/segments/"+sg.Segment.ID, nil).Must(t, 200).JSON(t, &got)
		if got.Segment.Name != "B" {
			t.Errorf("B's segment changed: %+v", got.Segment)
		}
	})
}

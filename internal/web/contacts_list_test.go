package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// shopCSV is a customer list with one row whose e-mail is broken and one
// row with too few cells.
const shopCSV = "First name,Last name,E-mail,Tags,Stage\n" +
	"Dara,Sok,dara@example.com,VIP,Customer\n" +
	"Sokha,Chan,not-an-address,,\n" +
	"Vanna,Lim,vanna@example.com,VIP;New,Lead\n" +
	"Short\n" +
	"Kiri,Meas,kiri@example.com,,Customer\n"

var (
	importLocation = regexp.MustCompile(`^/w/[0-9a-f-]{36}/contact-imports/([0-9a-f-]{36})$`)
	hiddenData     = regexp.MustCompile(`name="data" value="([^"]*)"`)
)

// defineEmail gives the workspace an e-mail custom field.
func (s *site) defineEmail(t *testing.T, ws string) {
	t.Helper()
	if _, err := s.Contacts.DefineField(context.Background(), audit.Actor{}, ws, "email", contact.FieldSpec{Label: "E-mail", Type: contact.FieldEmail}); err != nil {
		t.Fatal(err)
	}
}

// mapping is the mapping step's form as a person leaves it after
// uploading shopCSV: the suggestions, and new tags created.
func mapping(data string) url.Values {
	return url.Values{"data": {data}, "filename": {"shop.csv"}, "map_0": {"first_name"}, "map_1": {"last_name"},
		"map_2": {"field:email"}, "map_3": {"tag"}, "map_4": {"stage"}, "create_tags": {"yes"}}
}

// Promise P-25 and issue 5 item 6 through the dashboard without
// JavaScript: the import wizard (upload → mapping with suggestions and
// sample values → progress → result with the skipped rows and their
// reasons), the list with its filter, a filter with an unknown operator
// refused, and a filter saved as a segment. Agents and viewers see the
// list but not the admin tools; another workspace's import and segment
// are 404.
func TestContactListImportAndSegments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Chenda")
		ws := owner.createWorkspace("Chenda's Crafts")
		s.defineEmail(t, ws)
		base := "/w/" + ws

		owner.get(base+"/contacts").want(t, http.StatusOK, "No contacts yet", `href="`+base+`/contact-imports/new"`)
		owner.get(base+"/contact-imports/new").want(t, http.StatusOK, `enctype="multipart/form-data"`, `name="file"`)
		owner.upload(base+"/contact-imports/new", "file", "", nil).want(t, http.StatusUnprocessableEntity, "Choose a CSV file to import.")
		owner.upload(base+"/contact-imports/new", "file", "empty.csv", []byte("")).want(t, http.StatusUnprocessableEntity, "The file is empty.")

		// Mapping: each column with samples and a suggested target.
		m := owner.upload(base+"/contact-imports/new", "file", "shop.csv", []byte(shopCSV)).want(t, http.StatusOK,
			"What is in each column?", "5 rows", "“Dara”", "“dara@example.com”",
			`<option value="first_name" selected>`, `<option value="field:email" selected>`, `<option value="tag" selected>`, `<option value="stage" selected>`)
		data := hiddenData.FindStringSubmatch(m.Body)
		if data == nil {
			t.Fatalf("no file in the mapping form:\n%s", excerpt(m.Body))
		}
		// A mapping that cannot work comes back with the reason and the choices.
		bad := mapping(data[1])
		bad.Set("dedupe", "First name")
		owner.post(base+"/contact-imports", bad).want(t, http.StatusUnprocessableEntity, "Contacts can be matched only on an e-mail or phone field.", `<option value="First name" selected>`)
		if list, _ := s.Imports.List(context.Background(), ws); len(list) != 0 {
			t.Fatalf("a refused mapping started an import: %+v", list)
		}

		loc := owner.post(base+"/contact-imports", mapping(data[1])).redirectsTo(t, base+"/contact-imports/")
		id := importLocation.FindStringSubmatch(loc)[1]
		owner.get(loc).want(t, http.StatusOK, "Importing… 0%", `hx-trigger="every 1s"`)
		if err := s.Imports.Process(context.Background(), ws, id); err != nil {
			t.Fatal(err)
		}
		done := owner.get(loc).want(t, http.StatusOK, "Import finished", `<dd id="count-created">3</dd>`, `<dd id="count-failed">2</dd>`,
			"Rows that were skipped", "<td>3</td><td>E-mail</td>", "<td>5</td><td>the whole row</td>", "Download report (CSV)")
		done.lacks(t, `hx-trigger="every 1s"`)

		// The list: every contact, with tags and stages.
		list := owner.get(base+"/contacts").want(t, http.StatusOK, "3 contacts", "Dara Sok", "Vanna Lim", "Kiri Meas", "Customer", ">VIP<", `id="export-button"`)
		list.lacks(t, "Sokha")

		// A filter narrows the list; an unknown operator is refused.
		q := url.Values{"match": {"all"}, "field": {"tag", "stage"}, "op": {"has", "is"}, "value": {"vip", "Customer"}}
		owner.get(base+"/contacts?"+q.Encode()).want(t, http.StatusOK, "1 contact matches this filter", "Dara Sok").lacks(t, "Vanna Lim", "Kiri Meas")
		badq := url.Values{"field": {"stage"}, "op": {"starts_with"}, "value": {"C"}}
		owner.get(base+"/contacts?"+badq.Encode()).want(t, http.StatusUnprocessableEntity, "This filter cannot work: Filter 1: operator not allowed for stage.").lacks(t, "Dara Sok")

		// Save as segment, then pick it.
		save := url.Values{"match": {"any"}, "field": {"tag"}, "op": {"has"}, "value": {"VIP"}, "name": {"VIP customers"}}
		segLoc := owner.post(base+"/segments", save).redirectsTo(t, base+"/contacts?segment=")
		seg := owner.get(segLoc).want(t, http.StatusOK, "2 contacts in “VIP customers”", "Dara Sok", "Vanna Lim", "Delete segment", "export.csv?segment_id=")
		seg.lacks(t, "Kiri Meas")
		segID := strings.TrimPrefix(segLoc, base+"/contacts?segment=")
		// The export button downloads the segment with the session.
		exp := owner.get("/api/v1/workspaces/"+ws+"/contacts/export.csv?segment_id="+segID).want(t, http.StatusOK, "Dara", "Vanna")
		if exp.lacks(t, "Kiri"); !strings.HasPrefix(exp.Header.Get("Content-Disposition"), "attachment;") || exp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("export headers %v", exp.Header)
		}
		// Updating the shown segment replaces its filter, keeping its name.
		upd := url.Values{"match": {"all"}, "field": {"tag", "stage"}, "op": {"has", "is"}, "value": {"VIP", "Lead"}, "current_name": {"VIP customers"}}
		owner.post(base+"/segments/"+segID, upd).redirectsTo(t, segLoc)
		owner.get(segLoc).want(t, http.StatusOK, "1 contact in “VIP customers”", "Vanna Lim", `id="segment-update"`).lacks(t, "Dara Sok")
		upd.Set("op", "like")
		owner.post(base+"/segments/"+segID, upd).want(t, http.StatusUnprocessableEntity, "Filter 1: operator not allowed for tag.")
		owner.post(base+"/segments/no-such-segment", upd).want(t, http.StatusNotFound)
		owner.post(base+"/segments", save).want(t, http.StatusConflict, "A segment with this name exists already.")
		badSave := url.Values{"field": {"created_at"}, "op": {"contains"}, "value": {"x"}, "name": {"Odd"}}
		owner.post(base+"/segments", badSave).want(t, http.StatusUnprocessableEntity, "Filter 1: operator not allowed for created_at.")
		if sgs, _ := s.Segments.List(context.Background(), ws); len(sgs) != 1 {
			t.Errorf("segments after refusals: %+v", sgs)
		}

		// Agents and viewers: the list, not the admin tools.
		agent, agentAddr := s.signUp(t, "Agent")
		s.join(t, owner, ws, agent, agentAddr, "agent")
		agent.get(base+"/contacts").want(t, http.StatusOK, "Dara Sok").lacks(t, `id="import-button"`, `id="export-button"`, `id="segment-save"`)
		agent.post(base+"/segments", save).want(t, http.StatusForbidden)
		agent.get(base+"/contact-imports/new").want(t, http.StatusForbidden)
		agent.get(loc).want(t, http.StatusForbidden)

		// Another workspace's import and segment are not found.
		other, _ := s.signUp(t, "Other")
		ows := other.createWorkspace("Other shop")
		other.get("/w/"+ows+"/contact-imports/"+id).want(t, http.StatusNotFound)
		other.get("/w/"+ows+"/contacts"+strings.TrimPrefix(segLoc, base+"/contacts")).want(t, http.StatusNotFound)
		other.post("/w/"+ows+"/segments/"+html.EscapeString(segID)+"/delete", nil).want(t, http.StatusNotFound)
		owner.post(base+"/segments/"+segID+"/delete", nil).redirectsTo(t, base+"/contacts")
	})
}

package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/csvio"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type importOut struct {
	ID                                    string
	State                                 string
	Total, Done, Created, Updated, Failed int
	Error                                 string
	Options                               struct {
		Mapping map[string]string
		Headers []string
	}
}

// upload posts file (and options, when not "") as multipart/form-data.
func upload(t *testing.T, c *apptest.Client, path, file, options string) *apptest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(file))
	if options != "" {
		mw.WriteField("options", options)
	}
	mw.Close()
	return sendRaw(t, c, "POST", path, mw.FormDataContentType(), body.Bytes())
}

// sendRaw sends body with its content type, with the client's headers.
func sendRaw(t *testing.T, c *apptest.Client, method, path, contentType string, body []byte) *apptest.Response {
	t.Helper()
	return c.DoRaw(method, path, contentType, body)
}

// shop is the file the import tests upload: two good rows, one with a bad
// e-mail, one short row, one updating Dara by her e-mail.
const shop = "First name,Last name,E-mail,Tags,Stage,Notes\n" +
	"Dara,Sok,dara@example.com,VIP,Customer,x\n" +
	"Sokha,Chan,not-an-address,,,y\n" +
	"Short,Row\n" +
	"Vanna,Lim,vanna@example.com,VIP;New,Lead,\n"

const shopOptions = `{"mapping":{"First name":"first_name","Last name":"last_name","E-mail":"field:email","Tags":"tag","Stage":"stage","Notes":"skip"},"create_tags":true}`

// Promise P-25, issue 5 "malformed CSV rows reported and skipped": an
// admin previews a file (nothing stored), starts the import with a
// mapping, follows its progress to the end, reads the refused rows with
// their reasons and downloads the report; the good rows are contacts with
// their fields, tags and stage. Files and mappings that cannot be
// imported are a 422 and start nothing; agents and viewers cannot import.
func TestImportsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "imp")
		ws := owner.CreateWorkspace(t, "Imports")
		agent, viewer := a.SignUp(t, "imp-agent"), a.SignUp(t, "imp-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws
		owner.Do("POST", base+"/fields", map[string]any{"key": "email", "label": "E-mail", "type": "email"}).Must(t, 201)

		// Preview: multipart or text/csv; nothing stored.
		var pv struct {
			Headers   []string
			Sample    [][]string
			Rows      int
			Delimiter string
		}
		upload(t, owner.Client, base+"/contact-imports/preview", shop, "").Must(t, 200).JSON(t, &pv)
		if pv.Rows != 4 || pv.Delimiter != "," || len(pv.Headers) != 6 || pv.Sample[0][0] != "Dara" {
			t.Errorf("preview %+v", pv)
		}
		sendRaw(t, owner.Client, "POST", base+"/contact-imports/preview", "text/csv", []byte("Name;Phone\nDara;1\n")).Must(t, 200).JSON(t, &pv)
		if pv.Delimiter != ";" || pv.Rows != 1 {
			t.Errorf("text/csv preview %+v", pv)
		}
		for _, tc := range []struct {
			name, ct, body string
			status         int
		}{
			{"empty file", "text/csv", "", 422},
			{"duplicate header", "text/csv", "Name,name\nx,y\n", 422},
			{"JSON body", "application/json", `{"file":"x"}`, 415},
			{"form body", "application/x-www-form-urlencoded", "file=x", 415},
		} {
			if res := sendRaw(t, owner.Client, "POST", base+"/contact-imports/preview", tc.ct, []byte(tc.body)); res.Status != tc.status {
				t.Errorf("%s: %d %s", tc.name, res.Status, res.Body)
			}
		}
		big := "Name\n" + strings.Repeat("x", csvio.MaxBytes)
		if res := sendRaw(t, owner.Client, "POST", base+"/contact-imports/preview", "text/csv", []byte(big)); res.Status != 413 {
			t.Errorf("a file over the cap: %d", res.Status)
		}

		// Mappings that cannot be imported: 422, no import.
		for _, tc := range []struct{ name, options, want string }{
			{"no options", "", "options"},
			{"unknown column", `{"mapping":{"Phone":"first_name"}}`, "no column"},
			{"unknown target", `{"mapping":{"First name":"nickname"}}`, "unknown target"},
			{"unknown field", `{"mapping":{"First name":"field:nope"}}`, "no field"},
			{"nothing mapped", `{"mapping":{"First name":"skip"}}`, "at least one"},
			{"unknown option", `{"mapping":{"First name":"first_name"},"sql":"x"}`, "options"},
			{"dedupe on a name", `{"mapping":{"First name":"first_name"},"dedupe_column":"First name"}`, "e-mail or phone"},
		} {
			res := upload(t, owner.Client, base+"/contact-imports", shop, tc.options)
			if e := errorOf(t, res); res.Status != 422 || !strings.Contains(e.Error.Message, tc.want) {
				t.Errorf("%s: %d %s", tc.name, res.Status, res.Body)
			}
		}
		var list struct{ Imports []importOut }
		owner.Do("GET", base+"/contact-imports", nil).Must(t, 200).JSON(t, &list)
		if len(list.Imports) != 0 {
			t.Fatalf("refused imports were stored: %+v", list.Imports)
		}
		for _, u := range []*apptest.User{agent, viewer} {
			upload(t, u.Client, base+"/contact-imports", shop, shopOptions).Must(t, 403)
			upload(t, u.Client, base+"/contact-imports/preview", shop, "").Must(t, 403)
			u.Do("GET", base+"/contact-imports", nil).Must(t, 403)
			u.Do("GET", base+"/contacts/export.csv", nil).Must(t, 403)
		}

		// Start, run the job, follow the progress.
		var started struct{ Import importOut }
		res := upload(t, owner.Client, base+"/contact-imports", shop, shopOptions).Must(t, 202)
		res.JSON(t, &started)
		id := started.Import.ID
		if started.Import.State != "pending" || started.Import.Total != 4 || !strings.HasSuffix(res.Header.Get("Location"), "/contact-imports/"+id) {
			t.Errorf("started %+v, Location %q", started.Import, res.Header.Get("Location"))
		}
		if err := a.Imports.Process(context.Background(), ws, id); err != nil {
			t.Fatal(err)
		}
		var st struct{ Import importOut }
		owner.Do("GET", base+"/contact-imports/"+id, nil).Must(t, 200).JSON(t, &st)
		got := importOut{State: st.Import.State, Total: st.Import.Total, Done: st.Import.Done, Created: st.Import.Created, Failed: st.Import.Failed}
		if diff := cmp.Diff(importOut{State: "done", Total: 4, Done: 4, Created: 2, Failed: 2}, got); diff != "" {
			t.Errorf("progress (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"First name", "Last name", "E-mail", "Tags", "Stage", "Notes"}, st.Import.Options.Headers); diff != "" {
			t.Errorf("headers (-want +got):\n%s", diff)
		}
		var errs struct {
			Errors []struct {
				Row             int
				Column, Message string
			}
			NextAfter *int `json:"next_after"`
		}
		owner.Do("GET", base+"/contact-imports/"+id+"/errors", nil).Must(t, 200).JSON(t, &errs)
		if len(errs.Errors) != 2 || errs.Errors[0].Row != 3 || errs.Errors[0].Column != "E-mail" || errs.Errors[1].Row != 4 ||
			errs.Errors[0].Message == "" || errs.NextAfter != nil {
			t.Errorf("errors %+v", errs)
		}
		owner.Do("GET", base+"/contact-imports/"+id+"/errors?limit=1", nil).Must(t, 200).JSON(t, &errs)
		if len(errs.Errors) != 1 || errs.NextAfter == nil || *errs.NextAfter != 3 {
			t.Errorf("first page of errors %+v", errs)
		}
		owner.Do("GET", base+"/contact-imports/"+id+"/errors?after=x", nil).Must(t, 422)

		rep := owner.Do("GET", base+"/contact-imports/"+id+"/report.csv", nil).Must(t, 200)
		checkDownload(t, rep)
		recs, err := csv.NewReader(bytes.NewReader(rep.Body)).ReadAll()
		if err != nil || len(recs) != 3 || recs[1][0] != "3" || recs[1][3] != "Sokha" {
			t.Errorf("report %q %v", rep.Body, err)
		}

		// The good rows are contacts; export them.
		exp := owner.Do("GET", base+"/contacts/export.csv?columns=first_name,stage,tags,field:email", nil).Must(t, 200)
		checkDownload(t, exp)
		recs, err = csv.NewReader(bytes.NewReader(exp.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"first_name", "stage", "tags", "field:email"}, {"Dara", "Customer", "VIP", "dara@example.com"}, {"Vanna", "Lead", "New, VIP", "vanna@example.com"}}
		if diff := cmp.Diff(want, recs); diff != "" {
			t.Errorf("export (-want +got):\n%s", diff)
		}
		for _, q := range []string{"?columns=first_name,password", "?columns=field:nope", "?columns=first_name,first_name"} {
			res := owner.Do("GET", base+"/contacts/export.csv"+q, nil)
			if res.Status != 422 || res.ErrorCode() != "invalid_columns" || res.Header.Get("Content-Disposition") != "" {
				t.Errorf("export %s: %d %s", q, res.Status, res.Body)
			}
		}
		owner.Do("GET", base+"/contacts/export.csv?segment_id=no-such-segment", nil).Must(t, 404)

		// An admin API key imports and exports too.
		var k struct{ Secret string }
		owner.Do("POST", base+"/api-keys", map[string]string{"name": "shop", "role": "admin"}).Must(t, 201).JSON(t, &k)
		key := a.Client(t)
		key.Header.Set("Authorization", "Bearer "+k.Secret)
		sendRaw(t, key, "POST", base+"/contact-imports?options="+url.QueryEscape(`{"mapping":{"First name":"first_name"}}`), "text/csv", []byte("First name\nKiri\n")).Must(t, 202)
		key.Do("GET", base+"/contacts/export.csv", nil).Must(t, 200)

		owner.Do("DELETE", base+"/contact-imports/"+id, nil).Must(t, 204)
		owner.Do("GET", base+"/contact-imports/"+id, nil).Must(t, 404)
		owner.Do("GET", base+"/contact-imports/"+id+"/report.csv", nil).Must(t, 404)
	})
}

// checkDownload asserts the headers of a CSV download of personal data.
func checkDownload(t *testing.T, res *apptest.Response) {
	t.Helper()
	h := res.Header
	if !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || h.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="`) || strings.ContainsAny(h.Get("Content-Disposition")[22:], "/\\ ") {
		t.Errorf("download headers %v", h)
	}
}

// With the job workers running, an import started through the API
// finishes by itself: the app registered the import job's handler.
func TestImportRunsInTheBackground(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t), apptest.Started())
	owner := a.SignUp(t, "imp-bg")
	ws := owner.CreateWorkspace(t, "Background")
	base := "/api/v1/workspaces/" + ws
	var started struct{ Import importOut }
	upload(t, owner.Client, base+"/contact-imports", "First name\nDara\nSokha\n", `{"mapping":{"First name":"first_name"}}`).Must(t, 202).JSON(t, &started)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct{ Import importOut }
		owner.Do("GET", base+"/contact-imports/"+started.Import.ID, nil).Must(t, 200).JSON(t, &st)
		if st.Import.State == "done" {
			if st.Import.Created != 2 {
				t.Errorf("done: %+v", st.Import)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import is still %s", st.Import.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

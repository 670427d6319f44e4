package app_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var hiddenData = regexp.MustCompile(`name="data" value="([^"]*)"`)

// CSV uploads of contacts may be larger than other request bodies (up to
// csvio's 10 MB file, base64 in the import wizard's mapping step); every
// other body stays capped.
func TestUploadBodyLimit(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	owner := a.SignUp(t, "upload-limit")
	ws := owner.CreateWorkspace(t, "Uploads")
	big := []byte("Name\n" + strings.Repeat(strings.Repeat("D", 199)+"\n", 45000)) // 9 MB
	res := owner.DoRaw("POST", "/api/v1/workspaces/"+ws+"/contact-imports/preview", "text/csv", big)
	if res.Status != http.StatusOK {
		t.Errorf("a 9 MB CSV preview: %d %.200s", res.Status, res.Body)
	}

	// The dashboard's import wizard takes it too, in both steps.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "big.csv")
	fw.Write(big)
	mw.Close()
	res = owner.DoRaw("POST", "/w/"+ws+"/contact-imports/new", mw.FormDataContentType(), body.Bytes())
	m := hiddenData.FindSubmatch(res.Body)
	if res.Status != http.StatusOK || m == nil {
		t.Fatalf("a 9 MB file in the import wizard: %d", res.Status)
	}
	body.Reset()
	mw = multipart.NewWriter(&body)
	mw.WriteField("data", string(m[1]))
	mw.WriteField("map_0", "first_name")
	mw.Close()
	res = owner.DoRaw("POST", "/w/"+ws+"/contact-imports", mw.FormDataContentType(), body.Bytes())
	if res.Status != http.StatusSeeOther {
		t.Errorf("starting the 9 MB import: %d", res.Status)
	}

	res = owner.DoRaw("POST", "/api/v1/workspaces/"+ws+"/tags", "application/json", []byte(`{"name":"`+strings.Repeat("x", 6<<20)+`"}`))
	if res.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 6 MB body elsewhere: %d, want 413", res.Status)
	}
}

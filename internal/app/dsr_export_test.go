package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-34 as wired: an export carries the contact's attachments and
// the team's private notes on their conversations; an attachment whose
// file is gone does not stop the export, it is named in contact.json as
// not included, and the other one is in the archive.
func TestExportSkipsLostAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		owner := a.SignUp(t, "dsr-media")
		ws := owner.CreateWorkspace(t, "Exports")
		actor := audit.Actor{UserID: owner.ID}
		conv, contactID := a.Conversation(t, ws, "hello")
		kept, err := a.Media.Put(ctx, ws, conv, "user:"+owner.ID, media.Upload{Name: "kept.pdf", Data: []byte("%PDF-1.7 kept")})
		if err != nil {
			t.Fatal(err)
		}
		lost, err := a.Media.Put(ctx, ws, conv, "user:"+owner.ID, media.Upload{Name: "lost.pdf", Data: []byte("%PDF-1.7 lost")})
		if err != nil {
			t.Fatal(err)
		}
		removed := 0
		filepath.WalkDir(filepath.Join(a.Config.DataDir, "media"), func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.Contains(p, lost.ID) {
				removed++
				return os.Remove(p)
			}
			return err
		})
		if removed != 1 {
			t.Fatalf("removed %d files", removed)
		}
		if _, err := a.Timeline.AddNote(ctx, actor, ws, conv, "NOTECANARY asked for a refund"); err != nil {
			t.Fatal(err)
		}

		ex, err := a.DSR.StartExport(ctx, actor, ws, contactID, "")
		if err != nil {
			t.Fatal(err)
		}
		for ex.State != dsr.ExportDone {
			if ex.State == dsr.ExportFailed || ctx.Err() != nil {
				t.Fatalf("export %+v", ex)
			}
			time.Sleep(20 * time.Millisecond)
			if ex, err = a.DSR.GetExport(ctx, ws, ex.ID); err != nil {
				t.Fatal(err)
			}
		}
		_, data, err := a.DSR.Download(ctx, actor, ws, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			files[f.Name] = string(b)
		}
		var doc dsr.Document
		if err := json.Unmarshal([]byte(files["contact.json"]), &doc); err != nil {
			t.Fatal(err)
		}
		if got := files["attachments/"+kept.ID+"-kept.pdf"]; got != "%PDF-1.7 kept" || len(files) != 2 {
			t.Errorf("archive holds %d files; kept.pdf %q", len(files), got)
		}
		if n := doc.NotIncluded; len(n) != 1 || n[0].Name != lost.ID+"-lost.pdf" || !strings.Contains(n[0].Reason, "could not be included") {
			t.Errorf("not included %+v", n)
		}
		if len(doc.Conversations) != 1 || len(doc.Conversations[0].Notes) != 1 ||
			doc.Conversations[0].Notes[0].Text != "NOTECANARY asked for a refund" || doc.Conversations[0].Notes[0].Author != fmt.Sprintf("user:%s", owner.ID) {
			t.Errorf("conversations %+v", doc.Conversations)
		}
	})
}

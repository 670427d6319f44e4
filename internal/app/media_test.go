package app_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promises P-25, P-31, P-33: an attachment follows its contact through a
// merge (re-sealed under the kept contact's key, so it still opens after
// the merged contact's key is destroyed); deleting its conversation
// deletes its row, and the media sweep then removes every file no row
// points at (the merged contact's old copy and the deleted one).
func TestAttachmentsFollowMergeAndDeletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		ctx := context.Background()
		owner := a.SignUp(t, "media-owner")
		ws := owner.CreateWorkspace(t, "Media")
		actor := audit.Actor{UserID: owner.ID}
		_, keep := a.Conversation(t, ws, "hello")
		goneConv, gone := a.Conversation(t, ws, "hello")
		o, err := a.Media.Put(ctx, ws, goneConv, "user:"+owner.ID, media.Upload{Name: "receipt.pdf", Data: []byte("%PDF-1.7 receipt")})
		if err != nil {
			t.Fatal(err)
		}
		files := func() int {
			n := 0
			filepath.WalkDir(filepath.Join(a.Config.DataDir, "media"), func(_ string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					n++
				}
				return err
			})
			return n
		}

		if _, err := a.MergeContacts(ctx, actor, ws, keep, gone); err != nil {
			t.Fatal(err)
		}
		got, data, err := a.Media.Open(ctx, ws, o.ID)
		if err != nil || string(data) != "%PDF-1.7 receipt" || got.ContactID != keep || got.Name != "receipt.pdf" {
			t.Fatalf("after the merge: %+v %q %v", got, data, err)
		}
		if n := files(); n != 2 {
			t.Fatalf("%d files after the merge, want the re-sealed one and the old one", n)
		}

		if err := a.DeleteConversation(ctx, actor, ws, goneConv); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Media.Get(ctx, ws, o.ID); err == nil {
			t.Error("the deleted conversation's attachment is still recorded")
		}
		// Past the sweep's grace (files carry the wall clock's times).
		a.Clock.Advance(time.Since(a.Clock.Now()) + 2*time.Hour)
		if _, err := a.Media.Sweep(ctx, ws, 100); err != nil {
			t.Fatal(err)
		}
		if n := files(); n != 0 {
			t.Errorf("%d files left after the sweep", n)
		}
	})
}

package media_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

// Promise P-31: what Put writes holds no plaintext — not the file, not its
// name, in clear, hex or base64, on disk or in the database — and Open
// gives the file back exactly.
func TestPutSealsBeforeWriting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, media.Options{})
		ctx := context.Background()
		c := e.conversation(t, e.workspace(t))
		canary := "canary-" + strings.Repeat("Xq7", 20) + " the secret invoice text"
		name := "invoice-CANARYNAME-0042.txt"
		img := pngImage(t, 40, 40)

		for _, tc := range []struct {
			name, file, kind, ct string
			data                 []byte
		}{
			{"text file", name, media.KindFile, "text/plain", []byte(canary)},
			{"png image", "photo.png", media.KindImage, "image/png", img},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o, err := e.store.Put(ctx, c.ws, c.id, "user:u1", media.Upload{Name: tc.file, Data: tc.data})
				if err != nil {
					t.Fatal(err)
				}
				if o.Kind != tc.kind || o.ContentType != tc.ct || o.Size != int64(len(tc.data)) || o.ContactID != c.contactID || o.Name != tc.file {
					t.Fatalf("object = %+v", o)
				}
				got, data, err := e.store.Open(ctx, c.ws, o.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, tc.data) || got.Name != tc.file || got.ConversationID != c.id {
					t.Fatalf("Open gave %d bytes, %+v", len(data), got)
				}
			})
		}

		// Scan every stored file and the whole database for the plaintext.
		needles := map[string][]byte{}
		for label, p := range map[string][]byte{"text": []byte(canary), "name": []byte("CANARYNAME"), "png pixels": img[len(img)-80 : len(img)-20]} {
			needles[label+" clear"] = p
			needles[label+" hex"] = []byte(hex.EncodeToString(p))
			needles[label+" base64"] = []byte(base64.StdEncoding.EncodeToString(p)[:len(p)])
		}
		files := e.files(t)
		if len(files) != 2 {
			t.Fatalf("%d files stored, want 2", len(files))
		}
		dump := dbtest.DumpText(t, d)
		for label, n := range needles {
			for path, b := range files {
				if bytes.Contains(b, n) {
					t.Errorf("%s found in %s", label, path)
				}
			}
			if bytes.Contains([]byte(dump), n) {
				t.Errorf("%s found in the database", label)
			}
		}
		// Every file is an envelope, written 0600.
		for path, b := range files {
			if _, err := keyring.ParseHeader(b); err != nil {
				t.Errorf("%s is not an envelope: %v", path, err)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v (%v), want 0600", path, fi.Mode().Perm(), err)
			}
		}
	})
}

// Uploads Parley must not accept are refused with a message for the
// person, and nothing is stored: no row, no file (security.md J-4, J-10,
// J-11).
func TestPutRefusesAndStoresNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, media.Options{MaxBytes: 4096})
		ctx := context.Background()
		c := e.conversation(t, e.workspace(t))
		for _, tc := range []struct {
			name    string
			data    []byte
			tooBig  bool
			message string
		}{
			{"empty", nil, false, "empty"},
			{"too large", bytes.Repeat([]byte("a"), 4097), true, "most Parley can send is 4 KB"},
			{"html", []byte("<!doctype html><script>alert(1)</script>"), false, "cannot send this kind"},
			{"svg", []byte(`  <svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), false, "cannot send this kind"},
			{"executable", []byte("\x7fELF\x02\x01\x01\x00binary"), false, "cannot send this kind"},
			{"jpeg that is html", append([]byte("<html>"), 0xff, 0xd8, 0xff), false, "cannot send this kind"},
			{"damaged png", []byte("\x89PNG\r\n\x1a\nnot really"), false, "cannot be read"},
			{"pixel flood", pixelFlood(t, 50000, 50000), false, "pixels"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.store.Put(ctx, c.ws, c.id, "user:u1", media.Upload{Name: "x.jpg", Data: tc.data})
				v, ok := validate.As(err)
				if !ok || v.Field != "file" || !strings.Contains(v.Message, tc.message) {
					t.Fatalf("err = %v, want a file error saying %q", err, tc.message)
				}
				if got := errors.Is(err, media.ErrTooLarge); got != tc.tooBig {
					t.Errorf("errors.Is(ErrTooLarge) = %v", got)
				}
			})
		}
		if n := e.count(t); n != 0 {
			t.Errorf("%d rows stored", n)
		}
		if f := e.files(t); len(f) != 0 {
			t.Errorf("%d files stored", len(f))
		}
	})
}

// Security test plan A (BOLA): another workspace's object or conversation
// is not found, whatever the ID.
func TestForeignWorkspaceCannotReach(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, media.Options{})
		ctx := context.Background()
		a, b := e.conversation(t, e.workspace(t)), e.conversation(t, e.workspace(t))
		o, err := e.store.Put(ctx, a.ws, a.id, "", media.Upload{Name: "a.txt", Data: []byte("for A only")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Get(ctx, b.ws, o.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get from B: %v", err)
		}
		if _, _, err := e.store.Open(ctx, b.ws, o.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Open from B: %v", err)
		}
		if err := e.store.Delete(ctx, b.ws, o.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Delete from B: %v", err)
		}
		if err := e.store.LinkMessage(ctx, b.ws, o.ID, "m"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("LinkMessage from B: %v", err)
		}
		// B cannot store into A's conversation.
		if _, err := e.store.Put(ctx, b.ws, a.id, "", media.Upload{Name: "b.txt", Data: []byte("hello")}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Put into A's conversation from B: %v", err)
		}
		if _, data, err := e.store.Open(ctx, a.ws, o.ID); err != nil || string(data) != "for A only" {
			t.Errorf("A's own Open: %q, %v", data, err)
		}
		if e.count(t) != 1 {
			t.Errorf("rows = %d, want 1", e.count(t))
		}
	})
}

// Promise P-33 / security.md §2.5: erasing the contact (rows deleted and
// key destroyed in one transaction) leaves every copy of its files
// unreadable, and UnlinkContact removes the files; destroying the key
// alone already makes Open fail.
func TestEraseContactShredsObjects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, media.Options{})
		ctx := context.Background()
		c, other := e.conversation(t, e.workspace(t)), e.conversation(t, e.workspace(t))
		o, err := e.store.Put(ctx, c.ws, c.id, "", media.Upload{Name: "a.txt", Data: []byte("erase me")})
		if err != nil {
			t.Fatal(err)
		}
		keep, err := e.store.Put(ctx, other.ws, other.id, "", media.Upload{Name: "b.txt", Data: []byte("keep me")})
		if err != nil {
			t.Fatal(err)
		}
		// A copy taken before erasure, as a backup would hold it.
		var copied []byte
		for _, b := range e.files(t) {
			if !bytes.Contains(b, []byte("keep me")) {
				copied = b
			}
		}

		t.Run("key destroyed: unreadable", func(t *testing.T) {
			if err := e.kr.DestroyContactKey(ctx, nil, c.ws, c.contactID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.store.Open(ctx, c.ws, o.ID); !errors.Is(err, media.ErrUnreadable) {
				t.Fatalf("Open after the key was destroyed: %v", err)
			}
		})
		t.Run("erase hook and unlink", func(t *testing.T) {
			err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				if err := e.store.EraseContact(ctx, tx, c.ws, c.contactID); err != nil {
					return err
				}
				return e.kr.DestroyContactKey(ctx, tx, c.ws, c.contactID)
			})
			if err != nil {
				t.Fatal(err)
			}
			e.store.UnlinkContact(ctx, c.ws, c.contactID)
			if _, err := e.store.Get(ctx, c.ws, o.ID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("Get after erasure: %v", err)
			}
			files := e.files(t)
			if len(files) != 1 {
				t.Errorf("%d files left, want only the other contact's", len(files))
			}
			// The old copy does not open, even with the same AAD.
			if copied == nil {
				t.Fatal("no copy taken")
			}
			aad := keyring.AAD{Workspace: c.ws, Table: "media_objects", Column: "data:" + c.contactID, Row: o.ID}
			if _, err := e.kr.OpenContact(ctx, aad, c.contactID, copied); err == nil {
				t.Error("a copy taken before erasure still opens")
			}
			if _, data, err := e.store.Open(ctx, other.ws, keep.ID); err != nil || string(data) != "keep me" {
				t.Errorf("the other contact's file: %q, %v", data, err)
			}
		})
	})
}

// Promise P-35 (attachments' retention): Purge deletes what is older than
// the cutoff in batches of limit, files and rows, leaves the rest, and
// sweeps files no row points at once they are older than the grace.
func TestPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, media.Options{})
		ctx := context.Background()
		c := e.conversation(t, e.workspace(t))
		other := e.conversation(t, e.workspace(t))
		var ids []string
		for i := range 3 {
			o, err := e.store.Put(ctx, c.ws, c.id, "", media.Upload{Name: "f.txt", Data: []byte("file " + string(rune('a'+i)))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.ID)
			e.now = e.now.Add(time.Hour)
		}
		if _, err := e.store.Put(ctx, other.ws, other.id, "", media.Upload{Name: "f.txt", Data: []byte("other workspace")}); err != nil {
			t.Fatal(err)
		}
		cutoff := e.now.Add(-90 * time.Minute) // after the first two, before the third
		n, err := e.store.Purge(ctx, c.ws, cutoff, 1)
		if err != nil || n != 1 {
			t.Fatalf("first batch: %d, %v", n, err)
		}
		if _, err := e.store.Get(ctx, c.ws, ids[0]); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("oldest still there: %v", err)
		}
		n, err = e.store.Purge(ctx, c.ws, cutoff, 10)
		if err != nil || n != 1 {
			t.Fatalf("second batch: %d, %v", n, err)
		}
		if _, _, err := e.store.Open(ctx, c.ws, ids[2]); err != nil {
			t.Errorf("the newest was purged: %v", err)
		}
		if n, err := e.store.Purge(ctx, c.ws, cutoff, 10); err != nil || n != 0 {
			t.Errorf("third run: %d, %v", n, err)
		}
		if got := len(e.files(t)); got != 2 {
			t.Errorf("%d files left, want 2", got)
		}

		// A file no row points at (a crash between file and row, a deleted
		// conversation) goes once older than the grace, not before.
		stray := c.ws + "/" + c.contactID + "/0190aaaa-0000-7000-8000-000000000000"
		if err := e.disk.Put(ctx, stray, []byte("sealed leftovers")); err != nil {
			t.Fatal(err)
		}
		e.now = time.Now().UTC()
		if n, err := e.store.Purge(ctx, c.ws, cutoff, 10); err != nil || n != 0 {
			t.Errorf("young stray swept: %d, %v", n, err)
		}
		e.now = time.Now().UTC().Add(2 * time.Hour)
		if n, err := e.store.Purge(ctx, c.ws, cutoff, 10); err != nil || n != 1 {
			t.Errorf("old stray: %d, %v", n, err)
		}
		if _, err := e.disk.Get(ctx, stray); !errors.Is(err, media.ErrNoObject) {
			t.Errorf("stray still there: %v", err)
		}
		if _, _, err := e.store.Open(ctx, c.ws, ids[2]); err != nil {
			t.Errorf("the sweep took a live file: %v", err)
		}
		if got := len(e.files(t)); got != 2 {
			t.Errorf("%d files left, want 2", got)
		}
	})
}

// Security test plan A-10: the signed URL token opens its object until it
// expires; any altered part, an expired token or another Store's key gives
// not found.
func TestTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, media.Options{})
		ctx := context.Background()
		c := e.conversation(t, e.workspace(t))
		o, err := e.store.Put(ctx, c.ws, c.id, "", media.Upload{Name: "a.txt", Data: []byte("fetch me")})
		if err != nil {
			t.Fatal(err)
		}
		o2, err := e.store.Put(ctx, c.ws, c.id, "", media.Upload{Name: "b.txt", Data: []byte("not me")})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := e.store.Token(o, e.now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := media.ObjectIDOf(tok); !ok || id != o.ID {
			t.Errorf("ObjectIDOf = %q, %v", id, ok)
		}
		if _, data, err := e.store.OpenToken(ctx, tok); err != nil || string(data) != "fetch me" {
			t.Fatalf("OpenToken: %q, %v", data, err)
		}
		parts := strings.Split(tok, ".")
		other := media.New(d, e.kr, e.disk, media.Options{Now: func() time.Time { return e.now }, URLKey: bytes.Repeat([]byte{8}, 32)})
		for name, bad := range map[string]string{
			"other object":   o2.ID + "." + parts[1] + "." + parts[2],
			"later expiry":   parts[0] + "." + "zzzzzz" + "." + parts[2],
			"altered mac":    parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
			"short mac":      parts[0] + "." + parts[1] + "." + parts[2][:10],
			"no mac":         parts[0] + "." + parts[1],
			"path traversal": "../../etc/passwd." + parts[1] + "." + parts[2],
			"empty":          "",
			"garbage":        "....",
		} {
			if _, _, err := e.store.OpenToken(ctx, bad); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, _, err := other.OpenToken(ctx, tok); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another key: %v", err)
		}
		// A workspace being deleted is gone at once (P-33).
		if _, err := d.W.NewRaw(`UPDATE workspaces SET deletion_requested_at = ? WHERE id = ?`, e.now, c.ws).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.store.OpenToken(ctx, tok); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("workspace being deleted: %v", err)
		}
		if _, err := d.W.NewRaw(`UPDATE workspaces SET deletion_requested_at = NULL WHERE id = ?`, c.ws).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.store.OpenToken(ctx, tok); err != nil {
			t.Errorf("after the deletion was cancelled: %v", err)
		}
		e.now = e.now.Add(time.Hour)
		if _, _, err := e.store.OpenToken(ctx, tok); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("expired: %v", err)
		}
		noKey := media.New(d, e.kr, e.disk, media.Options{Now: func() time.Time { return e.now }, URLKey: []byte{}})
		if _, err := noKey.Token(o, e.now.Add(time.Hour)); err == nil {
			t.Error("Token without a URL key succeeded")
		}
	})
}

// Merging contacts (issue 5, P-25): the gone contact's objects are
// re-sealed under the kept contact's key, so they still open after the
// gone contact's key is destroyed; the old files are swept.
func TestMoveContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, media.Options{})
		ctx := context.Background()
		ws := e.workspace(t)
		keep, gone := e.conversation(t, ws), e.conversation(t, ws)
		o, err := e.store.Put(ctx, ws, gone.id, "", media.Upload{Name: "merged.txt", Data: []byte("moved with the person")})
		if err != nil {
			t.Fatal(err)
		}
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := e.store.MoveContact(ctx, tx, ws, gone.contactID, keep.contactID); err != nil {
				return err
			}
			return e.kr.DestroyContactKey(ctx, tx, ws, gone.contactID)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, data, err := e.store.Open(ctx, ws, o.ID)
		if err != nil || string(data) != "moved with the person" || got.ContactID != keep.contactID || got.Name != "merged.txt" {
			t.Fatalf("after the merge: %+v %q %v", got, data, err)
		}
		if n := len(e.files(t)); n != 2 {
			t.Fatalf("%d files, want the new and the old", n)
		}
		e.now = time.Now().UTC().Add(2 * time.Hour)
		if n, err := e.store.Purge(ctx, ws, fixture0(), 10); err != nil || n != 1 {
			t.Errorf("sweeping the old file: %d, %v", n, err)
		}
		if _, data, err := e.store.Open(ctx, ws, o.ID); err != nil || string(data) != "moved with the person" {
			t.Errorf("after the sweep: %q, %v", data, err)
		}
	})
}

// fixture0 is a cutoff before every object of the tests.
func fixture0() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }

// Promise P-35 (security test plan N-3, N-7): an attachment is part of its
// message, so when the message's content expires its object goes in the
// same transaction (ForgetMessages, retention's message hook) and its file
// at the next sweep; a contact under a legal hold keeps its attachments
// through Purge while another contact's go.
func TestRetentionReachesAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, media.Options{})
		ctx := context.Background()
		c := e.conversation(t, e.workspace(t))
		held := e.conversation(t, c.ws)
		sent, err := e.store.Put(ctx, c.ws, c.id, "", media.Upload{Name: "f.txt", Data: []byte("sent with a message")})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := e.store.Put(ctx, held.ws, held.id, "", media.Upload{Name: "f.txt", Data: []byte("under a legal hold")})
		if err != nil {
			t.Fatal(err)
		}
		loose, err := e.store.Put(ctx, c.ws, c.id, "", media.Upload{Name: "f.txt", Data: []byte("not held")})
		if err != nil {
			t.Fatal(err)
		}
		msgID := uuid.Must(uuid.NewV7()).String()
		if _, err := d.W.NewRaw(`INSERT INTO messages (id, workspace_id, channel_id, conversation_id, contact_id, direction, kind, body,
			sender_type, status, created_at, updated_at)
			SELECT ?, workspace_id, channel_id, id, contact_id, 'out', 'file', ?, 'agent', 'sent', ?, ? FROM conversations WHERE id = ?`,
			msgID, []byte{1}, e.now, e.now, c.id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.store.LinkMessage(ctx, c.ws, sent.ID, msgID); err != nil {
			t.Fatal(err)
		}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return e.store.ForgetMessages(ctx, tx, c.ws, []string{msgID})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Get(ctx, c.ws, sent.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("the expired message's attachment is still there: %v", err)
		}
		if _, err := e.store.Get(ctx, c.ws, loose.ID); err != nil {
			t.Errorf("an attachment of no expired message went: %v", err)
		}

		if _, err := d.W.NewRaw(`INSERT INTO retention_holds (id, workspace_id, contact_id, reason, created_at) VALUES (?, ?, ?, 'court order', ?)`,
			uuid.Must(uuid.NewV7()).String(), held.ws, held.contactID, e.now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := e.store.Purge(ctx, c.ws, e.now.Add(time.Hour), 10); err != nil || n != 1 {
			t.Errorf("purge = %d, %v; want only the unheld attachment", n, err)
		}
		if _, _, err := e.store.Open(ctx, held.ws, kept.ID); err != nil {
			t.Errorf("a held contact's attachment was purged: %v", err)
		}
		if _, err := e.store.Get(ctx, c.ws, loose.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("the unheld attachment survived the purge: %v", err)
		}
	})
}

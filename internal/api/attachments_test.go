package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// multipartBody builds a form with one file (unless name is "") and a
// caption.
func multipartBody(t *testing.T, name string, data []byte, caption string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if caption != "" {
		w.WriteField("text", caption)
	}
	if name != "" {
		part, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(data)
	}
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

// testPNG is an uncompressed PNG, so its pixel bytes appear in clear in
// the plaintext, for the scans below.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = byte(i*7 + 3)
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mediaFiles reads every file under the app's media directory.
func mediaFiles(t *testing.T, a *apptest.App) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root := filepath.Join(a.Config.DataDir, "media")
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Promise P-31 and issue 5 item 1 (reply box attachments) end to end
// through the Meta simulator, on both databases: an agent sends a photo
// with a caption through the API; the caption and the photo reach the
// Send API, the photo by an unguessable Parley URL that serves exactly the
// file to whoever fetches it (as Meta does) while the stored copy holds no
// plaintext; members read it back, another workspace gets 404, and once
// the contact's key is destroyed nobody can.
func TestAttachmentReachesMessenger(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		owner := a.SignUp(t, "attach")
		ws := owner.CreateWorkspace(t, "Attach")
		viewer := a.SignUp(t, "attach-viewer")
		a.Join(t, owner, ws, viewer, "viewer")
		stranger := a.SignUp(t, "attach-stranger")
		otherWS := stranger.CreateWorkspace(t, "Other")
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		sim := a.Sim.Sim()
		page := ch.ExternalID
		psid := sim.AddPerson(page, metasim.Person{FirstName: "Sok", LastName: "Dara"})
		if _, status, err := sim.SendText(ctx, page, psid, "Do you have it in blue?"); err != nil || status != 200 {
			t.Fatalf("webhook: %d %v", status, err)
		}
		base := "/api/v1/workspaces/" + ws + "/conversations"
		var list inboxPage
		eventually(t, "the conversation is listed", func() bool {
			owner.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
			return len(list.Conversations) == 1
		})
		conv := base + "/" + list.Conversations[0].ID
		photo := testPNG(t)

		// Viewers cannot send; nothing is stored.
		ct, body := multipartBody(t, "blue.png", photo, "")
		viewer.DoRaw("POST", conv+"/attachments", ct, body).Must(t, 403)
		// Another workspace's conversation is a 404.
		stranger.DoRaw("POST", "/api/v1/workspaces/"+otherWS+"/conversations/"+list.Conversations[0].ID+"/attachments", ct, body).Must(t, 404)

		ct, body = multipartBody(t, "blue.png", photo, "Here it is in blue")
		var sent struct {
			Attachment struct {
				ID, Kind, Name string
				ContentType    string `json:"content_type"`
				MessageID      string `json:"message_id"`
				ContentURL     string `json:"content_url"`
				Size           int64
			}
			Messages []struct{ ID string }
		}
		owner.DoRaw("POST", conv+"/attachments", ct, body).Must(t, 201).JSON(t, &sent)
		at := sent.Attachment
		if at.Kind != "image" || at.Size != int64(len(photo)) || at.Name != "blue.png" || len(sent.Messages) != 2 || at.MessageID != sent.Messages[1].ID {
			t.Fatalf("answer: %+v", sent)
		}

		msgs, err := sim.WaitSent(ctx, page, 2)
		if err != nil {
			t.Fatal(err)
		}
		var caption struct{ Text string }
		json.Unmarshal(msgs[0].Message, &caption)
		if caption.Text != "Here it is in blue" {
			t.Errorf("first message: %s", msgs[0].Message)
		}
		var media struct {
			Attachment struct {
				Type    string
				Payload struct {
					URL        string `json:"url"`
					IsReusable bool   `json:"is_reusable"`
				}
			}
		}
		if err := json.Unmarshal(msgs[1].Message, &media); err != nil {
			t.Fatal(err)
		}
		u := media.Attachment.Payload.URL
		if media.Attachment.Type != "image" || !strings.HasPrefix(u, a.Server.URL+"/media/") || !strings.Contains(u, at.ID+".") {
			t.Fatalf("the photo sent as %s", msgs[1].Message)
		}

		// Meta fetches the URL with no cookie: it gets exactly the photo,
		// served so that no browser would run it.
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var fetched bytes.Buffer
		fetched.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Equal(fetched.Bytes(), photo) || res.Header.Get("Content-Type") != "image/png" ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("fetching the sent URL: %d %v, %d bytes", res.StatusCode, res.Header, fetched.Len())
		}
		// An altered token is a 404.
		if res, err := http.Get(u[:len(u)-2] + "xx"); err != nil || res.StatusCode != 404 {
			t.Errorf("altered URL: %v %v", res.StatusCode, err)
		}

		// On disk: one file, an envelope without the photo's pixels.
		files := mediaFiles(t, a)
		if len(files) != 1 {
			t.Fatalf("%d files stored", len(files))
		}
		window := photo[len(photo)-200 : len(photo)-100]
		for p, b := range files {
			if bytes.Contains(b, window) || bytes.Contains(b, []byte("blue.png")) {
				t.Errorf("%s holds plaintext", p)
			}
		}

		// Members read it back; another workspace cannot, by any route.
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/attachments/"+at.ID, nil).Must(t, 200)
		got := viewer.Do("GET", at.ContentURL, nil).Must(t, 200)
		if !bytes.Equal(got.Body, photo) {
			t.Error("the member route does not give the photo back")
		}
		stranger.Do("GET", "/api/v1/workspaces/"+otherWS+"/attachments/"+at.ID, nil).Must(t, 404)
		stranger.Do("GET", "/api/v1/workspaces/"+otherWS+"/attachments/"+at.ID+"/content", nil).Must(t, 404)
		stranger.Do("GET", at.ContentURL, nil).Must(t, 404)
		stranger.Do("GET", "/w/"+otherWS+"/media/"+at.ID, nil).Must(t, 404)

		// Refusals store nothing.
		rows := countRows(t, d, "media_objects")
		for _, tc := range []struct {
			name, file string
			data       []byte
			status     int
			code       string
		}{
			{"html", "page.html", []byte("<html><script>alert(1)</script></html>"), 422, "invalid_file"},
			{"no file", "", nil, 422, "invalid_file"},
			{"too large", "big.txt", bytes.Repeat([]byte("a"), 25<<20+1), 413, "file_too_large"},
		} {
			ct, body := multipartBody(t, tc.file, tc.data, "caption")
			res := owner.DoRaw("POST", conv+"/attachments", ct, body).Must(t, tc.status)
			if res.ErrorCode() != tc.code {
				t.Errorf("%s: code %q, want %q", tc.name, res.ErrorCode(), tc.code)
			}
		}
		owner.DoRaw("POST", conv+"/attachments", "application/json", []byte(`{"text":"x"}`)).Must(t, 400)
		if n := countRows(t, d, "media_objects"); n != rows {
			t.Errorf("refusals stored %d rows", n-rows)
		}
		if n := len(mediaFiles(t, a)); n != 1 {
			t.Errorf("refusals stored %d files", n-1)
		}
		if n := len(sim.Sent(page)); n != 2 {
			t.Errorf("%d messages reached Messenger, want 2", n)
		}

		// Crypto-shredding: once the contact's key is gone, the object
		// opens for nobody; erasing the contact (the real route, with the
		// hooks the app wires) removes its row and its file too.
		var sealed []byte
		for _, b := range mediaFiles(t, a) {
			sealed = b
		}
		contactID := list.Conversations[0].Contact.ID
		if err := a.Keyring.DestroyContactKey(ctx, nil, ws, contactID); err != nil {
			t.Fatal(err)
		}
		owner.Do("GET", at.ContentURL, nil).Must(t, 404)
		if res, err := http.Get(u); err != nil || res.StatusCode != 404 {
			t.Errorf("the sent URL after the key was destroyed: %v %v", res.StatusCode, err)
		}
		owner.Do("DELETE", "/api/v1/workspaces/"+ws+"/contacts/"+contactID, nil).Must(t, 204)
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/attachments/"+at.ID, nil).Must(t, 404)
		if n := countRows(t, d, "media_objects"); n != 0 {
			t.Errorf("%d attachment rows left after erasure", n)
		}
		if n := len(mediaFiles(t, a)); n != 0 {
			t.Errorf("%d files left after erasure", n)
		}
		aad := keyring.AAD{Workspace: ws, Table: "media_objects", Column: "data:" + contactID, Row: at.ID}
		if _, err := a.Keyring.OpenContact(ctx, aad, contactID, sealed); err == nil {
			t.Error("a copy of the file taken before erasure still opens")
		}
	})
}

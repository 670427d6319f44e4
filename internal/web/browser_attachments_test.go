package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// mediaRows counts the stored attachments.
func (s *site) mediaRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.DB.R.NewRaw(`SELECT count(*) FROM media_objects`).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Promise P-31 and issue 5 item 1 (reply box attachments) in a real
// browser, with the strict CSP on: on a conversation page the agent picks
// a file that Parley does not send (an HTML page) and sees why under the
// file input, with nothing stored; then picks a photo with a caption and
// sends it: Messenger (the simulator) receives the caption and the photo,
// and the thread shows the photo, served to the signed-in member through
// the member-only route. Screenshots land in testdata/output/.
func TestBrowserAttachment(t *testing.T) {
	s := start(t, dbtest.SQLite(t), apptest.Started())
	owner, addr := s.signUp(t, "Bopha")
	ws := owner.createWorkspace("Bopha's Bags")
	channels := "/w/" + ws + "/channels"
	chID := channelID(t, owner.post(channels+"/test-page", nil).redirectsTo(t, channels+"/"))
	owner.post(channels+"/"+chID+"/test-conversation", url.Values{"text": {"Is the red bag in stock?"}}).redirectsTo(t, "/w/"+ws+"/conversations")
	convID := conversationLink.FindStringSubmatch(owner.eventually("/w/"+ws+"/conversations", "Is the red bag in stock?").Body)[1]

	dir := t.TempDir()
	bad := filepath.Join(dir, "offer.html")
	os.WriteFile(bad, []byte("<html><script>alert(1)</script></html>"), 0o600)
	img := image.NewNRGBA(image.Rect(0, 0, 160, 120))
	for y := range 120 {
		for x := range 160 {
			img.Set(x, y, color.NRGBA{R: 200, G: uint8(40 + y), B: uint8(60 + x/2), A: 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	photo := filepath.Join(dir, "red-bag.png")
	os.WriteFile(photo, buf.Bytes(), 0o600)

	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/conversations/"+convID),
		chromedp.WaitVisible(chromedp.CSS("#attach-file")),
	)
	// A real, focusable file input with its label: reachable by keyboard.
	until(t, ctx, `document.querySelector('label[for="attach-file"]') !== null && document.querySelector("#attach-file").tabIndex >= 0`)

	form := `form[data-attach-form]`
	browser.Do(t, ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#attach-file"), []string{bad}),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#attach-error")),
	)
	if got := text(t, ctx, "#attach-error"); !strings.Contains(got, "cannot send this kind of file") {
		t.Errorf("the refusal says %q", got)
	}
	browser.Screenshot(t, ctx, "attachment-refused")
	if n := s.mediaRows(t); n != 0 {
		t.Errorf("a refused file stored %d rows", n)
	}

	browser.Do(t, ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#attach-file"), []string{photo}),
		chromedp.SendKeys(chromedp.CSS("#attach-caption"), "Here it is", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".message-out img.bubble-image")),
	)
	// The preview really loads (same origin, member-only route, CSP on).
	until(t, ctx, `(() => { const i = document.querySelector(".message-out img.bubble-image"); return i && i.complete && i.naturalWidth === 160 && i.getBoundingClientRect().width >= 100 })()`)
	src := browser.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector(".message-out img.bubble-image").getAttribute("src")`))
	if !strings.HasPrefix(src, "/w/"+ws+"/media/") {
		t.Errorf("the preview comes from %q", src)
	}
	browser.Screenshot(t, ctx, "attachment-sent")

	wait, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sent, err := s.Sim.Sim().WaitSent(wait, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Attachment struct {
			Type    string
			Payload struct{ URL string }
		}
	}
	json.Unmarshal(sent[len(sent)-1].Message, &m)
	if m.Attachment.Type != "image" || !strings.Contains(m.Attachment.Payload.URL, "/media/") {
		t.Errorf("Messenger received %s", sent[len(sent)-1].Message)
	}
	if n := s.mediaRows(t); n != 1 {
		t.Errorf("%d attachments stored, want 1", n)
	}
}

package web

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/media"
)

// The reply box's file input offers exactly the types media accepts.
func TestAttachFormMatchesMedia(t *testing.T) {
	b, err := templateFS.ReadFile("templates/layout/attachments.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `accept="`+media.AcceptAttr+`"`) {
		t.Errorf("the file input's accept attribute is not media.AcceptAttr (%s)", media.AcceptAttr)
	}
	if !strings.Contains(string(b), "Up to 25 MB") || media.DefaultMaxBytes != 25<<20 {
		t.Error("the hint's size limit is not media.DefaultMaxBytes")
	}
}

// A sent attachment's row points at the member-only route, with a preview
// for photos; other links (a platform's CDN, another host's /media/) are
// left alone.
func TestAttachmentPreviews(t *testing.T) {
	d := &Dashboard{Deps: Deps{BaseURL: "https://parley.example/", MediaPath: "/media/"}}
	id := "0190aaaa-0000-7000-8000-000000000001"
	ours := "https://parley.example/media/" + id + ".abc.mac"
	m := inbox.Message{Direction: inbox.Out, Content: channel.Content{Attachments: []channel.Attachment{
		{Type: channel.AttachImage, URL: ours},
		{Type: channel.AttachFile, URL: "https://evil.example/media/" + id + ".abc.mac"},
	}}}
	row := messageRow{Body: describe(m.Content)}
	d.attachmentPreviews("ws1", m, &row)
	want := "/w/ws1/media/" + id
	if e := row.Body.Extras[0]; e.URL != want || e.Image != want {
		t.Errorf("our photo: %+v", e)
	}
	if e := row.Body.Extras[1]; e.URL != "https://evil.example/media/"+id+".abc.mac" || e.Image != "" {
		t.Errorf("another host's link: %+v", e)
	}
	// An inbound message is never rewritten.
	m.Direction = inbox.In
	row = messageRow{Body: describe(m.Content)}
	d.attachmentPreviews("ws1", m, &row)
	if row.Body.Extras[0].URL != ours {
		t.Errorf("inbound: %+v", row.Body.Extras[0])
	}
}

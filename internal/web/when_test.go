package web

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"},
		{now.Add(30 * time.Second), "just now"}, // a clock slightly ahead
		{now.Add(-59 * time.Second), "just now"},
		{now.Add(-time.Minute), "1 minute ago"},
		{now.Add(-3 * time.Minute), "3 minutes ago"},
		{now.Add(-time.Hour), "1 hour ago"},
		{now.Add(-23 * time.Hour), "23 hours ago"},
		{now.Add(-30 * time.Hour), "yesterday"},
		{now.Add(-3 * 24 * time.Hour), "3 days ago"},
		{now.Add(-10 * 24 * time.Hour), "on 11 Nov"},
		{now.AddDate(-1, 0, 0), "on 21 Nov 2025"},
	} {
		if got := ago(tc.t, now); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
	if got := clock(now.Add(-time.Hour), now); got != "08:00" {
		t.Errorf("clock today = %q", got)
	}
	if got := clock(now.AddDate(0, 0, -2), now); got != "19 Nov, 09:00" {
		t.Errorf("clock this year = %q", got)
	}
}

// A message's content in words: media are links (never embedded), only
// http(s) links are kept, and the preview is one bounded line.
func TestDescribe(t *testing.T) {
	got := describe(channel.Content{
		Text:        "Look",
		Attachments: []channel.Attachment{{Type: channel.AttachImage, URL: "https://cdn.example/p.jpg"}, {Type: channel.AttachFallback, URL: "javascript:alert(1)", Title: "A link"}},
		Buttons:     []channel.Button{{Type: channel.ButtonPostback, Title: "Yes", Payload: "Y"}, {Type: channel.ButtonPostback, Title: "No", Payload: "N"}},
	})
	want := bodyView{Text: "Look", Extras: []extra{
		{Label: "Photo", URL: "https://cdn.example/p.jpg"}, {Label: "A link"}, {Label: "Buttons: Yes · No"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("describe (-want +got):\n%s", diff)
	}
	if got := describe(channel.Content{Postback: &channel.Postback{Title: "Get Started", Payload: "GET_STARTED"}}); got.Extras[0].Label != "Tapped “Get Started”" {
		t.Errorf("postback = %+v", got)
	}
	if got := preview(channel.Content{Text: "line one\n  line two"}); got != "line one line two" {
		t.Errorf("preview = %q", got)
	}
	long := preview(channel.Content{Text: string(make([]rune, 200))})
	if n := len([]rune(long)); n != 90 {
		t.Errorf("a long preview has %d characters, want 90", n)
	}
	if got := preview(channel.Content{Attachments: []channel.Attachment{{Type: channel.AttachAudio}}}); got != "Audio" {
		t.Errorf("preview of a voice message = %q", got)
	}
	if initials("sok dara smith") != "SD" || initials("") != "" || initials("ដារ៉ា") != "ដ" {
		t.Errorf("initials: %q %q %q", initials("sok dara smith"), initials(""), initials("ដារ៉ា"))
	}
}

package web

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley/internal/channel"
)

// bodyView is a message's content as a thread shows it: its text, then
// what else it carries in plain words (a photo, a tapped button, the
// buttons offered), with links where there are any.
type bodyView struct {
	Text   string
	Extras []extra
}

// extra is one line under a message's text; URL, when set, links it.
// Image, when set, is a preview of it served by Parley to members only
// (attachments.go).
type extra struct {
	Label, URL string
	Image      string
}

// describe turns content into words. Media are links, never embedded: the
// Content-Security-Policy keeps every image Parley's own, and a platform's
// media URL would tell the platform who looks at it.
func describe(c channel.Content) bodyView {
	v := bodyView{Text: c.Text}
	add := func(label, url string) { v.Extras = append(v.Extras, extra{Label: label, URL: safeLink(url)}) }
	if c.Postback != nil {
		title := c.Postback.Title
		if title == "" {
			title = c.Postback.Payload
		}
		add("Tapped “"+title+"”", "")
	}
	if c.Payload != "" && c.Text == "" {
		add("Tapped a quick reply ("+c.Payload+")", "")
	}
	for _, a := range c.Attachments {
		switch a.Type {
		case channel.AttachImage:
			add("Photo", a.URL)
		case channel.AttachVideo:
			add("Video", a.URL)
		case channel.AttachAudio:
			add("Audio", a.URL)
		case channel.AttachFile:
			add("File", a.URL)
		case channel.AttachLocation:
			add(fmt.Sprintf("Location (%.5f, %.5f)", a.Latitude, a.Longitude), "")
		default:
			label := a.Title
			if label == "" {
				label = "Shared link"
			}
			add(label, a.URL)
		}
	}
	if c.StickerID != "" {
		add("Sticker", "")
	}
	if c.Reaction != nil {
		if c.Reaction.Action == "unreact" {
			add("Removed a reaction", "")
		} else {
			add("Reacted "+c.Reaction.Emoji, "")
		}
	}
	if c.Referral != nil {
		how := "Came through a link"
		switch {
		case c.Referral.AdID != "":
			how = "Came from an ad"
		case c.Referral.Ref != "":
			how += " (" + c.Referral.Ref + ")"
		}
		add(how, "")
	}
	if c.OptinRef != "" {
		add("Opted in ("+c.OptinRef+")", "")
	}
	if n := len(c.Buttons); n > 0 {
		titles := make([]string, n)
		for i, b := range c.Buttons {
			titles[i] = b.Title
		}
		add("Buttons: "+strings.Join(titles, " · "), "")
	}
	for _, card := range c.Cards {
		add("Card: "+card.Title, card.URL)
	}
	if n := len(c.QuickReplies); n > 0 {
		titles := make([]string, n)
		for i, q := range c.QuickReplies {
			titles[i] = q.Title
		}
		add("Quick replies: "+strings.Join(titles, " · "), "")
	}
	return v
}

// preview is a message in one line for a list.
func preview(c channel.Content) string {
	v := describe(c)
	s := strings.Join(strings.Fields(v.Text), " ")
	if s == "" && len(v.Extras) > 0 {
		s = v.Extras[0].Label
	}
	const max = 90
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// safeLink keeps only http(s) links: a message could carry any scheme.
func safeLink(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return ""
}

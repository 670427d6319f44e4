package flow

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// message checks a message node.
func (v *validator) message(n Node, m *MessageNode) {
	if m.Text == "" && m.Attachment == nil && len(m.Cards) == 0 {
		v.nodeErr(n, "text", "sends nothing: give it a text, an attachment or cards.")
	}
	v.template(n, "text", m.Text)
	if len(m.QuickReplies) > maxQuickReplies {
		v.nodeErr(n, "quick_replies", "has %d quick replies; platforms show at most %d.", len(m.QuickReplies), maxQuickReplies)
	}
	for i, q := range m.QuickReplies {
		f := index("quick_replies", i)
		v.title(n, f+".title", q.Title)
		v.payload(n, f+".payload", q.Payload)
	}
	if len(m.Buttons) > 0 {
		switch {
		case len(m.Cards) > 0:
			v.nodeErr(n, "buttons", "has both buttons and cards; put the buttons on the cards.")
		case m.Text == "":
			v.nodeErr(n, "buttons", "has buttons but no text to show them under.")
		}
	}
	v.buttons(n, "buttons", m.Buttons)
	if len(m.Cards) > maxCards {
		v.nodeErr(n, "cards", "has %d cards; platforms show at most %d.", len(m.Cards), maxCards)
	}
	for i, c := range m.Cards {
		f := index("cards", i)
		if strings.TrimSpace(c.Title) == "" {
			v.nodeErr(n, f+".title", "has a card without a title.")
		}
		v.template(n, f+".title", c.Title)
		v.template(n, f+".subtitle", c.Subtitle)
		if c.ImageURL != "" {
			v.url(n, f+".image_url", c.ImageURL)
		}
		if c.URL != "" {
			v.url(n, f+".url", c.URL)
		}
		v.buttons(n, f+".buttons", c.Buttons)
	}
	if a := m.Attachment; a != nil {
		if !slices.Contains([]string{AttachImage, AttachVideo, AttachAudio, AttachFile}, a.Type) {
			v.nodeErr(n, "attachment.type", "has an attachment of unknown type “%s”; use image, video, audio or file.", a.Type)
		}
		v.url(n, "attachment.url", a.URL)
	}
}

// buttons checks a row of buttons.
func (v *validator) buttons(n Node, field string, bs []Button) {
	if len(bs) > maxButtons {
		v.nodeErr(n, field, "has %d buttons in a row; platforms show at most %d.", len(bs), maxButtons)
	}
	for i, b := range bs {
		f := index(field, i)
		v.title(n, f+".title", b.Title)
		switch b.Type {
		case ButtonPostback:
			if b.URL != "" {
				v.nodeErr(n, f+".url", "has a postback button with a URL; make it a url button or remove the URL.")
			}
			v.payload(n, f+".payload", b.Payload)
		case ButtonURL:
			if b.Payload != "" || b.Next != "" {
				v.nodeErr(n, f, "has a url button with a payload or next; a link leaves the conversation, so only postback buttons lead on.")
			}
			v.url(n, f+".url", b.URL)
		default:
			v.nodeErr(n, f+".type", "has a button of unknown type “%s”; use postback or url.", b.Type)
		}
	}
}

// title checks the title of a chip, button or choice.
func (v *validator) title(n Node, field, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		v.nodeErr(n, field, "has a button or quick reply without a title.")
	case utf8.RuneCountInString(s) > maxTitle:
		v.nodeWarn(n, field, "has the title “%s”, longer than %d characters: platforms may cut it.", s, maxTitle)
	}
}

// payload checks a developer payload.
func (v *validator) payload(n Node, field, s string) {
	if len(s) > maxPayload {
		v.nodeErr(n, field, "has a payload longer than %d bytes, which platforms refuse.", maxPayload)
	}
}

// url checks an absolute http(s) address that may hold variables after
// its host.
func (v *validator) url(n Node, field, s string) {
	v.template(n, field, s)
	if s == "" {
		v.nodeErr(n, field, "has no address.")
		return
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if ok {
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end]
		}
		if strings.Contains(scheme, "{{") || strings.Contains(rest, "{{") {
			v.nodeErr(n, field, "takes the host of its address from a variable; variables may appear only after the host.")
			return
		}
	}
	u, err := url.Parse(Render(s, anyValue{}))
	switch {
	case err != nil || !ok || u.Host == "" || u.Hostname() == "":
		v.nodeErr(n, field, "has the address “%s”, which is not a full address like https://example.com/path.", truncate(s, 80))
	case u.Scheme != "http" && u.Scheme != "https":
		v.nodeErr(n, field, "has the address “%s”; only http and https addresses are allowed.", truncate(s, 80))
	case u.User != nil:
		v.nodeErr(n, field, "puts a user name or password in the address; send credentials in a secret header instead.")
	}
}

// anyValue is a Lookup that gives every variable a plain value, to check
// the shape of a template once rendered.
type anyValue struct{}

// Lookup implements Lookup.
func (anyValue) Lookup(string) (string, bool) { return "x", true }

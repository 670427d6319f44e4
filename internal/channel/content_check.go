package channel

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ContentError says why a message cannot be sent as composed. Field names
// the part at fault the way Content encodes it as JSON ("buttons[1].title");
// Message says what is wrong in plain words, naming the limit.
type ContentError struct {
	Field   string
	Message string
}

func (e *ContentError) Error() string { return "content: " + e.Field + ": " + e.Message }

func contentErr(field, format string, args ...any) *ContentError {
	return &ContentError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// maxURL bounds every URL: longer ones are never legitimate links and some
// platforms refuse them silently.
const maxURL = 2000

// CheckContent checks an outgoing message against the rules every platform
// shares, before any platform adapter applies its own limits: something to
// say, known button and attachment types, absolute http(s) URLs, valid
// UTF-8, and no fields that only received messages carry. It returns a
// *ContentError or nil.
func CheckContent(c Content) error {
	if err := checkInboundOnly(c); err != nil {
		return err
	}
	if !utf8.ValidString(c.Text) {
		return contentErr("text", "The text contains bytes that are not valid UTF-8.")
	}
	hasText := strings.TrimFunc(c.Text, unicode.IsSpace) != ""
	if !hasText && len(c.Attachments) == 0 && len(c.Cards) == 0 {
		if len(c.Buttons) > 0 {
			return contentErr("text", "Buttons need a text above them.")
		}
		return contentErr("content", "The message is empty: add a text, an attachment or cards.")
	}
	if len(c.Buttons) > 0 && !hasText {
		return contentErr("text", "Buttons need a text above them.")
	}
	if len(c.Buttons) > 0 && len(c.Cards) > 0 {
		return contentErr("buttons", "A message has either buttons or cards, not both: put the buttons on the cards.")
	}
	if len(c.QuickReplies) > 0 && !hasText && len(c.Attachments) == 0 {
		return contentErr("quick_replies", "Quick replies need a text or an attachment to go with.")
	}
	for i, q := range c.QuickReplies {
		f := fmt.Sprintf("quick_replies[%d]", i)
		if err := checkLabel(f+".title", q.Title, "quick reply"); err != nil {
			return err
		}
		if q.Payload == "" {
			return contentErr(f+".payload", "Each quick reply needs a payload, so Parley knows which one was tapped.")
		}
		if !utf8.ValidString(q.Payload) {
			return contentErr(f+".payload", "The payload contains bytes that are not valid UTF-8.")
		}
	}
	for i, b := range c.Buttons {
		if err := checkButton(fmt.Sprintf("buttons[%d]", i), b); err != nil {
			return err
		}
	}
	for i, card := range c.Cards {
		if err := checkCard(fmt.Sprintf("cards[%d]", i), card); err != nil {
			return err
		}
	}
	for i, a := range c.Attachments {
		if err := checkAttachment(fmt.Sprintf("attachments[%d]", i), a); err != nil {
			return err
		}
	}
	return nil
}

// checkInboundOnly refuses what a person's platform fills in, never a
// sender: a business cannot "tap" a button or react through a message body.
func checkInboundOnly(c Content) error {
	switch {
	case c.Payload != "":
		return contentErr("payload", "A payload is what a tapped quick reply sends; it cannot be sent as a message.")
	case c.Postback != nil:
		return contentErr("postback", "A postback is what a tapped button sends; it cannot be sent as a message.")
	case c.Referral != nil:
		return contentErr("referral", "A referral describes where a person came from; it cannot be sent as a message.")
	case c.Reaction != nil:
		return contentErr("reaction", "Reactions cannot be sent as a message.")
	case c.OptinRef != "":
		return contentErr("optin_ref", "An opt-in is sent by a person's plugin; it cannot be sent as a message.")
	case c.StickerID != "":
		return contentErr("sticker_id", "Stickers cannot be sent; send an image instead.")
	}
	return nil
}

func checkLabel(field, s, what string) error {
	if strings.TrimFunc(s, unicode.IsSpace) == "" {
		return contentErr(field, "Each %s needs a title.", what)
	}
	if !utf8.ValidString(s) {
		return contentErr(field, "The title contains bytes that are not valid UTF-8.")
	}
	return nil
}

func checkButton(f string, b Button) error {
	if err := checkLabel(f+".title", b.Title, "button"); err != nil {
		return err
	}
	switch b.Type {
	case ButtonPostback:
		if b.Payload == "" {
			return contentErr(f+".payload", "A reply button needs a payload, so Parley knows it was tapped.")
		}
		if b.URL != "" {
			return contentErr(f+".url", "A reply button cannot also open a link: use a link button.")
		}
		if !utf8.ValidString(b.Payload) {
			return contentErr(f+".payload", "The payload contains bytes that are not valid UTF-8.")
		}
	case ButtonURL:
		if b.Payload != "" {
			return contentErr(f+".payload", "A link button opens its link and sends no payload.")
		}
		if err := CheckURL(f+".url", b.URL); err != nil {
			return err
		}
	default:
		return contentErr(f+".type", "A button is either %q (it sends a payload) or %q (it opens a link), not %q.", ButtonPostback, ButtonURL, b.Type)
	}
	return nil
}

func checkCard(f string, c Card) error {
	if err := checkLabel(f+".title", c.Title, "card"); err != nil {
		return err
	}
	if !utf8.ValidString(c.Subtitle) {
		return contentErr(f+".subtitle", "The subtitle contains bytes that are not valid UTF-8.")
	}
	if c.ImageURL != "" {
		if err := CheckURL(f+".image_url", c.ImageURL); err != nil {
			return err
		}
	}
	if c.URL != "" {
		if err := CheckURL(f+".url", c.URL); err != nil {
			return err
		}
	}
	for i, b := range c.Buttons {
		if err := checkButton(fmt.Sprintf("%s.buttons[%d]", f, i), b); err != nil {
			return err
		}
	}
	return nil
}

func checkAttachment(f string, a Attachment) error {
	switch a.Type {
	case AttachImage, AttachVideo, AttachAudio, AttachFile, AttachFallback:
		if a.URL == "" {
			return contentErr(f+".url", "An attachment needs the web address (URL) of its file.")
		}
		return CheckURL(f+".url", a.URL)
	case AttachLocation:
		if a.Latitude < -90 || a.Latitude > 90 || a.Longitude < -180 || a.Longitude > 180 {
			return contentErr(f, "A location needs a latitude between -90 and 90 and a longitude between -180 and 180.")
		}
		return nil
	default:
		return contentErr(f+".type", "Attachments are images, videos, audio, files, locations or links, not %q.", a.Type)
	}
}

// CheckURL accepts only absolute http and https URLs with a host, without
// credentials, spaces or control characters: what a person's phone can
// open and a platform will fetch. field names the URL in the error.
func CheckURL(field, raw string) error {
	if len(raw) > maxURL {
		return contentErr(field, "The web address is longer than %d characters.", maxURL)
	}
	if strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || r == utf8.RuneError }) >= 0 {
		return contentErr(field, "The web address contains spaces or invisible characters.")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return contentErr(field, "Enter a full web address starting with https:// (or http://).")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return contentErr(field, "Only web addresses starting with https:// or http:// can be sent, not %s:.", u.Scheme)
	}
	if u.User != nil {
		return contentErr(field, "The web address must not contain a user name or password.")
	}
	if u.Hostname() == "" {
		return contentErr(field, "Enter a full web address starting with https:// (or http://).")
	}
	return nil
}

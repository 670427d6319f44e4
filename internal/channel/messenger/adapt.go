package messenger

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/channel"
)

// Messenger's Send API limits, in characters (runes). Meta documents them
// loosely (meta-platform.md §9); these are the values its Send API
// reference gives and the simulator enforces.
const (
	MaxText            = 2000 // text message
	MaxQuickReplies    = 13
	MaxQuickReplyTitle = 20
	MaxPayload         = 1000 // quick-reply and postback payloads
	MaxButtonText      = 640  // text of a button template
	MaxButtons         = 3    // per button template and per card
	MaxButtonTitle     = 20
	MaxCards           = 10
	MaxCardTitle       = 80
	MaxCardSubtitle    = 80
	MaxMetadata        = 1000 // message.metadata, echoed back
	// MaxParts bounds how many messages one long text becomes: a wall of
	// messages is worse than asking the author to shorten it.
	MaxParts = 10
)

// Adapt fits c to Messenger without changing what it says, or refuses it
// with a *channel.ContentError naming the field and the limit. Each
// returned Content is one Send API message:
//
//   - text longer than MaxText is split at paragraph, sentence or word
//     boundaries (never inside a character or grapheme cluster) into at
//     most MaxParts messages; quick replies ride on the last one;
//   - text with one attachment becomes the text, then the attachment
//     (carrying the quick replies); text with cards becomes the text, then
//     the cards.
//
// It refuses what would lose meaning: more than one attachment, locations
// and links as attachments, attachments with buttons or cards, quick
// replies with buttons or cards, and anything over a limit that cannot be
// split (button text, titles, payloads, counts).
func Adapt(c channel.Content) ([]channel.Content, error) {
	if err := channel.CheckContent(c); err != nil {
		return nil, err
	}
	if err := checkLimits(c); err != nil {
		return nil, err
	}
	if len(c.Buttons) > 0 {
		// A button template's text belongs to its buttons: it is checked
		// against MaxButtonText and never split.
		return []channel.Content{{Text: c.Text, Buttons: c.Buttons}}, nil
	}
	var out []channel.Content
	if strings.TrimFunc(c.Text, unicode.IsSpace) != "" {
		texts := []string{c.Text}
		if utf8.RuneCountInString(c.Text) > MaxText {
			var err error
			if texts, err = split(c.Text); err != nil {
				return nil, err
			}
		}
		for _, t := range texts {
			out = append(out, channel.Content{Text: t})
		}
	}
	switch {
	case len(c.Attachments) == 1:
		out = append(out, channel.Content{Attachments: c.Attachments})
	case len(c.Cards) > 0:
		out = append(out, channel.Content{Cards: c.Cards})
	}
	out[len(out)-1].QuickReplies = c.QuickReplies
	return out, nil
}

func split(text string) ([]string, error) {
	tooLong := &channel.ContentError{Field: "text", Message: fmt.Sprintf(
		"The text is too long for Messenger: it takes at most %d characters per message and Parley sends at most %d messages in a row. Shorten the text.",
		MaxText, MaxParts)}
	if utf8.RuneCountInString(text) > MaxText*MaxParts {
		return nil, tooLong
	}
	parts, ok := splitText(text, MaxText)
	if !ok {
		return nil, &channel.ContentError{Field: "text", Message: fmt.Sprintf(
			"The text is longer than %d characters and has no place where it can be split without breaking a character.", MaxText)}
	}
	if len(parts) > MaxParts {
		return nil, tooLong
	}
	return parts, nil
}

// checkLimits applies Messenger's own rules to content that already passed
// channel.CheckContent.
func checkLimits(c channel.Content) error {
	switch {
	case len(c.Attachments) > 1:
		return limitErr("attachments", "Messenger sends one attachment per message; send the others as separate messages.")
	case len(c.Attachments) == 1 && (len(c.Buttons) > 0 || len(c.Cards) > 0):
		return limitErr("attachments", "On Messenger an attachment cannot go with buttons or cards; send it as a separate message.")
	case len(c.QuickReplies) > 0 && (len(c.Buttons) > 0 || len(c.Cards) > 0):
		return limitErr("quick_replies", "On Messenger quick replies cannot go with buttons or cards.")
	case len(c.QuickReplies) > MaxQuickReplies:
		return limitErr("quick_replies", "Messenger shows at most %d quick replies; this message has %d.", MaxQuickReplies, len(c.QuickReplies))
	case len(c.Buttons) > MaxButtons:
		return limitErr("buttons", "Messenger shows at most %d buttons; this message has %d.", MaxButtons, len(c.Buttons))
	case len(c.Cards) > MaxCards:
		return limitErr("cards", "Messenger shows at most %d cards; this message has %d.", MaxCards, len(c.Cards))
	}
	if len(c.Attachments) == 1 {
		switch t := c.Attachments[0].Type; t {
		case channel.AttachImage, channel.AttachVideo, channel.AttachAudio, channel.AttachFile:
		default:
			return limitErr("attachments[0].type", "Messenger can send images, videos, audio and files, not a %s; send it as text instead.", t)
		}
	}
	for i, q := range c.QuickReplies {
		f := fmt.Sprintf("quick_replies[%d]", i)
		if err := maxRunes(f+".title", q.Title, MaxQuickReplyTitle, "A quick reply title"); err != nil {
			return err
		}
		if err := maxRunes(f+".payload", q.Payload, MaxPayload, "A quick reply payload"); err != nil {
			return err
		}
	}
	if len(c.Buttons) > 0 {
		if err := maxRunes("text", c.Text, MaxButtonText, "The text above buttons"); err != nil {
			return err
		}
	}
	if err := checkButtons("buttons", c.Buttons); err != nil {
		return err
	}
	for i, card := range c.Cards {
		f := fmt.Sprintf("cards[%d]", i)
		if err := maxRunes(f+".title", card.Title, MaxCardTitle, "A card title"); err != nil {
			return err
		}
		if err := maxRunes(f+".subtitle", card.Subtitle, MaxCardSubtitle, "A card subtitle"); err != nil {
			return err
		}
		if len(card.Buttons) > MaxButtons {
			return limitErr(f+".buttons", "Messenger shows at most %d buttons per card; this card has %d.", MaxButtons, len(card.Buttons))
		}
		if err := checkButtons(f+".buttons", card.Buttons); err != nil {
			return err
		}
	}
	return nil
}

func checkButtons(field string, bs []channel.Button) error {
	for i, b := range bs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := maxRunes(f+".title", b.Title, MaxButtonTitle, "A button title"); err != nil {
			return err
		}
		if err := maxRunes(f+".payload", b.Payload, MaxPayload, "A button payload"); err != nil {
			return err
		}
	}
	return nil
}

func maxRunes(field, s string, max int, what string) error {
	if n := utf8.RuneCountInString(s); n > max {
		return limitErr(field, "%s can be at most %d characters on Messenger; this one has %d.", what, max, n)
	}
	return nil
}

func limitErr(field, format string, args ...any) *channel.ContentError {
	return &channel.ContentError{Field: field, Message: fmt.Sprintf(format, args...)}
}

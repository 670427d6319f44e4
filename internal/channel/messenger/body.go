package messenger

import "github.com/parleyhq/parley/internal/channel"

// The Send API request body (meta-platform.md §2.3). Field order here is
// the order in the JSON, which the golden files in testdata/send pin.

type sendBody struct {
	Recipient     recipient   `json:"recipient"`
	MessagingType string      `json:"messaging_type,omitempty"`
	Tag           string      `json:"tag,omitempty"`
	Message       *outMessage `json:"message,omitempty"`
	SenderAction  string      `json:"sender_action,omitempty"`
	ReplyTo       *replyTo    `json:"reply_to,omitempty"`
}

type recipient struct {
	ID string `json:"id"`
}

type replyTo struct {
	MID string `json:"mid"`
}

// outMessage is the outgoing message object (message is the inbound one).
// metadata belongs inside it: Meta echoes it back with the message.
type outMessage struct {
	Text         string          `json:"text,omitempty"`
	Attachment   *outAttachment  `json:"attachment,omitempty"`
	QuickReplies []outQuickReply `json:"quick_replies,omitempty"`
	Metadata     string          `json:"metadata,omitempty"`
}

type outQuickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title"`
	Payload     string `json:"payload"`
}

type outAttachment struct {
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

type mediaPayload struct {
	URL string `json:"url"`
	// IsReusable asks Meta for an attachment_id it keeps, so the same file
	// can be sent again without fetching it again.
	IsReusable bool `json:"is_reusable"`
}

type templatePayload struct {
	TemplateType string       `json:"template_type"`
	Text         string       `json:"text,omitempty"`
	Buttons      []outButton  `json:"buttons,omitempty"`
	Elements     []outElement `json:"elements,omitempty"`
}

type outElement struct {
	Title         string         `json:"title"`
	Subtitle      string         `json:"subtitle,omitempty"`
	ImageURL      string         `json:"image_url,omitempty"`
	DefaultAction *defaultAction `json:"default_action,omitempty"`
	Buttons       []outButton    `json:"buttons,omitempty"`
}

type defaultAction struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type outButton struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
}

// buildMessage turns one adapted Content (exactly one Send API message) into
// the message object.
func buildMessage(c channel.Content, metadata string) *outMessage {
	m := &outMessage{Metadata: metadata}
	switch {
	case len(c.Cards) > 0:
		p := templatePayload{TemplateType: "generic"}
		for _, card := range c.Cards {
			e := outElement{Title: card.Title, Subtitle: card.Subtitle, ImageURL: card.ImageURL, Buttons: outButtons(card.Buttons)}
			if card.URL != "" {
				e.DefaultAction = &defaultAction{Type: channel.ButtonURL, URL: card.URL}
			}
			p.Elements = append(p.Elements, e)
		}
		m.Attachment = &outAttachment{Type: "template", Payload: p}
	case len(c.Buttons) > 0:
		m.Attachment = &outAttachment{Type: "template", Payload: templatePayload{
			TemplateType: "button", Text: c.Text, Buttons: outButtons(c.Buttons)}}
	case len(c.Attachments) > 0:
		a := c.Attachments[0]
		m.Attachment = &outAttachment{Type: a.Type, Payload: mediaPayload{URL: a.URL, IsReusable: true}}
	default:
		m.Text = c.Text
	}
	for _, q := range c.QuickReplies {
		m.QuickReplies = append(m.QuickReplies, outQuickReply{ContentType: "text", Title: q.Title, Payload: q.Payload})
	}
	return m
}

func outButtons(bs []channel.Button) []outButton {
	var out []outButton
	for _, b := range bs {
		out = append(out, outButton{Type: b.Type, Title: b.Title, Payload: b.Payload, URL: b.URL})
	}
	return out
}

package metasim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Send API limits (reference §2.3; Meta's Send API reference).
const (
	maxText            = 2000
	maxQuickReplies    = 13
	maxQuickReplyTitle = 20
	maxPayload         = 1000
	maxButtonText      = 640
	maxButtons         = 3
	maxElements        = 10
	maxElementText     = 80
	maxButtonTitle     = 20
	maxMetadata        = 1000 // exclusive: metadata must be shorter
)

func runes(s string) int { return utf8.RuneCountInString(s) }

// decodeStrict decodes JSON refusing unknown fields and trailing data.
func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return buf.Bytes()
}

func validURL(s string, httpsOnly bool) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	if httpsOnly {
		return u.Scheme == "https"
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

func isMediaType(t string) bool {
	switch t {
	case "image", "audio", "video", "file":
		return true
	}
	return false
}

// outMessage is a validated Send API message.
type outMessage struct {
	raw         json.RawMessage
	text        string
	metadata    string
	attachments []attachmentEv // as the echo shows them
	reusable    *attachment    // media to save: is_reusable with a URL
}

type attachmentEv struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type messageIn struct {
	Text         *string         `json:"text"`
	Attachment   *attachmentIn   `json:"attachment"`
	QuickReplies *[]quickReplyIn `json:"quick_replies"`
	Metadata     *string         `json:"metadata"`
}

type attachmentIn struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type quickReplyIn struct {
	ContentType string  `json:"content_type"`
	Title       string  `json:"title"`
	Payload     *string `json:"payload"`
	ImageURL    string  `json:"image_url"`
}

type mediaPayload struct {
	URL          *string `json:"url"`
	AttachmentID *string `json:"attachment_id"`
	IsReusable   *bool   `json:"is_reusable"`
}

type buttonIn struct {
	Type                string `json:"type"`
	Title               string `json:"title"`
	URL                 string `json:"url"`
	Payload             string `json:"payload"`
	WebviewHeightRatio  string `json:"webview_height_ratio"`
	MessengerExtensions *bool  `json:"messenger_extensions"`
	FallbackURL         string `json:"fallback_url"`
	WebviewShareButton  string `json:"webview_share_button"`
}

type defaultActionIn struct {
	Type                string `json:"type"`
	URL                 string `json:"url"`
	WebviewHeightRatio  string `json:"webview_height_ratio"`
	MessengerExtensions *bool  `json:"messenger_extensions"`
	FallbackURL         string `json:"fallback_url"`
	WebviewShareButton  string `json:"webview_share_button"`
}

type elementIn struct {
	Title         string           `json:"title"`
	Subtitle      string           `json:"subtitle"`
	ImageURL      string           `json:"image_url"`
	DefaultAction *defaultActionIn `json:"default_action"`
	Buttons       []buttonIn       `json:"buttons"`
}

type buttonTemplate struct {
	TemplateType string     `json:"template_type"`
	Text         string     `json:"text"`
	Buttons      []buttonIn `json:"buttons"`
	Sharable     *bool      `json:"sharable"`
}

type genericTemplate struct {
	TemplateType     string      `json:"template_type"`
	Elements         []elementIn `json:"elements"`
	ImageAspectRatio string      `json:"image_aspect_ratio"`
	Sharable         *bool       `json:"sharable"`
}

// validateMessage checks a Send API "message" object against Meta's
// shape and limits. Callers hold s.mu (attachment IDs are looked up).
func (s *Sim) validateMessage(pg *page, raw json.RawMessage) (*outMessage, *apiError) {
	var m messageIn
	if err := decodeStrict(raw, &m); err != nil {
		return nil, paramErr("param message is invalid: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	out := &outMessage{raw: compact(raw)}
	switch {
	case m.Text != nil && m.Attachment != nil:
		return nil, paramErr("param message must contain either text or attachment, not both")
	case m.Text == nil && m.Attachment == nil:
		return nil, paramErr("param message must contain text or attachment")
	case m.Text != nil:
		if *m.Text == "" {
			return nil, paramErr("param message[text] must be a non-empty UTF-8 encoded string")
		}
		if runes(*m.Text) > maxText {
			return nil, paramErr("Length of param message[text] must be less than or equal to %d", maxText)
		}
		out.text = *m.Text
	default:
		if e := s.validateAttachment(pg, m.Attachment, out); e != nil {
			return nil, e
		}
	}
	if m.QuickReplies != nil {
		if e := validateQuickReplies(*m.QuickReplies); e != nil {
			return nil, e
		}
	}
	if m.Metadata != nil {
		if runes(*m.Metadata) >= maxMetadata {
			return nil, paramErr("Length of param message[metadata] must be less than %d", maxMetadata)
		}
		out.metadata = *m.Metadata
	}
	return out, nil
}

func validateQuickReplies(qrs []quickReplyIn) *apiError {
	if len(qrs) == 0 || len(qrs) > maxQuickReplies {
		return paramErr("param message[quick_replies] must have between 1 and %d items", maxQuickReplies)
	}
	for i, q := range qrs {
		path := fmt.Sprintf("message[quick_replies][%d]", i)
		switch q.ContentType {
		case "text":
			switch {
			case q.Title == "" && q.ImageURL == "":
				return paramErr("param %s[title] is required for content_type text", path)
			case runes(q.Title) > maxQuickReplyTitle:
				return paramErr("Length of param %s[title] must be less than or equal to %d", path, maxQuickReplyTitle)
			case q.Payload == nil || *q.Payload == "":
				return paramErr("param %s[payload] is required for content_type text", path)
			case runes(*q.Payload) > maxPayload:
				return paramErr("Length of param %s[payload] must be less than or equal to %d", path, maxPayload)
			case q.ImageURL != "" && !validURL(q.ImageURL, false):
				return paramErr("param %s[image_url] must be a valid URL", path)
			}
		case "user_phone_number", "user_email":
			if q.Title != "" || q.Payload != nil {
				return paramErr("param %s must not have title or payload for content_type %s", path, q.ContentType)
			}
		case "location":
			return paramErr("param %s[content_type] location is deprecated", path)
		default:
			return paramErr("param %s[content_type] must be one of {text, user_phone_number, user_email}", path)
		}
	}
	return nil
}

func (s *Sim) validateAttachment(pg *page, a *attachmentIn, out *outMessage) *apiError {
	if len(a.Payload) == 0 || string(a.Payload) == "null" {
		return paramErr("param message[attachment][payload] is required")
	}
	switch {
	case isMediaType(a.Type):
		var p mediaPayload
		if err := decodeStrict(a.Payload, &p); err != nil {
			return paramErr("param message[attachment][payload] is invalid: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
		switch {
		case p.URL != nil && p.AttachmentID != nil:
			return paramErr("param message[attachment][payload] must have either url or attachment_id, not both")
		case p.URL != nil:
			if !validURL(*p.URL, false) {
				return paramErr("param message[attachment][payload][url] must be a valid URL")
			}
			if p.IsReusable != nil && *p.IsReusable {
				out.reusable = &attachment{typ: a.Type, url: *p.URL}
			}
			out.attachments = echoMedia(a.Type, *p.URL)
		case p.AttachmentID != nil:
			saved, ok := pg.attachments[*p.AttachmentID]
			if !ok {
				return paramErr("param message[attachment][payload][attachment_id] %s is not a valid attachment ID for this page", *p.AttachmentID)
			}
			out.attachments = echoMedia(a.Type, saved.url)
		default:
			return paramErr("param message[attachment][payload] must have url or attachment_id")
		}
	case a.Type == "template":
		if e := validateTemplate(a.Payload); e != nil {
			return e
		}
		out.attachments = []attachmentEv{{Type: "template", Payload: compact(a.Payload)}}
	default:
		return paramErr("param message[attachment][type] must be one of {image, audio, video, file, template}")
	}
	return nil
}

func echoMedia(typ, u string) []attachmentEv {
	p, _ := rawJSON(struct {
		URL string `json:"url"`
	}{u})
	return []attachmentEv{{Type: typ, Payload: p}}
}

func validateTemplate(raw json.RawMessage) *apiError {
	var head struct {
		TemplateType string `json:"template_type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return paramErr("param message[attachment][payload] must be an object")
	}
	const path = "message[attachment][payload]"
	switch head.TemplateType {
	case "button":
		var t buttonTemplate
		if err := decodeStrict(raw, &t); err != nil {
			return paramErr("param %s is invalid: %s", path, strings.TrimPrefix(err.Error(), "json: "))
		}
		switch {
		case t.Text == "":
			return paramErr("param %s[text] is required", path)
		case runes(t.Text) > maxButtonText:
			return paramErr("Length of param %s[text] must be less than or equal to %d", path, maxButtonText)
		case len(t.Buttons) == 0 || len(t.Buttons) > maxButtons:
			return paramErr("param %s[buttons] must have between 1 and %d buttons", path, maxButtons)
		}
		return validateButtons(path+"[buttons]", t.Buttons)
	case "generic":
		var t genericTemplate
		if err := decodeStrict(raw, &t); err != nil {
			return paramErr("param %s is invalid: %s", path, strings.TrimPrefix(err.Error(), "json: "))
		}
		if len(t.Elements) == 0 || len(t.Elements) > maxElements {
			return paramErr("param %s[elements] must have between 1 and %d elements", path, maxElements)
		}
		if t.ImageAspectRatio != "" && t.ImageAspectRatio != "horizontal" && t.ImageAspectRatio != "square" {
			return paramErr("param %s[image_aspect_ratio] must be one of {horizontal, square}", path)
		}
		for i, el := range t.Elements {
			ep := fmt.Sprintf("%s[elements][%d]", path, i)
			switch {
			case el.Title == "":
				return paramErr("param %s[title] is required", ep)
			case runes(el.Title) > maxElementText:
				return paramErr("Length of param %s[title] must be less than or equal to %d", ep, maxElementText)
			case runes(el.Subtitle) > maxElementText:
				return paramErr("Length of param %s[subtitle] must be less than or equal to %d", ep, maxElementText)
			case el.ImageURL != "" && !validURL(el.ImageURL, false):
				return paramErr("param %s[image_url] must be a valid URL", ep)
			case len(el.Buttons) > maxButtons:
				return paramErr("param %s[buttons] must have at most %d buttons", ep, maxButtons)
			}
			if da := el.DefaultAction; da != nil {
				if da.Type != "web_url" || !validURL(da.URL, false) {
					return paramErr("param %s[default_action] must be a web_url with a valid url", ep)
				}
			}
			if e := validateButtons(ep+"[buttons]", el.Buttons); e != nil {
				return e
			}
		}
		return nil
	case "":
		return paramErr("param %s[template_type] is required", path)
	}
	return paramErr("param %s[template_type] must be one of {button, generic}", path)
}

func validateButtons(path string, bs []buttonIn) *apiError {
	for i, b := range bs {
		bp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case b.Title == "":
			return paramErr("param %s[title] is required", bp)
		case runes(b.Title) > maxButtonTitle:
			return paramErr("Length of param %s[title] must be less than or equal to %d", bp, maxButtonTitle)
		}
		switch b.Type {
		case "web_url":
			if !validURL(b.URL, false) {
				return paramErr("param %s[url] must be a valid URL", bp)
			}
			switch b.WebviewHeightRatio {
			case "", "compact", "tall", "full":
			default:
				return paramErr("param %s[webview_height_ratio] must be one of {compact, tall, full}", bp)
			}
		case "postback":
			if b.Payload == "" || runes(b.Payload) > maxPayload {
				return paramErr("Length of param %s[payload] must be between 1 and %d", bp, maxPayload)
			}
		case "phone_number":
			if !strings.HasPrefix(b.Payload, "+") || len(b.Payload) < 4 {
				return paramErr("param %s[payload] must be a phone number starting with +", bp)
			}
		default:
			return paramErr("param %s[type] must be one of {web_url, postback, phone_number}", bp)
		}
	}
	return nil
}

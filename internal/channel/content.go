package channel

// Content is what a message says, in either direction. It is what inbox
// seals as a message body, what flows and agents compose, and what platform
// adapters translate. Only the fields that apply are set.
type Content struct {
	// Text is the message text (for templates: the text above the buttons).
	Text string `json:"text,omitempty"`
	// QuickReplies are chips offered under Text (outbound).
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	// Buttons make a button template together with Text (outbound).
	Buttons []Button `json:"buttons,omitempty"`
	// Cards make a generic template (a carousel) (outbound).
	Cards []Card `json:"cards,omitempty"`
	// Attachments are media, files, locations or link shares. Inbound a
	// message may carry several; outbound Messenger takes exactly one, by URL.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Payload is the developer payload of a tapped quick reply or button
	// (inbound).
	Payload string `json:"payload,omitempty"`
	// Postback is a tapped button, Get Started or menu entry (inbound).
	Postback *Postback `json:"postback,omitempty"`
	// Referral says where the person came from (m.me link, ad, plugin).
	Referral *Referral `json:"referral,omitempty"`
	// Reaction is an emoji reaction to another message.
	Reaction *Reaction `json:"reaction,omitempty"`
	// OptinRef is the pass-through parameter of a plugin opt-in.
	OptinRef string `json:"optin_ref,omitempty"`
	// StickerID is set for stickers (the thumbs-up "like" among them).
	StickerID string `json:"sticker_id,omitempty"`
}

// QuickReply is one quick-reply chip.
type QuickReply struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// Button types.
const (
	ButtonPostback = "postback"
	ButtonURL      = "web_url"
)

// Button is a template button: a postback (Payload) or a link (URL).
type Button struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
}

// Card is one element of a generic template.
type Card struct {
	Title    string   `json:"title"`
	Subtitle string   `json:"subtitle,omitempty"`
	ImageURL string   `json:"image_url,omitempty"`
	URL      string   `json:"url,omitempty"` // opened when the card itself is tapped
	Buttons  []Button `json:"buttons,omitempty"`
}

// Attachment types.
const (
	AttachImage    = "image"
	AttachVideo    = "video"
	AttachAudio    = "audio"
	AttachFile     = "file"
	AttachLocation = "location"
	AttachFallback = "fallback" // a shared link or something the platform cannot render
)

// Attachment is a media item, a file, a location or a shared link.
type Attachment struct {
	Type string `json:"type"`
	// URL is the media URL (inbound: the platform's signed CDN URL, which
	// expires) or the link of a fallback.
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
	// Latitude and Longitude are set for locations.
	Latitude  float64 `json:"lat,omitempty"`
	Longitude float64 `json:"long,omitempty"`
}

// Postback is a tapped postback button.
type Postback struct {
	Title   string `json:"title,omitempty"`
	Payload string `json:"payload"`
}

// Referral says how the person reached the conversation.
type Referral struct {
	Ref          string `json:"ref,omitempty"`    // the ref= parameter of an m.me link
	Source       string `json:"source,omitempty"` // SHORTLINK, ADS, CUSTOMER_CHAT_PLUGIN, ...
	Type         string `json:"type,omitempty"`   // OPEN_THREAD
	AdID         string `json:"ad_id,omitempty"`
	OriginDomain string `json:"origin_domain,omitempty"`
}

// Reaction is an emoji reaction (or its removal) to a message.
type Reaction struct {
	Action string `json:"action"` // react or unreact
	Emoji  string `json:"emoji,omitempty"`
	Name   string `json:"name,omitempty"` // the platform's name for it, like "love"
	MID    string `json:"mid"`            // the platform ID of the message reacted to
}

// Kind names what a Content mainly is, for lists and filters: the first of
// postback, quick_reply, reaction, template, attachment, referral, optin,
// text that applies.
func (c Content) Kind() string {
	switch {
	case c.Postback != nil:
		return "postback"
	case c.Payload != "":
		return "quick_reply"
	case c.Reaction != nil:
		return "reaction"
	case len(c.Buttons) > 0 || len(c.Cards) > 0:
		return "template"
	case len(c.Attachments) > 0 || c.StickerID != "":
		return "attachment"
	case c.Referral != nil:
		return "referral"
	case c.OptinRef != "":
		return "optin"
	default:
		return "text"
	}
}

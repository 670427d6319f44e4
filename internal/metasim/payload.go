package metasim

import "encoding/json"

// Webhook payload shapes, with fields in the order Meta writes them.
type envelope struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID        string          `json:"id"`
	Time      int64           `json:"time"`
	Messaging []messagingItem `json:"messaging,omitempty"`
	Standby   []messagingItem `json:"standby,omitempty"`
}

type idRef struct {
	ID string `json:"id"`
}

type messagingItem struct {
	Sender    idRef       `json:"sender"`
	Recipient idRef       `json:"recipient"`
	Timestamp int64       `json:"timestamp,omitempty"`
	Message   *messageEv  `json:"message,omitempty"`
	Postback  *postbackEv `json:"postback,omitempty"`
	Referral  *referralEv `json:"referral,omitempty"`
	Optin     *optinEv    `json:"optin,omitempty"`
	Reaction  *reactionEv `json:"reaction,omitempty"`
	Read      *readEv     `json:"read,omitempty"`
	Delivery  *deliveryEv `json:"delivery,omitempty"`
}

type messageEv struct {
	IsEcho      bool           `json:"is_echo,omitempty"`
	AppID       any            `json:"app_id,omitempty"` // a JSON number, as Meta sends it
	Metadata    string         `json:"metadata,omitempty"`
	MID         string         `json:"mid"`
	Text        string         `json:"text,omitempty"`
	QuickReply  *payloadEv     `json:"quick_reply,omitempty"`
	ReplyTo     *replyToEv     `json:"reply_to,omitempty"`
	Attachments []attachmentEv `json:"attachments,omitempty"`
}

type payloadEv struct {
	Payload string `json:"payload"`
}

type replyToEv struct {
	MID string `json:"mid"`
}

type postbackEv struct {
	Title    string      `json:"title"`
	Payload  string      `json:"payload"`
	Referral *referralEv `json:"referral,omitempty"`
	MID      string      `json:"mid,omitempty"`
}

type referralEv struct {
	Ref          string `json:"ref,omitempty"`
	Source       string `json:"source"`
	Type         string `json:"type"`
	AdID         string `json:"ad_id,omitempty"`
	OriginDomain string `json:"origin_domain,omitempty"`
}

type optinEv struct {
	Ref string `json:"ref"`
}

type reactionEv struct {
	Reaction string `json:"reaction"`
	Emoji    string `json:"emoji"`
	Action   string `json:"action"`
	MID      string `json:"mid"`
}

type readEv struct {
	Watermark int64 `json:"watermark"`
}

type deliveryEv struct {
	MIDs      []string `json:"mids,omitempty"`
	Watermark int64    `json:"watermark"`
}

// jsonNumber renders an ID as a JSON number when it is one (Meta's
// app_id), else as a string.
func jsonNumber(id string) any {
	if id != "" && len(id) < 20 {
		if _, err := json.Number(id).Int64(); err == nil {
			return json.Number(id)
		}
	}
	return id
}

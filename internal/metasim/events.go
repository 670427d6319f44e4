package metasim

import (
	"slices"
	"time"
)

// PageInboxAppID is the app ID of Meta's Page Inbox: echoes of replies a
// person types in Meta Business Suite carry it.
const PageInboxAppID = "263902037430900"

// Referral describes how a person arrived: an m.me link ref, an ad, the
// chat plugin. Empty Source and Type default to SHORTLINK and OPEN_THREAD.
type Referral struct {
	Ref, Source, Type, AdID, OriginDomain string
}

func (r *Referral) event() *referralEv {
	if r == nil {
		return nil
	}
	ev := &referralEv{Ref: r.Ref, Source: r.Source, Type: r.Type, AdID: r.AdID, OriginDomain: r.OriginDomain}
	if ev.Source == "" {
		ev.Source = "SHORTLINK"
	}
	if ev.Type == "" {
		ev.Type = "OPEN_THREAD"
	}
	return ev
}

// EventOption adjusts an event a simulated person produces.
type EventOption func(*eventOpts)

type eventOpts struct {
	quickReply *string
	replyTo    string
	raw        bool
	at         time.Time
	mid        string
	standby    bool
	appID      *string
	unreact    bool
}

// QuickReply marks a text message as the tap of a quick reply with this
// payload.
func QuickReply(payload string) EventOption {
	return func(o *eventOpts) { o.quickReply = &payload }
}

// ReplyTo makes a message a swipe-reply to the message mid.
func ReplyTo(mid string) EventOption { return func(o *eventOpts) { o.replyTo = mid } }

// RawUTF8 serialises the delivery with raw UTF-8 instead of Meta's escaped
// ASCII form: the same value, different bytes, different signature.
func RawUTF8() EventOption { return func(o *eventOpts) { o.raw = true } }

// At sets the event's timestamp (default: the simulator's clock), e.g.
// for out-of-order deliveries.
func At(t time.Time) EventOption { return func(o *eventOpts) { o.at = t } }

// WithMID sets the event's message ID instead of a random one.
func WithMID(mid string) EventOption { return func(o *eventOpts) { o.mid = mid } }

// Standby delivers the event in entry[].standby[] (the app is not the
// thread owner) instead of entry[].messaging[].
func Standby() EventOption { return func(o *eventOpts) { o.standby = true } }

// EchoAppID sets the app_id of a HumanEcho ("" leaves app_id out). The
// default is PageInboxAppID.
func EchoAppID(appID string) EventOption { return func(o *eventOpts) { o.appID = &appID } }

// Unreact makes a reaction event an "unreact".
func Unreact() EventOption { return func(o *eventOpts) { o.unreact = true } }

type eventKind int

const (
	evText eventKind = iota + 1
	evAttachment
	evPostback
	evReferral
	evOptin
	evReaction
	evRead
	evDelivery
	evEcho
)

// Event is one messaging item a simulated person (or the page inbox)
// produces, built by TextEvent, PostbackEvent, … and delivered by Batch.
type Event struct {
	kind         eventKind
	pageID, psid string
	mid          string
	text         string
	typ, url     string
	title        string
	payload      string
	ref          *Referral
	target       string // the reacted-to message
	emoji        string
	watermark    time.Time
	mids         []string
	o            eventOpts
}

func newEvent(kind eventKind, pageID, psid string, opts []EventOption) Event {
	e := Event{kind: kind, pageID: pageID, psid: psid}
	for _, fn := range opts {
		fn(&e.o)
	}
	switch kind {
	case evText, evAttachment, evPostback, evEcho:
		e.mid = e.o.mid
		if e.mid == "" {
			e.mid = randMID()
		}
	}
	return e
}

// TextEvent is a text message from the person to the page.
func TextEvent(pageID, psid, text string, opts ...EventOption) Event {
	e := newEvent(evText, pageID, psid, opts)
	e.text = text
	return e
}

// AttachmentEvent is a message carrying one attachment (image, video,
// audio, file, …) at url.
func AttachmentEvent(pageID, psid, typ, url string, opts ...EventOption) Event {
	e := newEvent(evAttachment, pageID, psid, opts)
	e.typ, e.url = typ, url
	return e
}

// PostbackEvent is a button tap (Get Started, persistent menu, template
// button), with the referral of an m.me link for a first conversation.
func PostbackEvent(pageID, psid, title, payload string, ref *Referral, opts ...EventOption) Event {
	e := newEvent(evPostback, pageID, psid, opts)
	e.title, e.payload, e.ref = title, payload, ref
	return e
}

// ReferralEvent is a person opening an existing thread from an m.me link,
// an ad or the chat plugin.
func ReferralEvent(pageID, psid string, ref Referral, opts ...EventOption) Event {
	e := newEvent(evReferral, pageID, psid, opts)
	e.ref = &ref
	return e
}

// OptinEvent is a plugin opt-in (Send to Messenger) with its ref.
func OptinEvent(pageID, psid, ref string, opts ...EventOption) Event {
	e := newEvent(evOptin, pageID, psid, opts)
	e.payload = ref
	return e
}

// ReactionEvent is the person reacting with emoji to the message mid.
func ReactionEvent(pageID, psid, mid, emoji string, opts ...EventOption) Event {
	e := newEvent(evReaction, pageID, psid, opts)
	e.target, e.emoji = mid, emoji
	return e
}

// ReadEvent is the person having read every message sent before
// watermark (zero: now).
func ReadEvent(pageID, psid string, watermark time.Time, opts ...EventOption) Event {
	e := newEvent(evRead, pageID, psid, opts)
	e.watermark = watermark
	return e
}

// DeliveryEvent is the page's messages mids (and every message before
// watermark; zero: now) having reached the person.
func DeliveryEvent(pageID, psid string, mids []string, watermark time.Time, opts ...EventOption) Event {
	e := newEvent(evDelivery, pageID, psid, opts)
	e.mids, e.watermark = slices.Clone(mids), watermark
	return e
}

// HumanEchoEvent is the echo of a reply a person typed in Meta's Page
// inbox: from the page to the person, app_id of the Page Inbox (see
// EchoAppID).
func HumanEchoEvent(pageID, psid, text string, opts ...EventOption) Event {
	e := newEvent(evEcho, pageID, psid, opts)
	e.text = text
	return e
}

// field is the webhook subscription field that carries the event.
func (e Event) field() string {
	if e.o.standby {
		return "standby"
	}
	switch e.kind {
	case evText, evAttachment:
		return "messages"
	case evPostback:
		return "messaging_postbacks"
	case evReferral:
		return "messaging_referrals"
	case evOptin:
		return "messaging_optins"
	case evReaction:
		return "message_reactions"
	case evRead:
		return "message_reads"
	case evDelivery:
		return "message_deliveries"
	case evEcho:
		return "message_echoes"
	}
	return ""
}

// opens reports whether the event opens the person's messaging window.
func (e Event) opens() bool {
	switch e.kind {
	case evText, evAttachment, evPostback, evReferral, evOptin, evReaction:
		return true
	}
	return false
}

// reactionName maps an emoji to Meta's reaction names.
func reactionName(emoji string) string {
	switch emoji {
	case "❤", "❤️", "😍":
		return "love"
	case "😆", "😄", "😂":
		return "smile"
	case "😮":
		return "wow"
	case "😢":
		return "sad"
	case "😠":
		return "angry"
	case "👍":
		return "like"
	}
	return "other"
}

// item builds the event's messaging object.
func (e Event) item(ts int64, now time.Time) messagingItem {
	user, pg := idRef{e.psid}, idRef{e.pageID}
	it := messagingItem{Sender: user, Recipient: pg, Timestamp: ts}
	watermark := func() int64 {
		if e.watermark.IsZero() {
			return now.UnixMilli()
		}
		return e.watermark.UnixMilli()
	}
	switch e.kind {
	case evText:
		m := &messageEv{MID: e.mid, Text: e.text}
		if e.o.quickReply != nil {
			m.QuickReply = &payloadEv{*e.o.quickReply}
		}
		if e.o.replyTo != "" {
			m.ReplyTo = &replyToEv{e.o.replyTo}
		}
		it.Message = m
	case evAttachment:
		m := &messageEv{MID: e.mid, Attachments: echoMedia(e.typ, e.url)}
		if e.o.replyTo != "" {
			m.ReplyTo = &replyToEv{e.o.replyTo}
		}
		it.Message = m
	case evPostback:
		it.Postback = &postbackEv{Title: e.title, Payload: e.payload, Referral: e.ref.event(), MID: e.mid}
	case evReferral:
		it.Referral = e.ref.event()
	case evOptin:
		it.Optin = &optinEv{Ref: e.payload}
	case evReaction:
		action := "react"
		if e.o.unreact {
			action = "unreact"
		}
		it.Reaction = &reactionEv{Reaction: reactionName(e.emoji), Emoji: e.emoji, Action: action, MID: e.target}
	case evRead:
		it.Read = &readEv{Watermark: watermark()}
	case evDelivery:
		// Meta's delivery events carry no timestamp of their own.
		it.Timestamp = 0
		it.Delivery = &deliveryEv{MIDs: e.mids, Watermark: watermark()}
	case evEcho:
		it.Sender, it.Recipient = pg, user
		m := &messageEv{IsEcho: true, MID: e.mid, Text: e.text}
		appID := PageInboxAppID
		if e.o.appID != nil {
			appID = *e.o.appID
		}
		if appID != "" {
			m.AppID = jsonNumber(appID)
		}
		it.Message = m
	}
	return it
}

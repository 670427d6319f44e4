package messenger

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/meta"
)

// Default pacing, safely under Meta's per-Page limits (meta-platform.md
// §2.10: 300 calls/s, 10/s for audio and video).
const (
	DefaultTextRate  = 250
	DefaultMediaRate = 8
	DefaultMaxPages  = 10_000
)

// Messaging types the Send API accepts.
const (
	messagingUpdate = "UPDATE"
)

// profileFields are the User Profile API fields Parley reads: a person's
// public profile and nothing more (promise P-14).
var profileFields = []string{"first_name", "last_name", "profile_pic", "locale"}

// AdapterOptions configure an Adapter.
type AdapterOptions struct {
	// Now is the clock the pacing reads (default time.Now).
	Now func() time.Time
	// TextRate is how many Send API calls a Page may make per second
	// (default DefaultTextRate); MediaRate how many of them may send audio
	// or video (default DefaultMediaRate).
	TextRate, MediaRate float64
	// MaxPages bounds how many Pages' pacing buckets are kept (default
	// DefaultMaxPages); idle ones are dropped first.
	MaxPages int
}

// Adapter sends Messenger messages and reads profiles through the Graph
// client, pacing each Page. It implements channel.Sender and
// channel.ProfileFetcher; every error it returns is a *channel.SendError.
// It is safe for concurrent use.
type Adapter struct {
	g    *meta.Client
	pace *pacer
}

var (
	_ channel.Sender         = (*Adapter)(nil)
	_ channel.ProfileFetcher = (*Adapter)(nil)
)

// NewAdapter returns an Adapter calling Graph through g.
func NewAdapter(g *meta.Client, o AdapterOptions) *Adapter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TextRate <= 0 {
		o.TextRate = DefaultTextRate
	}
	if o.MediaRate <= 0 {
		o.MediaRate = DefaultMediaRate
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	return &Adapter{g: g, pace: newPacer(o.Now, o.TextRate, o.MediaRate, o.MaxPages)}
}

// Send posts one message through the Send API as the channel's Page. The
// content must already be adapted (Adapt returned it as one message) and
// the policy decided (m.MessagingType, m.Tag); anything else is refused as
// invalid without calling Meta.
func (a *Adapter) Send(ctx context.Context, ch channel.Channel, token string, m channel.Outbound) (channel.SendResult, error) {
	body, media, err := request(ch, m)
	if err != nil {
		return channel.SendResult{}, err
	}
	if err := a.pace.take(ctx, ch.ExternalID, media); err != nil {
		return channel.SendResult{}, err
	}
	resp, err := a.g.Send(ctx, token, body)
	if err != nil {
		return channel.SendResult{}, Classify(err)
	}
	if resp.MessageID == "" {
		// Meta answered 200, so the message went out; without its ID the
		// echo cannot be matched. Not retried: that would send it twice.
		return channel.SendResult{}, &channel.SendError{Kind: channel.ErrUncertain,
			Message: "Messenger accepted the message but returned no message ID"}
	}
	return channel.SendResult{MID: resp.MessageID}, nil
}

// request builds and checks the Send API body for m; media reports an audio
// or video send, which Meta limits more tightly.
func request(ch channel.Channel, m channel.Outbound) (body sendBody, media bool, err error) {
	invalid := func(format string, args ...any) error {
		return &channel.SendError{Kind: channel.ErrInvalid, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case ch.Type != channel.Messenger:
		return body, false, invalid("messenger: cannot send on a %q channel", ch.Type)
	case m.To == "":
		return body, false, invalid("messenger: no recipient")
	case utf8.RuneCountInString(m.Metadata) > MaxMetadata:
		return body, false, invalid("messenger: metadata longer than %d characters", MaxMetadata)
	}
	switch m.MessagingType {
	case channel.MessagingResponse, messagingUpdate:
		if m.Tag != "" {
			return body, false, invalid("messenger: a tag needs messaging type %s", channel.MessagingTag)
		}
	case channel.MessagingTag:
		if m.Tag == "" {
			return body, false, invalid("messenger: messaging type %s needs a tag", channel.MessagingTag)
		}
	default:
		return body, false, invalid("messenger: messaging type %q: decide the messaging policy before sending", m.MessagingType)
	}
	parts, err := Adapt(m.Content)
	if err != nil {
		return body, false, invalid("messenger: %v", err)
	}
	if len(parts) != 1 {
		return body, false, invalid("messenger: the content makes %d messages; adapt it and send each", len(parts))
	}
	c := parts[0]
	body = sendBody{
		Recipient:     recipient{ID: m.To},
		MessagingType: m.MessagingType,
		Tag:           m.Tag,
		Message:       buildMessage(c, m.Metadata),
	}
	if m.ReplyTo != "" {
		body.ReplyTo = &replyTo{MID: m.ReplyTo}
	}
	if len(c.Attachments) == 1 {
		t := c.Attachments[0].Type
		media = t == channel.AttachAudio || t == channel.AttachVideo
	}
	return body, media, nil
}

// SenderAction shows a typing indicator or marks the conversation seen
// (channel.ActionTypingOn, ActionTypingOff, ActionMarkSeen).
func (a *Adapter) SenderAction(ctx context.Context, ch channel.Channel, token, to, action string) error {
	switch action {
	case channel.ActionTypingOn, channel.ActionTypingOff, channel.ActionMarkSeen:
	default:
		return &channel.SendError{Kind: channel.ErrInvalid, Message: fmt.Sprintf("messenger: unknown sender action %q", action)}
	}
	if ch.Type != channel.Messenger || to == "" {
		return &channel.SendError{Kind: channel.ErrInvalid, Message: "messenger: sender action needs a Messenger channel and a recipient"}
	}
	if err := a.pace.take(ctx, ch.ExternalID, false); err != nil {
		return err
	}
	if _, err := a.g.Send(ctx, token, sendBody{Recipient: recipient{ID: to}, SenderAction: action}); err != nil {
		return Classify(err)
	}
	return nil
}

// Profile reads a person's public profile (name, picture, locale). Meta
// shares nothing for some people (an empty answer, or error 2018218 for
// phone-number-only accounts): that is Profile{} and no error. Locale needs
// a permission the app may lack, and asking for it then fails the whole
// call, so a refusal is retried once without it.
func (a *Adapter) Profile(ctx context.Context, ch channel.Channel, token, userID string) (channel.Profile, error) {
	if userID == "" {
		return channel.Profile{}, &channel.SendError{Kind: channel.ErrInvalid, Message: "messenger: no user ID"}
	}
	fields := profileFields
	for {
		if err := a.pace.take(ctx, ch.ExternalID, false); err != nil {
			return channel.Profile{}, err
		}
		p, err := a.g.UserProfile(ctx, token, userID, fields...)
		if err == nil {
			return channel.Profile{FirstName: p.FirstName, LastName: p.LastName, Locale: p.Locale, PictureURL: p.ProfilePic}, nil
		}
		var ge *meta.Error
		if errors.As(err, &ge) && (ge.Code == subcodeNoProfile || ge.Subcode == subcodeNoProfile) {
			return channel.Profile{}, nil
		}
		se := Classify(err)
		if len(fields) == len(profileFields) && (se.Kind == channel.ErrPermission || se.Kind == channel.ErrInvalid) {
			fields = profileFields[:3] // without locale
			continue
		}
		return channel.Profile{}, se
	}
}

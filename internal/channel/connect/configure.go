package connect

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Limits of the settings Configure accepts. Messenger's own limits where
// known (meta-platform.md §2.3, §2.7; several are UNVERIFIED there, so these
// err on the small side).
const (
	MaxAutoReply      = 2000
	MaxGreeting       = 160
	MaxMenuItems      = 20
	MaxMenuTitle      = 30
	MaxPayload        = 1000
	MaxURL            = 2000
	MaxIceBreakers    = 4
	MaxIceBreakerText = 80
)

// Messenger Profile API property names.
const (
	propGetStarted  = "get_started"
	propGreeting    = "greeting"
	propMenu        = "persistent_menu"
	propIceBreakers = "ice_breakers"
)

// Configure sets the channel's automatic reply and Page settings. Settings
// that changed are pushed to Meta first (the Messenger Profile API: set
// what is present, delete what became empty), then everything is stored.
// An automatic reply alone needs no Graph call, so it can be changed while
// the channel needs reconnecting. Errors: *validate.Error naming the field
// (auto_reply, get_started, greeting, menu, menu[i].title, menu[i].payload,
// menu[i].url, ice_breakers, ice_breakers[i].question,
// ice_breakers[i].payload); *ConnectError needs_reconnect,
// settings_rejected, token_invalid, graph_unavailable; db.ErrNotFound for
// another workspace's or a disconnected channel.
func (s *Service) Configure(ctx context.Context, a audit.Actor, ws, id, autoReply string, st channel.Settings) (channel.Channel, error) {
	autoReply = strings.TrimSpace(autoReply)
	if err := checkText("auto_reply", autoReply, MaxAutoReply, true); err != nil {
		return channel.Channel{}, err
	}
	st, err := normalizeSettings(st)
	if err != nil {
		return channel.Channel{}, err
	}
	ch, err := s.channels.Get(ctx, ws, id)
	if err != nil {
		return channel.Channel{}, fmt.Errorf("connect: configure: %w", err)
	}
	if ch.Status != channel.Active {
		return channel.Channel{}, fmt.Errorf("connect: configure: channel is disconnected: %w", db.ErrNotFound)
	}
	if !reflect.DeepEqual(st, normalizedOrZero(ch.Settings)) {
		if err := s.pushSettings(ctx, ch, st); err != nil {
			return channel.Channel{}, err
		}
	}
	out, err := s.channels.Configure(ctx, a, ws, id, autoReply, st)
	if err != nil {
		return channel.Channel{}, fmt.Errorf("connect: configure: %w", err)
	}
	return out, nil
}

// pushSettings sends the settings to the Page.
func (s *Service) pushSettings(ctx context.Context, ch channel.Channel, st channel.Settings) error {
	token, err := s.channels.Token(ctx, ch)
	if errors.Is(err, channel.ErrNoToken) {
		return &ConnectError{Code: CodeNeedsReconnect, Message: "Reconnect the Page before changing its settings.", Err: err}
	}
	if err != nil {
		return fmt.Errorf("connect: configure: %w", err)
	}
	set, del := profileChanges(ch.Settings, st)
	fail := func(err error) error {
		cerr := graphFailure("configure", CodeSettingsRejected, "Facebook refused the Page settings", err)
		var ce *ConnectError
		if errors.As(cerr, &ce) && ce.Code == CodeTokenInvalid {
			// The token died since it was connected: stop using it.
			if merr := s.channels.MarkNeedsReconnect(ctx, ch.WorkspaceID, ch.ID, ce.Message); merr != nil {
				s.opt.Log.Warn("connect: mark needs reconnect", "channel", ch.ID, "err", merr)
			}
		}
		return cerr
	}
	if len(set) > 0 {
		if err := s.graph.SetMessengerProfile(ctx, token, set); err != nil {
			return fail(err)
		}
	}
	if len(del) > 0 {
		if err := s.graph.DeleteMessengerProfile(ctx, token, del); err != nil {
			return fail(err)
		}
	}
	return nil
}

// profileChanges returns the Messenger Profile properties to set (every
// one present in st) and those to delete (present before, empty now). The
// menu is deleted before Get Started, which Meta requires while a menu
// exists.
func profileChanges(before, st channel.Settings) (set map[string]any, del []string) {
	set = map[string]any{}
	if st.GetStarted != "" {
		set[propGetStarted] = map[string]string{"payload": st.GetStarted}
	}
	if st.Greeting != "" {
		set[propGreeting] = []map[string]string{{"locale": "default", "text": st.Greeting}}
	}
	if len(st.Menu) > 0 {
		actions := make([]map[string]string, len(st.Menu))
		for i, m := range st.Menu {
			if m.URL != "" {
				actions[i] = map[string]string{"type": channel.ButtonURL, "title": m.Title, "url": m.URL}
			} else {
				actions[i] = map[string]string{"type": channel.ButtonPostback, "title": m.Title, "payload": m.Payload}
			}
		}
		set[propMenu] = []map[string]any{{"locale": "default", "composer_input_disabled": false, "call_to_actions": actions}}
	}
	if len(st.IceBreakers) > 0 {
		qs := make([]map[string]string, len(st.IceBreakers))
		for i, q := range st.IceBreakers {
			qs[i] = map[string]string{"question": q.Question, "payload": q.Payload}
		}
		set[propIceBreakers] = []map[string]any{{"call_to_actions": qs, "locale": "default"}}
	}
	if len(before.Menu) > 0 && len(st.Menu) == 0 {
		del = append(del, propMenu)
	}
	if len(before.IceBreakers) > 0 && len(st.IceBreakers) == 0 {
		del = append(del, propIceBreakers)
	}
	if before.Greeting != "" && st.Greeting == "" {
		del = append(del, propGreeting)
	}
	if before.GetStarted != "" && st.GetStarted == "" {
		del = append(del, propGetStarted)
	}
	return set, del
}

// normalizeSettings trims and checks settings. Empty lists become nil, so
// that "no menu" has one representation.
func normalizeSettings(st channel.Settings) (channel.Settings, error) {
	out := channel.Settings{
		GetStarted: strings.TrimSpace(st.GetStarted),
		Greeting:   strings.TrimSpace(st.Greeting),
	}
	if err := checkText("get_started", out.GetStarted, MaxPayload, false); err != nil {
		return out, err
	}
	if err := checkText("greeting", out.Greeting, MaxGreeting, true); err != nil {
		return out, err
	}
	if len(st.Menu) > MaxMenuItems {
		return out, validate.Field("menu", fmt.Sprintf("Use at most %d menu entries.", MaxMenuItems))
	}
	if len(st.Menu) > 0 && out.GetStarted == "" {
		return out, validate.Field("menu", "A menu needs a Get Started button: set its payload first.")
	}
	for i, m := range st.Menu {
		item, err := normalizeMenuItem(i, m)
		if err != nil {
			return out, err
		}
		out.Menu = append(out.Menu, item)
	}
	if len(st.IceBreakers) > MaxIceBreakers {
		return out, validate.Field("ice_breakers", fmt.Sprintf("Use at most %d ice breakers.", MaxIceBreakers))
	}
	for i, q := range st.IceBreakers {
		f := fmt.Sprintf("ice_breakers[%d]", i)
		q = channel.IceBreaker{Question: strings.TrimSpace(q.Question), Payload: strings.TrimSpace(q.Payload)}
		if q.Question == "" {
			return out, validate.Field(f+".question", "Enter the question.")
		}
		if err := checkText(f+".question", q.Question, MaxIceBreakerText, false); err != nil {
			return out, err
		}
		if q.Payload == "" {
			return out, validate.Field(f+".payload", "Enter the payload the question sends.")
		}
		if err := checkText(f+".payload", q.Payload, MaxPayload, false); err != nil {
			return out, err
		}
		out.IceBreakers = append(out.IceBreakers, q)
	}
	return out, nil
}

func normalizeMenuItem(i int, m channel.MenuItem) (channel.MenuItem, error) {
	f := fmt.Sprintf("menu[%d]", i)
	m = channel.MenuItem{Title: strings.TrimSpace(m.Title), Payload: strings.TrimSpace(m.Payload), URL: strings.TrimSpace(m.URL)}
	if m.Title == "" {
		return m, validate.Field(f+".title", "Enter the entry's title.")
	}
	if err := checkText(f+".title", m.Title, MaxMenuTitle, false); err != nil {
		return m, err
	}
	switch {
	case m.URL != "" && m.Payload != "":
		return m, validate.Field(f+".url", "Give either a payload or a link, not both.")
	case m.URL != "":
		if len(m.URL) > MaxURL {
			return m, validate.Field(f+".url", fmt.Sprintf("Use a link of at most %d characters.", MaxURL))
		}
		u, err := url.Parse(m.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return m, validate.Field(f+".url", "Enter a full web link starting with https://.")
		}
	case m.Payload == "":
		return m, validate.Field(f+".payload", "Enter the payload the entry sends, or a link.")
	default:
		if err := checkText(f+".payload", m.Payload, MaxPayload, false); err != nil {
			return m, err
		}
	}
	return m, nil
}

// normalizedOrZero is the stored settings in normalized form, for
// comparing; settings that no longer pass (older, looser rules) compare as
// changed.
func normalizedOrZero(st channel.Settings) channel.Settings {
	n, err := normalizeSettings(st)
	if err != nil {
		return channel.Settings{GetStarted: "\x00invalid"}
	}
	return n
}

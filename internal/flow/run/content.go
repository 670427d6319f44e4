package run

import (
	"net/url"
	"strings"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/flow"
)

// content renders a message node into the platform-neutral message; the
// channel's adapter then fits it to the platform's limits.
func (m *machine) content(node string, b *flow.MessageNode) channel.Content {
	c := channel.Content{Text: flow.Render(b.Text, m)}
	for i, q := range b.QuickReplies {
		c.QuickReplies = append(c.QuickReplies, channel.QuickReply{
			Title: flow.Render(q.Title, m), Payload: m.payload(node, TapQuickReply, i, 0, q.Payload, q.Next),
		})
	}
	for i, bt := range b.Buttons {
		c.Buttons = append(c.Buttons, m.button(node, TapButton, i, 0, bt))
	}
	for i, cd := range b.Cards {
		card := channel.Card{Title: flow.Render(cd.Title, m), Subtitle: flow.Render(cd.Subtitle, m)}
		if cd.ImageURL != "" {
			card.ImageURL = m.url(cd.ImageURL)
		}
		if cd.URL != "" {
			card.URL = m.url(cd.URL)
		}
		for j, bt := range cd.Buttons {
			card.Buttons = append(card.Buttons, m.button(node, TapCardButton, i, j, bt))
		}
		c.Cards = append(c.Cards, card)
	}
	if a := b.Attachment; a != nil {
		c.Attachments = []channel.Attachment{{Type: a.Type, URL: m.url(a.URL)}}
	}
	return c
}

// button renders one button.
func (m *machine) button(node string, kind TapKind, i, j int, b flow.Button) channel.Button {
	if b.Type == flow.ButtonURL {
		return channel.Button{Type: channel.ButtonURL, Title: flow.Render(b.Title, m), URL: m.url(b.URL)}
	}
	idx, sub := i, 0
	if kind == TapCardButton {
		sub = j
	}
	return channel.Button{Type: channel.ButtonPostback, Title: flow.Render(b.Title, m),
		Payload: m.payload(node, kind, idx, sub, b.Payload, b.Next)}
}

// question renders a question (or its retry) with its choices as quick
// replies.
func (m *machine) question(node string, q *flow.QuestionNode, text string) channel.Content {
	c := channel.Content{Text: flow.Render(text, m)}
	if q.Answer == flow.AnswerChoice {
		for i, ch := range q.Choices {
			c.QuickReplies = append(c.QuickReplies, channel.QuickReply{
				Title: flow.Render(ch.Title, m), Payload: m.payload(node, TapChoice, i, 0, "", ch.Next),
			})
		}
	}
	return c
}

// url renders an address whose variables stand in its path, query or
// fragment (never its host: validation refuses that). Values are escaped
// for where they stand, so a contact's data cannot add a path segment, a
// query parameter or a fragment.
func (m *machine) url(tmpl string) string {
	return renderURL(tmpl, m)
}

// renderURL renders tmpl with vars, escaping values for the part of the
// address they stand in.
func renderURL(tmpl string, vars flow.Lookup) string {
	if !strings.Contains(tmpl, "{{") {
		return tmpl
	}
	// Split at the first "?" or "#" written in the template itself: the
	// values rendered never add one.
	cut := strings.IndexAny(tmpl, "?#")
	if cut < 0 {
		return flow.Render(tmpl, escaped{vars, url.PathEscape})
	}
	head, tail := tmpl[:cut], tmpl[cut:]
	return flow.Render(head, escaped{vars, url.PathEscape}) + flow.Render(tail, escaped{vars, url.QueryEscape})
}

// escaped is a Lookup whose values are escaped by esc.
type escaped struct {
	vars flow.Lookup
	esc  func(string) string
}

// Lookup implements flow.Lookup.
func (e escaped) Lookup(name string) (string, bool) {
	v, ok := e.vars.Lookup(name)
	if !ok {
		return "", false
	}
	return e.esc(v), true
}

// Lookup implements flow.Lookup for the run: the contact's names, locale
// and channel, custom fields and the session's flow variables.
func (m *machine) Lookup(name string) (string, bool) {
	return lookup(&m.contact, m.st.Vars, name)
}

// lookup resolves a variable name against a contact and flow variables.
func lookup(c *Contact, vars map[string]string, name string) (string, bool) {
	switch name {
	case flow.VarFirstName:
		return c.FirstName, true
	case flow.VarLastName:
		return c.LastName, true
	case flow.VarFullName:
		return strings.TrimSpace(c.FirstName + " " + c.LastName), true
	case flow.VarLocale:
		return c.Locale, true
	case flow.VarChannel:
		return c.Channel, true
	}
	if k, ok := strings.CutPrefix(name, flow.VarFieldPrefix); ok {
		v, ok := c.Fields[k]
		return v, ok
	}
	if k, ok := strings.CutPrefix(name, flow.VarFlowPrefix); ok {
		v, ok := vars[k]
		return v, ok
	}
	return "", false
}

package web

import (
	"testing"

	"github.com/parleyhq/parley/internal/inbox"
)

// The conversation list says who of the business wrote last: you, a
// teammate by name, or the automation — never "You" for a flow's reply.
func TestPreviewFrom(t *testing.T) {
	names := map[string]string{"u-dara": "Dara"}
	for _, c := range []struct {
		dir    inbox.Direction
		sender inbox.SenderType
		id     string
		want   string
	}{
		{inbox.In, inbox.SenderContact, "", ""},
		{inbox.Out, inbox.SenderAgent, "u-me", "You"},
		{inbox.Out, inbox.SenderAgent, "u-dara", "Dara"},
		{inbox.Out, inbox.SenderAgent, "u-gone", "Team"},
		{inbox.Out, inbox.SenderFlow, "flow-1", "Bot"},
		{inbox.Out, inbox.SenderAI, "", "AI"},
		{inbox.Out, inbox.SenderBroadcast, "b-1", "Broadcast"},
		{inbox.Out, inbox.SenderPage, "", "Page"},
	} {
		m := inbox.Message{Direction: c.dir, SenderType: c.sender, SenderID: c.id}
		if got := previewFrom(m, "u-me", names); got != c.want {
			t.Errorf("%s %s %q: %q, want %q", c.dir, c.sender, c.id, got, c.want)
		}
	}
}

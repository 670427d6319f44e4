package messenger

import "github.com/parleyhq/parley/internal/channel"

// OwnApp reports whether e is the echo of a message Parley itself sent:
// an echo whose app is Parley's Meta app (appID). Other echoes were written
// by a person in Meta's inbox or by another app, and usually pause
// automation for the conversation. An empty appID owns nothing.
func OwnApp(appID string, e channel.Inbound) bool {
	return e.Kind == channel.EventEcho && appID != "" && e.AppID == appID
}

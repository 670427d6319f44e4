package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// sseEvent is one frame of an event stream.
type sseEvent struct {
	Kind string
	Data struct {
		WorkspaceID    string `json:"workspace_id"`
		Kind           string `json:"kind"`
		ConversationID string `json:"conversation_id"`
	}
}

// stream opens path as an event stream on c's session and returns its
// frames; the stream ends with the test.
func (c *client) stream(path string) <-chan sseEvent {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		c.t.Fatalf("GET %s = %d %s, want an event stream", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 64)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Data); err != nil {
					ev.Kind = "malformed: " + line
				}
			case line == "" && ev.Kind != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out
}

// next returns the stream's next event, failing after a generous deadline
// (a guard against a hang, not a timing assertion).
func next(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("event stream ended")
		}
		return ev
	case <-time.After(60 * time.Second):
		t.Fatal("no event on the stream")
	}
	return sseEvent{}
}

// Issue 5 item 4: /w/{id}/events streams the workspace's changes, IDs
// only, to its members (viewers included) and to nobody else; a member
// of another workspace gets that workspace's events only.
func TestEventStream(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d, apptest.Started())
		owner, _ := s.signUp(t, "Hana")
		ws := owner.createWorkspace("Hana's Hats")
		viewer, vaddr := s.signUp(t, "Ivo")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		other, _ := s.signUp(t, "Oto")
		otherWS := other.createWorkspace("Oto's Oars")
		anonymous := s.client(t)

		// Outsiders get no stream: another workspace's member is told it
		// does not exist, someone signed out is sent to sign in.
		if p := other.get("/w/" + ws + "/events"); p.Status != http.StatusNotFound && p.Status != http.StatusForbidden {
			t.Errorf("another workspace's member: GET events = %d, want 404 or 403", p.Status)
		}
		if p := anonymous.get("/w/" + ws + "/events"); p.Status < 300 || p.Status >= 500 {
			t.Errorf("signed out: GET events = %d, want a redirect or 4xx", p.Status)
		}

		events := viewer.stream("/w/" + ws + "/events")
		otherEvents := other.stream("/w/" + otherWS + "/events")

		// The customer writes on the test page: the viewer hears a message
		// of the new conversation, with IDs only.
		channelPage := owner.post("/w/"+ws+"/channels/test-page", nil).redirectsTo(t, "/w/"+ws+"/channels/")
		owner.post(strings.TrimSuffix(channelPage, "?connected=1")+"/test-conversation", url.Values{"text": {"Do you have sun hats?"}}).
			redirectsTo(t, "/w/"+ws+"/conversations?status=all&test=1")
		ev := next(t, events)
		for ev.Kind != "message" {
			ev = next(t, events)
		}
		if ev.Data.WorkspaceID != ws || ev.Data.Kind != "message" || ev.Data.ConversationID == "" {
			t.Errorf("event = %+v, want a message of workspace %s", ev, ws)
		}

		// The other workspace's stream got none of that: the first event
		// it sees is its own workspace's.
		otherPage := other.post("/w/"+otherWS+"/channels/test-page", nil).redirectsTo(t, "/w/"+otherWS+"/channels/")
		other.post(strings.TrimSuffix(otherPage, "?connected=1")+"/test-conversation", url.Values{"text": {"Oars?"}}).
			redirectsTo(t, "/w/"+otherWS+"/conversations?status=all&test=1")
		if ev := next(t, otherEvents); ev.Data.WorkspaceID != otherWS {
			t.Errorf("the other workspace's stream got %+v", ev)
		}
	})
}

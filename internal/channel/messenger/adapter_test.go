package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/meta"
)

const (
	testToken  = "EAAB-test-page-token"
	testSecret = "test_app_secret"
	testPage   = "404217156637689"
	testPSID   = "1423587017700273"
)

// graphCall is one request the fake Graph received.
type graphCall struct {
	Method, Path, Auth string
	Query              map[string][]string
	Body               []byte
}

// fakeGraph is an httptest Graph API: it records every call and answers
// with the next queued reply (status and body), or a send success.
type fakeGraph struct {
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []graphCall
	replies []reply
}

type reply struct {
	status int
	body   string
	hangup bool // close the connection after reading the request
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.calls = append(g.calls, graphCall{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Query: r.URL.Query(), Body: body})
		rep := reply{status: 200, body: `{"recipient_id":"` + testPSID + `","message_id":"m_sent_1"}`}
		if len(g.replies) > 0 {
			rep, g.replies = g.replies[0], g.replies[1:]
		}
		g.mu.Unlock()
		if rep.hangup {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) queue(r ...reply) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.replies = append(g.replies, r...)
}

func (g *fakeGraph) recorded() []graphCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]graphCall(nil), g.calls...)
}

func (g *fakeGraph) adapter() *Adapter {
	c := meta.New(meta.Options{GraphURL: g.srv.URL, Version: "v23.0", AppSecret: testSecret})
	return NewAdapter(c, AdapterOptions{})
}

var page = channel.Channel{ID: "ch1", WorkspaceID: "ws1", Type: channel.Messenger, ExternalID: testPage}

// TestSendGolden sends each outbound message through a fake Graph and
// compares the request body with testdata/send/NAME.json (run with
// -update to rewrite, then read the diff).
// Promise P-16: replies go out only through Meta's Send API, with the
// messaging type and tag the policy decided.
func TestSendGolden(t *testing.T) {
	tests := []struct {
		name string
		m    channel.Outbound
	}{
		{"text_response", channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse,
			Content: channel.Content{Text: "Hello, world!"}, Metadata: "parley:0190f3a2", ReplyTo: "m_1fTq8oLumEyIp3Q2MR"}},
		{"khmer_text", channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse,
			Content: channel.Content{Text: "សួស្តី ខ្ញុំចង់ទិញ"}}},
		{"human_agent", channel.Outbound{To: testPSID, MessagingType: channel.MessagingTag, Tag: channel.TagHumanAgent,
			Content: channel.Content{Text: "Sorry for the wait, I can help now."}}},
		{"quick_replies", channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse,
			Content: channel.Content{Text: "Pick a color:", QuickReplies: []channel.QuickReply{
				{Title: "Red", Payload: "DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_RED"},
				{Title: "Green", Payload: "DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_GREEN"}}}}},
		{"button_template", channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse,
			Content: channel.Content{Text: "What do you want to do next?", Buttons: []channel.Button{
				{Type: channel.ButtonURL, Title: "Visit", URL: "https://www.messenger.com"},
				{Type: channel.ButtonPostback, Title: "Start Chatting", Payload: "USER_DEFINED_PAYLOAD"}}}}},
		{"generic_template", channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse,
			Content: channel.Content{Cards: []channel.Card{
				{Title: "Welcome to Peter's Hats", Subtitle: "We've got the right hat for everyone.",
					ImageURL: "https://petersfancybrownhats.com/company_image.png", URL: "https://petersfancybrownhats.com/view?item=103",
					Buttons: []channel.Button{{Type: channel.ButtonPostback, Title: "Start Chatting", Payload: "DEVELOPER_DEFINED_PAYLOAD"}}},
				{Title: "Second hat"}}}}},
		{"image_with_quick_reply", channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse,
			Content: channel.Content{Attachments: []channel.Attachment{{Type: channel.AttachImage, URL: "http://www.messenger-rocks.com/image.jpg"}},
				QuickReplies: []channel.QuickReply{{Title: "Nice", Payload: "NICE"}}}}},
		{"video", channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse,
			Content: channel.Content{Attachments: []channel.Attachment{{Type: channel.AttachVideo, URL: "https://cdn.example/v.mp4"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t)
			res, err := g.adapter().Send(context.Background(), page, testToken, tt.m)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.MID != "m_sent_1" {
				t.Errorf("MID = %q", res.MID)
			}
			calls := g.recorded()
			if len(calls) != 1 {
				t.Fatalf("%d calls, want 1", len(calls))
			}
			checkGraphCall(t, calls[0])
			compareGolden(t, "testdata/send/"+tt.name+".json", calls[0].Body)
		})
	}
}

func checkGraphCall(t *testing.T, c graphCall) {
	t.Helper()
	if c.Method != http.MethodPost || c.Path != "/v23.0/me/messages" {
		t.Errorf("call = %s %s, want POST /v23.0/me/messages", c.Method, c.Path)
	}
	if c.Auth != "Bearer "+testToken {
		t.Errorf("Authorization = %q", c.Auth)
	}
	for k, v := range c.Query {
		if strings.Contains(strings.Join(v, ","), testToken) || k == "access_token" {
			t.Errorf("the token is in the URL (%s)", k)
		}
	}
	if got, want := c.Query["appsecret_proof"], meta.AppSecretProof(testSecret, testToken); len(got) != 1 || got[0] != want {
		t.Errorf("appsecret_proof = %v, want %s", got, want)
	}
}

func compareGolden(t *testing.T, path string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, body)
	}
	buf.WriteByte('\n')
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("request body differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestSenderActionGolden(t *testing.T) {
	g := newFakeGraph(t)
	g.queue(reply{status: 200, body: `{"recipient_id":"` + testPSID + `"}`})
	if err := g.adapter().SenderAction(context.Background(), page, testToken, testPSID, channel.ActionTypingOn); err != nil {
		t.Fatalf("SenderAction: %v", err)
	}
	calls := g.recorded()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	checkGraphCall(t, calls[0])
	compareGolden(t, "testdata/send/sender_action.json", calls[0].Body)
}

func TestSendRefusesWithoutCalling(t *testing.T) {
	ok := channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse, Content: channel.Content{Text: "hi"}}
	tests := []struct {
		name string
		ch   channel.Channel
		m    func(m channel.Outbound) channel.Outbound
	}{
		{"not a messenger channel", channel.Channel{Type: "whatsapp", ExternalID: "1"}, func(m channel.Outbound) channel.Outbound { return m }},
		{"no recipient", page, func(m channel.Outbound) channel.Outbound { m.To = ""; return m }},
		{"no messaging type", page, func(m channel.Outbound) channel.Outbound { m.MessagingType = ""; return m }},
		{"unknown messaging type", page, func(m channel.Outbound) channel.Outbound { m.MessagingType = "NON_PROMOTIONAL_SUBSCRIPTION"; return m }},
		{"tag without MESSAGE_TAG", page, func(m channel.Outbound) channel.Outbound { m.Tag = channel.TagHumanAgent; return m }},
		{"MESSAGE_TAG without tag", page, func(m channel.Outbound) channel.Outbound { m.MessagingType = channel.MessagingTag; return m }},
		{"metadata too long", page, func(m channel.Outbound) channel.Outbound { m.Metadata = strings.Repeat("x", MaxMetadata+1); return m }},
		{"content refused", page, func(m channel.Outbound) channel.Outbound { m.Content = channel.Content{}; return m }},
		{"content not adapted", page, func(m channel.Outbound) channel.Outbound { m.Content.Text = strings.Repeat("word ", 500); return m }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t)
			_, err := g.adapter().Send(context.Background(), tt.ch, testToken, tt.m(ok))
			var se *channel.SendError
			if !errors.As(err, &se) || se.Kind != channel.ErrInvalid {
				t.Errorf("Send = %v, want an invalid *SendError", err)
			}
			if n := len(g.recorded()); n != 0 {
				t.Errorf("%d Graph calls, want none", n)
			}
		})
	}
	t.Run("unknown sender action", func(t *testing.T) {
		g := newFakeGraph(t)
		err := g.adapter().SenderAction(context.Background(), page, testToken, testPSID, "react")
		var se *channel.SendError
		if !errors.As(err, &se) || se.Kind != channel.ErrInvalid || len(g.recorded()) != 0 {
			t.Errorf("SenderAction = %v", err)
		}
	})
}

func TestSendErrors(t *testing.T) {
	msg := channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse, Content: channel.Content{Text: "hi"}}
	tests := []struct {
		name  string
		reply reply
		kind  channel.ErrorKind
	}{
		{"outside the window", reply{status: 400, body: `{"error":{"message":"This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"A"}}`}, channel.ErrWindowClosed},
		{"token invalid", reply{status: 400, body: `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"fbtrace_id":"B"}}`}, channel.ErrTokenInvalid},
		{"rate limited", reply{status: 400, body: `{"error":{"message":"Calls to this API have exceeded the rate limit.","code":613}}`}, channel.ErrRateLimited},
		{"server error", reply{status: 502, body: `<html>bad gateway</html>`}, channel.ErrTransient},
		{"accepted without a message id", reply{status: 200, body: `{"recipient_id":"1"}`}, channel.ErrUncertain},
		{"connection dropped after the request", reply{hangup: true}, channel.ErrUncertain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t)
			g.queue(tt.reply)
			_, err := g.adapter().Send(context.Background(), page, testToken, msg)
			var se *channel.SendError
			if !errors.As(err, &se) || se.Kind != tt.kind {
				t.Fatalf("Send = %v, want kind %s", err, tt.kind)
			}
			if strings.Contains(se.Error(), testToken) {
				t.Error("the error contains the token")
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		g := newFakeGraph(t)
		a := g.adapter()
		g.srv.Close()
		_, err := a.Send(context.Background(), page, testToken, msg)
		var se *channel.SendError
		if !errors.As(err, &se) || se.Kind != channel.ErrTransient {
			t.Fatalf("Send = %v, want transient", err)
		}
	})
}

func TestProfile(t *testing.T) {
	tests := []struct {
		name    string
		replies []reply
		want    channel.Profile
		kind    channel.ErrorKind // "" for success
		fields  []string          // fields asked in each call
	}{
		{"full", []reply{{status: 200, body: `{"first_name":"Dara","last_name":"Sok","profile_pic":"https://cdn.example/p.jpg","locale":"km_KH","id":"1"}`}},
			channel.Profile{FirstName: "Dara", LastName: "Sok", Locale: "km_KH", PictureURL: "https://cdn.example/p.jpg"}, "",
			[]string{"first_name,last_name,profile_pic,locale"}},
		{"nothing shared", []reply{{status: 200, body: `{}`}}, channel.Profile{}, "", []string{"first_name,last_name,profile_pic,locale"}},
		{"no profile 2018218", []reply{{status: 400, body: `{"error":{"message":"No profile available for this user.","code":100,"error_subcode":2018218}}`}},
			channel.Profile{}, "", []string{"first_name,last_name,profile_pic,locale"}},
		{"locale refused, asked again without it", []reply{
			{status: 400, body: `{"error":{"message":"(#200) Requires pages_user_locale permission","code":200}}`},
			{status: 200, body: `{"first_name":"Dara"}`}},
			channel.Profile{FirstName: "Dara"}, "", []string{"first_name,last_name,profile_pic,locale", "first_name,last_name,profile_pic"}},
		{"token invalid is not retried", []reply{{status: 400, body: `{"error":{"message":"Invalid OAuth access token.","code":190}}`}},
			channel.Profile{}, channel.ErrTokenInvalid, []string{"first_name,last_name,profile_pic,locale"}},
		{"permission refused twice", []reply{
			{status: 400, body: `{"error":{"message":"no","code":10}}`}, {status: 400, body: `{"error":{"message":"no","code":10}}`}},
			channel.Profile{}, channel.ErrPermission, []string{"first_name,last_name,profile_pic,locale", "first_name,last_name,profile_pic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t)
			g.queue(tt.replies...)
			got, err := g.adapter().Profile(context.Background(), page, testToken, testPSID)
			if tt.kind == "" && err != nil {
				t.Fatalf("Profile: %v", err)
			}
			if tt.kind != "" {
				var se *channel.SendError
				if !errors.As(err, &se) || se.Kind != tt.kind {
					t.Fatalf("Profile = %v, want kind %s", err, tt.kind)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var fields []string
			for _, c := range g.recorded() {
				if c.Method != http.MethodGet || c.Path != "/v23.0/"+testPSID || c.Auth != "Bearer "+testToken {
					t.Errorf("call = %s %s auth %q", c.Method, c.Path, c.Auth)
				}
				fields = append(fields, strings.Join(c.Query["fields"], ","))
			}
			if diff := cmp.Diff(tt.fields, fields); diff != "" {
				t.Errorf("fields asked (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendUsesTheMediaBucketForAudioAndVideo(t *testing.T) {
	g := newFakeGraph(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewAdapter(meta.New(meta.Options{GraphURL: g.srv.URL, AppSecret: testSecret}),
		AdapterOptions{Now: func() time.Time { return clock }, TextRate: 100, MediaRate: 2})
	var waits []time.Duration
	a.pace.wait = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	send := func(typ string) {
		t.Helper()
		m := channel.Outbound{To: testPSID, MessagingType: channel.MessagingResponse,
			Content: channel.Content{Attachments: []channel.Attachment{{Type: typ, URL: "https://cdn.example/x"}}}}
		if _, err := a.Send(context.Background(), page, testToken, m); err != nil {
			t.Fatalf("Send %s: %v", typ, err)
		}
	}
	send(channel.AttachVideo) // the media bucket's one token
	send(channel.AttachImage) // images are not paced as media
	send(channel.AttachAudio) // waits half a second (2 per second)
	want := []time.Duration{500 * time.Millisecond}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

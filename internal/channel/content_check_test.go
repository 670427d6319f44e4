package channel

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckContentAccepts(t *testing.T) {
	tests := []struct {
		name string
		c    Content
	}{
		{"text", Content{Text: "hello"}},
		{"khmer text", Content{Text: "សួស្តី ខ្ញុំចង់ទិញ"}},
		{"text and quick replies", Content{Text: "Pick", QuickReplies: []QuickReply{{Title: "Red", Payload: "RED"}}}},
		{"attachment and quick replies", Content{Attachments: []Attachment{{Type: AttachImage, URL: "https://x.example/a.png"}},
			QuickReplies: []QuickReply{{Title: "Red", Payload: "RED"}}}},
		{"button template", Content{Text: "Choose", Buttons: []Button{
			{Type: ButtonPostback, Title: "Yes", Payload: "YES"},
			{Type: ButtonURL, Title: "Site", URL: "http://x.example/path?q=1"}}}},
		{"cards", Content{Cards: []Card{{Title: "Hat", Subtitle: "Red", ImageURL: "https://x.example/h.png", URL: "https://x.example/h",
			Buttons: []Button{{Type: ButtonPostback, Title: "Buy", Payload: "BUY"}}}}}},
		{"text and cards", Content{Text: "Our hats", Cards: []Card{{Title: "Hat"}}}},
		{"location", Content{Attachments: []Attachment{{Type: AttachLocation, Latitude: 11.55, Longitude: 104.92}}}},
		{"uppercase scheme", Content{Attachments: []Attachment{{Type: AttachFile, URL: "HTTPS://x.example/f.pdf"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckContent(tt.c); err != nil {
				t.Errorf("CheckContent = %v, want nil", err)
			}
		})
	}
}

func TestCheckContentRefuses(t *testing.T) {
	pb := func(title, payload string) Button {
		return Button{Type: ButtonPostback, Title: title, Payload: payload}
	}
	tests := []struct {
		name  string
		c     Content
		field string
	}{
		{"empty", Content{}, "content"},
		{"whitespace only", Content{Text: " \n\t "}, "content"},
		{"quick replies alone", Content{QuickReplies: []QuickReply{{Title: "a", Payload: "b"}}}, "content"},
		{"quick replies on cards", Content{Cards: []Card{{Title: "t"}}, QuickReplies: []QuickReply{{Title: "a", Payload: "b"}}}, "quick_replies"},
		{"buttons without text", Content{Buttons: []Button{pb("a", "b")}}, "text"},
		{"buttons and cards", Content{Text: "x", Buttons: []Button{pb("a", "b")}, Cards: []Card{{Title: "t"}}}, "buttons"},
		{"invalid utf-8 text", Content{Text: "a\xffb"}, "text"},
		{"quick reply without title", Content{Text: "x", QuickReplies: []QuickReply{{Title: " ", Payload: "b"}}}, "quick_replies[0].title"},
		{"quick reply without payload", Content{Text: "x", QuickReplies: []QuickReply{{Title: "a"}, {Title: "b"}}}, "quick_replies[0].payload"},
		{"unknown button type", Content{Text: "x", Buttons: []Button{pb("a", "b"), {Type: "phone_number", Title: "Call", Payload: "+855"}}}, "buttons[1].type"},
		{"postback without payload", Content{Text: "x", Buttons: []Button{pb("a", "")}}, "buttons[0].payload"},
		{"postback with url", Content{Text: "x", Buttons: []Button{{Type: ButtonPostback, Title: "a", Payload: "p", URL: "https://x.example"}}}, "buttons[0].url"},
		{"link without url", Content{Text: "x", Buttons: []Button{{Type: ButtonURL, Title: "a"}}}, "buttons[0].url"},
		{"link with payload", Content{Text: "x", Buttons: []Button{{Type: ButtonURL, Title: "a", URL: "https://x.example", Payload: "p"}}}, "buttons[0].payload"},
		{"button without title", Content{Text: "x", Buttons: []Button{pb("", "p")}}, "buttons[0].title"},
		{"card without title", Content{Cards: []Card{{Title: "ok"}, {Subtitle: "s"}}}, "cards[1].title"},
		{"card bad image", Content{Cards: []Card{{Title: "t", ImageURL: "/relative.png"}}}, "cards[0].image_url"},
		{"card bad link", Content{Cards: []Card{{Title: "t", URL: "javascript:alert(1)"}}}, "cards[0].url"},
		{"card bad button", Content{Cards: []Card{{Title: "t", Buttons: []Button{{Type: ButtonURL, Title: "a", URL: "ftp://x.example"}}}}}, "cards[0].buttons[0].url"},
		{"attachment without url", Content{Attachments: []Attachment{{Type: AttachImage}}}, "attachments[0].url"},
		{"attachment unknown type", Content{Attachments: []Attachment{{Type: "hologram", URL: "https://x.example"}}}, "attachments[0].type"},
		{"attachment file scheme", Content{Attachments: []Attachment{{Type: AttachFile, URL: "file:///etc/passwd"}}}, "attachments[0].url"},
		{"location out of range", Content{Attachments: []Attachment{{Type: AttachLocation, Latitude: 91}}}, "attachments[0]"},
		{"inbound payload", Content{Text: "x", Payload: "P"}, "payload"},
		{"inbound postback", Content{Text: "x", Postback: &Postback{Payload: "P"}}, "postback"},
		{"inbound referral", Content{Text: "x", Referral: &Referral{Ref: "r"}}, "referral"},
		{"inbound reaction", Content{Text: "x", Reaction: &Reaction{Action: "react"}}, "reaction"},
		{"inbound optin", Content{Text: "x", OptinRef: "r"}, "optin_ref"},
		{"sticker", Content{StickerID: "369239263222822"}, "sticker_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckContent(tt.c)
			var ce *ContentError
			if !errors.As(err, &ce) {
				t.Fatalf("CheckContent = %v, want *ContentError", err)
			}
			if ce.Field != tt.field {
				t.Errorf("Field = %q, want %q (message %q)", ce.Field, tt.field, ce.Message)
			}
			if ce.Message == "" {
				t.Error("Message is empty")
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://example.com", true},
		{"http://example.com:8080/a?b=c#d", true},
		{"https://[2001:db8::1]/x", true},
		{"", false},
		{"example.com/path", false},
		{"//example.com/path", false},
		{"/path", false},
		{"mailto:a@example.com", false},
		{"javascript:alert(1)", false},
		{"data:text/html,hi", false},
		{"https:///nohost", false},
		{"https://user:pw@example.com/", false},
		{"https://exa mple.com/", false},
		{"https://example.com/\n", false},
		{"https://example.com/\x7f", false},
		{"https://example.com/" + strings.Repeat("a", maxURL), false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckURL("url", tt.url)
			if (err == nil) != tt.ok {
				t.Errorf("CheckURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

package messenger

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
)

func qrs(n int) []channel.QuickReply {
	out := make([]channel.QuickReply, n)
	for i := range out {
		out[i] = channel.QuickReply{Title: fmt.Sprintf("Q%d", i), Payload: fmt.Sprintf("P%d", i)}
	}
	return out
}

func postbacks(n int) []channel.Button {
	out := make([]channel.Button, n)
	for i := range out {
		out[i] = channel.Button{Type: channel.ButtonPostback, Title: fmt.Sprintf("B%d", i), Payload: fmt.Sprintf("P%d", i)}
	}
	return out
}

func cards(n int) []channel.Card {
	out := make([]channel.Card, n)
	for i := range out {
		out[i] = channel.Card{Title: fmt.Sprintf("Card %d", i)}
	}
	return out
}

func TestAdaptKeepsWhatFits(t *testing.T) {
	img := channel.Attachment{Type: channel.AttachImage, URL: "https://x.example/a.png"}
	tests := []struct {
		name string
		in   channel.Content
		want []channel.Content
	}{
		{"text", channel.Content{Text: "hi"}, []channel.Content{{Text: "hi"}}},
		{"text at the limit", channel.Content{Text: strings.Repeat("ក", MaxText)}, []channel.Content{{Text: strings.Repeat("ក", MaxText)}}},
		{"text with quick replies", channel.Content{Text: "pick", QuickReplies: qrs(MaxQuickReplies)},
			[]channel.Content{{Text: "pick", QuickReplies: qrs(MaxQuickReplies)}}},
		{"buttons", channel.Content{Text: strings.Repeat("x", MaxButtonText), Buttons: postbacks(MaxButtons)},
			[]channel.Content{{Text: strings.Repeat("x", MaxButtonText), Buttons: postbacks(MaxButtons)}}},
		{"cards", channel.Content{Cards: cards(MaxCards)}, []channel.Content{{Cards: cards(MaxCards)}}},
		{"attachment", channel.Content{Attachments: []channel.Attachment{img}}, []channel.Content{{Attachments: []channel.Attachment{img}}}},
		{"text and attachment become two, quick replies on the last",
			channel.Content{Text: "look", Attachments: []channel.Attachment{img}, QuickReplies: qrs(2)},
			[]channel.Content{{Text: "look"}, {Attachments: []channel.Attachment{img}, QuickReplies: qrs(2)}}},
		{"whitespace text with attachment is just the attachment",
			channel.Content{Text: "  ", Attachments: []channel.Attachment{img}},
			[]channel.Content{{Attachments: []channel.Attachment{img}}}},
		{"text and cards become two", channel.Content{Text: "our hats", Cards: cards(2)},
			[]channel.Content{{Text: "our hats"}, {Cards: cards(2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Adapt(tt.in)
			if err != nil {
				t.Fatalf("Adapt: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdaptSplitsLongText(t *testing.T) {
	// Khmer: stacked consonants and vowel signs that a byte or rune cut
	// would break. Sentences end with the khan (។).
	sentence := "សួស្តី ខ្ញុំចង់ទិញស្បែកជើងមួយគូ។ "
	text := strings.Repeat(sentence, 3*MaxText/utf8.RuneCountInString(sentence))
	got, err := Adapt(channel.Content{Text: text, QuickReplies: qrs(3)})
	if err != nil {
		t.Fatalf("Adapt: %v", err)
	}
	if len(got) < 3 {
		t.Fatalf("%d parts, want at least 3", len(got))
	}
	var texts []string
	for i, c := range got {
		texts = append(texts, c.Text)
		if i < len(got)-1 && c.QuickReplies != nil {
			t.Errorf("part %d carries quick replies; only the last should", i)
		}
		if !strings.HasSuffix(c.Text, "។") {
			t.Errorf("part %d does not end at a sentence: %q", i, c.Text[max(0, len(c.Text)-30):])
		}
	}
	if diff := cmp.Diff(qrs(3), got[len(got)-1].QuickReplies); diff != "" {
		t.Errorf("last part's quick replies (-want +got):\n%s", diff)
	}
	checkParts(t, text, texts, MaxText)
}

func TestAdaptRefuses(t *testing.T) {
	img := channel.Attachment{Type: channel.AttachImage, URL: "https://x.example/a.png"}
	long := func(n int) string { return strings.Repeat("ក", n) }
	tests := []struct {
		name  string
		in    channel.Content
		field string
	}{
		{"platform-independent check runs first", channel.Content{}, "content"},
		{"two attachments", channel.Content{Attachments: []channel.Attachment{img, img}}, "attachments"},
		{"attachment with buttons", channel.Content{Text: "x", Buttons: postbacks(1), Attachments: []channel.Attachment{img}}, "attachments"},
		{"attachment with cards", channel.Content{Cards: cards(1), Attachments: []channel.Attachment{img}}, "attachments"},
		{"location", channel.Content{Attachments: []channel.Attachment{{Type: channel.AttachLocation, Latitude: 1, Longitude: 2}}}, "attachments[0].type"},
		{"fallback link", channel.Content{Attachments: []channel.Attachment{{Type: channel.AttachFallback, URL: "https://x.example"}}}, "attachments[0].type"},
		{"quick replies with buttons", channel.Content{Text: "x", Buttons: postbacks(1), QuickReplies: qrs(1)}, "quick_replies"},
		{"quick replies with text and cards", channel.Content{Text: "x", Cards: cards(1), QuickReplies: qrs(1)}, "quick_replies"},
		{"too many quick replies", channel.Content{Text: "x", QuickReplies: qrs(MaxQuickReplies + 1)}, "quick_replies"},
		{"quick reply title", channel.Content{Text: "x", QuickReplies: []channel.QuickReply{{Title: long(MaxQuickReplyTitle + 1), Payload: "p"}}}, "quick_replies[0].title"},
		{"quick reply payload", channel.Content{Text: "x", QuickReplies: []channel.QuickReply{{Title: "t", Payload: long(MaxPayload + 1)}}}, "quick_replies[0].payload"},
		{"too many buttons", channel.Content{Text: "x", Buttons: postbacks(MaxButtons + 1)}, "buttons"},
		{"button text", channel.Content{Text: long(MaxButtonText + 1), Buttons: postbacks(1)}, "text"},
		{"button title", channel.Content{Text: "x", Buttons: []channel.Button{{Type: channel.ButtonPostback, Title: long(MaxButtonTitle + 1), Payload: "p"}}}, "buttons[0].title"},
		{"button payload", channel.Content{Text: "x", Buttons: []channel.Button{{Type: channel.ButtonPostback, Title: "t", Payload: long(MaxPayload + 1)}}}, "buttons[0].payload"},
		{"too many cards", channel.Content{Cards: cards(MaxCards + 1)}, "cards"},
		{"card title", channel.Content{Cards: []channel.Card{{Title: long(MaxCardTitle + 1)}}}, "cards[0].title"},
		{"card subtitle", channel.Content{Cards: []channel.Card{{Title: "t", Subtitle: long(MaxCardSubtitle + 1)}}}, "cards[0].subtitle"},
		{"card buttons", channel.Content{Cards: []channel.Card{{Title: "t"}, {Title: "u", Buttons: postbacks(MaxButtons + 1)}}}, "cards[1].buttons"},
		{"card button title", channel.Content{Cards: []channel.Card{{Title: "t", Buttons: []channel.Button{{Type: channel.ButtonURL, Title: long(21), URL: "https://x.example"}}}}}, "cards[0].buttons[0].title"},
		{"text beyond MaxParts messages", channel.Content{Text: strings.Repeat("word ", MaxText*MaxParts/5+1)}, "text"},
		{"unsplittable text", channel.Content{Text: "a" + strings.Repeat("\u0301", MaxText+5)}, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Adapt(tt.in)
			var ce *channel.ContentError
			if !errors.As(err, &ce) {
				t.Fatalf("Adapt = %v, %v; want *channel.ContentError", got, err)
			}
			if ce.Field != tt.field {
				t.Errorf("Field = %q, want %q (%s)", ce.Field, tt.field, ce.Message)
			}
		})
	}
}

func TestAdaptLimitMessagesNameTheLimit(t *testing.T) {
	_, err := Adapt(channel.Content{Text: "x", QuickReplies: []channel.QuickReply{{Title: strings.Repeat("a", 25), Payload: "p"}}})
	var ce *channel.ContentError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "20") || !strings.Contains(ce.Message, "25") {
		t.Errorf("message %v should name the limit (20) and the length (25)", err)
	}
}

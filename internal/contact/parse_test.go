package contact_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/validate"
)

// Promise P-15 and P-20: the structured answers flows and agents store in
// custom fields are checked against the field's type and stored in one
// normal form, whatever keyboard they were typed on.
func TestParse(t *testing.T) {
	choice := contact.Field{Key: "city", Type: contact.FieldChoice, Choices: []string{"Phnom Penh", "Siem Reap", "Straße", "ភ្នំពេញ"}}
	field := func(typ contact.FieldType) contact.Field { return contact.Field{Key: "f_" + string(typ), Type: typ} }
	tests := []struct {
		name   string
		f      contact.Field
		raw    string
		region string
		want   string // "" means refused
	}{
		// text
		{"text trimmed", field(contact.FieldText), "  hello  ", "", "hello"},
		{"text NFC", field(contact.FieldText), "Cafe\u0301", "", "Caf\u00e9"},
		{"text Khmer", field(contact.FieldText), "សួស្តី", "", "សួស្តី"},
		{"text multiline", field(contact.FieldText), "line 1\r\nline 2\ttab", "", "line 1\nline 2\ttab"},
		{"text at limit", field(contact.FieldText), strings.Repeat("ក", contact.MaxText), "", strings.Repeat("ក", contact.MaxText)},
		{"text too long", field(contact.FieldText), strings.Repeat("a", contact.MaxText+1), "", ""},
		{"text empty", field(contact.FieldText), "  \n ", "", ""},
		{"text invalid UTF-8", field(contact.FieldText), "a\xffb", "", ""},
		{"text NUL", field(contact.FieldText), "a\x00b", "", ""},
		{"text escape", field(contact.FieldText), "a\x1b[31mb", "", ""},
		{"text huge", field(contact.FieldText), strings.Repeat("a", 100000), "", ""},
		// number
		{"number integer", field(contact.FieldNumber), "42", "", "42"},
		{"number canonical", field(contact.FieldNumber), "+007.500", "", "7.5"},
		{"number negative", field(contact.FieldNumber), "-12.50", "", "-12.5"},
		{"number negative zero", field(contact.FieldNumber), "-0.0", "", "0"},
		{"number leading point", field(contact.FieldNumber), ".5", "", "0.5"},
		{"number trailing point", field(contact.FieldNumber), "5.", "", "5"},
		{"number Khmer digits", field(contact.FieldNumber), "១២.៥", "", "12.5"},
		{"number Thai digits", field(contact.FieldNumber), "๑๐๐", "", "100"},
		{"number Devanagari digits", field(contact.FieldNumber), "४२", "", "42"},
		{"number Arabic-Indic digits", field(contact.FieldNumber), "٤٢", "", "42"},
		{"number fullwidth digits", field(contact.FieldNumber), "４２", "", "42"},
		{"number word", field(contact.FieldNumber), "twelve", "", ""},
		{"number exponent", field(contact.FieldNumber), "1e400", "", ""},
		{"number infinity", field(contact.FieldNumber), "Inf", "", ""},
		{"number NaN", field(contact.FieldNumber), "NaN", "", ""},
		{"number thousands", field(contact.FieldNumber), "1,000", "", ""},
		{"number two points", field(contact.FieldNumber), "1.2.3", "", ""},
		{"number sign only", field(contact.FieldNumber), "-", "", ""},
		{"number point only", field(contact.FieldNumber), ".", "", ""},
		{"number too long", field(contact.FieldNumber), strings.Repeat("9", 41), "", ""},
		// date
		{"date", field(contact.FieldDate), "2026-11-02", "", "2026-11-02"},
		{"date leap day", field(contact.FieldDate), "2028-02-29", "", "2028-02-29"},
		{"date Khmer digits", field(contact.FieldDate), "២០២៦-១១-០២", "", "2026-11-02"},
		{"date not a leap year", field(contact.FieldDate), "2026-02-29", "", ""},
		{"date month 13", field(contact.FieldDate), "2026-13-01", "", ""},
		{"date short", field(contact.FieldDate), "2026-1-2", "", ""},
		{"date other order", field(contact.FieldDate), "02/11/2026", "", ""},
		{"date with time", field(contact.FieldDate), "2026-11-02T10:00:00Z", "", ""},
		// boolean
		{"boolean yes", field(contact.FieldBoolean), "Yes", "", "true"},
		{"boolean TRUE", field(contact.FieldBoolean), "TRUE", "", "true"},
		{"boolean 1", field(contact.FieldBoolean), "1", "", "true"},
		{"boolean off", field(contact.FieldBoolean), "off", "", "false"},
		{"boolean n", field(contact.FieldBoolean), "n", "", "false"},
		{"boolean maybe", field(contact.FieldBoolean), "maybe", "", ""},
		{"boolean 2", field(contact.FieldBoolean), "2", "", ""},
		// email
		{"email", field(contact.FieldEmail), " dara@example.com ", "", "dara@example.com"},
		{"email no domain dot", field(contact.FieldEmail), "dara@example", "", ""},
		{"email two ats", field(contact.FieldEmail), "a@b@example.com", "", ""},
		{"email display name", field(contact.FieldEmail), "Dara <dara@example.com>", "", ""},
		{"email not one", field(contact.FieldEmail), "dara", "", ""},
		// phone
		{"phone local KH", field(contact.FieldPhone), "012 345 678", "KH", "+85512345678"},
		{"phone region lower case", field(contact.FieldPhone), "012 345 678", "kh", "+85512345678"},
		{"phone Khmer digits", field(contact.FieldPhone), "០១២ ៣៤៥ ៦៧៨", "KH", "+85512345678"},
		{"phone international", field(contact.FieldPhone), "+855 12 345 678", "", "+85512345678"},
		{"phone international other region", field(contact.FieldPhone), "+66 81 234 5678", "KH", "+66812345678"},
		{"phone local without region", field(contact.FieldPhone), "012 345 678", "", ""},
		{"phone too short", field(contact.FieldPhone), "12", "KH", ""},
		{"phone letters", field(contact.FieldPhone), "call me", "KH", ""},
		{"phone trailing letters", field(contact.FieldPhone), "012-345-678 abc", "KH", ""},
		{"phone extension", field(contact.FieldPhone), "+855 12 345 678 ext 5", "KH", ""},
		{"phone unknown region", field(contact.FieldPhone), "012 345 678", "XX", ""},
		// choice
		{"choice exact", choice, "Siem Reap", "", "Siem Reap"},
		{"choice other case", choice, "  siem REAP ", "", "Siem Reap"},
		{"choice case folding", choice, "STRASSE", "", "Straße"},
		{"choice Khmer", choice, "ភ្នំពេញ", "", "ភ្នំពេញ"},
		{"choice unknown", choice, "Battambang", "", ""},
		{"choice empty", choice, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.Parse(tt.raw, tt.region)
			if tt.want == "" {
				v, ok := validate.As(err)
				if !ok || v.Field != tt.f.Key || v.Message == "" {
					t.Fatalf("Parse(%q) = %q, %v; want a *validate.Error naming %q", tt.raw, got, err, tt.f.Key)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestValueAccessors(t *testing.T) {
	if f, ok := (contact.Value{Type: contact.FieldNumber, Text: "-12.5"}).Float(); !ok || f != -12.5 {
		t.Errorf("Float = %v, %v", f, ok)
	}
	if _, ok := (contact.Value{Type: contact.FieldText, Text: "12"}).Float(); ok {
		t.Error("a text value read as a number")
	}
	if b, ok := (contact.Value{Type: contact.FieldBoolean, Text: "true"}).Bool(); !ok || !b {
		t.Errorf("Bool = %v, %v", b, ok)
	}
	if d, ok := (contact.Value{Type: contact.FieldDate, Text: "2026-11-02"}).Date(); !ok || !d.Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Date = %v, %v", d, ok)
	}
	if _, ok := (contact.Value{Type: contact.FieldNumber, Text: "2026-11-02"}).Date(); ok {
		t.Error("a number value read as a date")
	}
}

package contact

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Limits of values.
const (
	// MaxText is the length of a text value, in characters.
	MaxText = 1000
	// maxRaw caps the input before any normalization work, in bytes (a
	// 1000-character text in a four-byte script, with room for spaces).
	maxRaw = 8 << 10
	// maxNumber caps a number's length, sign and point included: 40
	// characters keep it far from float64 overflow and precise enough for
	// prices and quantities.
	maxNumber = 40
)

// DateLayout is how date values are written and stored.
const DateLayout = "2006-01-02"

var numberPattern = regexp.MustCompile(`^([+-]?)([0-9]*)(?:\.([0-9]*))?$`)

// Parse checks raw as a value of f and returns it normalized, as it is
// stored and shown; region is the ISO 3166-1 alpha-2 code (such as "KH")
// that phone numbers written without their country code are read in, ""
// to accept only international numbers. A bad value gets a *validate.Error
// whose Field is f.Key and whose message a person (or a flow's retry
// prompt) can act on.
//
// Digits of any script count (Khmer ១២, Thai ๑๒ …) in numbers, dates and
// phone numbers, since people answer on their own keyboard:
//
//   - text: trimmed, NFC, at most MaxText characters, line breaks and tabs
//     allowed but no other control character;
//   - number: a plain decimal ("-12.50" becomes "-12.5"; no exponent, no
//     thousands separator, which would be ambiguous across locales);
//   - date: YYYY-MM-DD, a real calendar day;
//   - boolean: true/false, yes/no, y/n, on/off, 1/0 in any letter case,
//     stored as "true" or "false";
//   - email: as validate.Email accepts it;
//   - phone: a valid number for its country, stored in E.164 ("+85512345678");
//     extensions are refused rather than silently dropped;
//   - choice: one of f.Choices, matched ignoring letter case and stored
//     spelled as the choice is.
func (f Field) Parse(raw, region string) (string, error) {
	bad := func(msg string) (string, error) { return "", validate.Field(f.Key, msg) }
	if len(raw) > maxRaw {
		return bad("That is too long.")
	}
	s, ok := cleanText(raw, f.Type == FieldText)
	if !ok {
		return bad("That is not valid text.")
	}
	if s == "" {
		return bad("Enter a value.")
	}
	switch f.Type {
	case FieldText:
		if utf8.RuneCountInString(s) > MaxText {
			return bad(fmt.Sprintf("Use at most %d characters.", MaxText))
		}
		return s, nil
	case FieldNumber:
		if n, ok := parseNumber(asciiDigits(s)); ok {
			return n, nil
		}
		return bad("Enter a number, like 12 or 3.5.")
	case FieldDate:
		s = asciiDigits(s)
		if t, err := time.Parse(DateLayout, s); err == nil && t.Format(DateLayout) == s {
			return s, nil
		}
		return bad("Enter a date as YYYY-MM-DD, like 2026-11-02.")
	case FieldBoolean:
		switch strings.ToLower(s) {
		case "true", "yes", "y", "on", "1":
			return "true", nil
		case "false", "no", "n", "off", "0":
			return "false", nil
		}
		return bad("Answer yes or no.")
	case FieldEmail:
		email, _, err := validate.Email(f.Key, s)
		return email, err
	case FieldPhone:
		return parsePhone(f.Key, asciiDigits(s), region)
	case FieldChoice:
		key := db.FoldKey(s)
		for _, c := range f.Choices {
			if db.FoldKey(c) == key {
				return c, nil
			}
		}
		list := strings.Join(f.Choices, ", ")
		if len(f.Choices) > 10 {
			list = strings.Join(f.Choices[:10], ", ") + ", …"
		}
		return bad("Choose one of: " + list + ".")
	}
	return "", fmt.Errorf("field %s: unknown type %q", f.Key, f.Type)
}

// parseNumber returns the canonical form of a plain decimal: no "+", no
// leading zeros, no trailing fractional zeros, "0" for any zero.
func parseNumber(s string) (string, bool) {
	if len(s) > maxNumber {
		return "", false
	}
	m := numberPattern.FindStringSubmatch(s)
	if m == nil || m[2] == "" && m[3] == "" {
		return "", false
	}
	sign, whole, frac := m[1], strings.TrimLeft(m[2], "0"), strings.TrimRight(m[3], "0")
	if whole == "" {
		whole = "0"
	}
	out := whole
	if frac != "" {
		out += "." + frac
	}
	if out == "0" || sign != "-" {
		sign = ""
	}
	return sign + out, true
}

// parsePhone returns s in E.164, read in region when it has no country
// code.
func parsePhone(field, s, region string) (string, error) {
	msg := "Enter a valid phone number, like +855 12 345 678."
	if region == "" {
		msg = "Enter the phone number with its country code, like +855 12 345 678."
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", validate.Field(field, msg)
	}
	if n.GetExtension() != "" {
		return "", validate.Field(field, "Enter the phone number without an extension.")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Value is a contact's value of one custom field.
type Value struct {
	Key  string
	Type FieldType
	// Text is the value as Field.Parse normalized it.
	Text      string
	UpdatedBy By
	UpdatedAt time.Time
}

// Float is a number value as a float64 (false for another type).
func (v Value) Float() (float64, bool) {
	if v.Type != FieldNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Text, 64)
	return f, err == nil
}

// Bool is a boolean value (false, false for another type).
func (v Value) Bool() (value, ok bool) {
	if v.Type != FieldBoolean {
		return false, false
	}
	return v.Text == "true", true
}

// Date is a date value at midnight UTC (false for another type).
func (v Value) Date() (time.Time, bool) {
	if v.Type != FieldDate {
		return time.Time{}, false
	}
	t, err := time.Parse(DateLayout, v.Text)
	return t, err == nil
}

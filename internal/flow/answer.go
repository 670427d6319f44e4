package flow

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"

	"github.com/parleyhq/parley/internal/validate"
)

// Answer is a valid reply to a question.
type Answer struct {
	// Value is the normalized answer, as it is saved: trimmed text, the
	// e-mail address, an E.164 phone number (+85512345678), a number in
	// plain decimal with every digit kept (1234.5), a date as YYYY-MM-DD,
	// or the choice's value: the forms package contact stores.
	Value string
	// Next is the node the answer leads to (a choice's own Next, else the
	// question's), possibly empty: the flow ends.
	Next string
}

// maxAnswerLen bounds the typed answers other than text, in bytes, before
// any parsing: phone numbers, numbers and dates are short.
const maxAnswerLen = 64

// Check validates a reply to the question: text is what the contact typed
// (or the title of what they tapped), payload the payload of a tapped
// quick reply, if any. Digits of any script (Khmer ១២៣, Thai ๑๒๓, full
// width) count as digits. It reports false for an invalid answer; the
// runner then sends Retry and counts the attempt.
func (q *QuestionNode) Check(text, payload string) (Answer, bool) {
	text = strings.TrimSpace(text)
	var (
		v  string
		ok bool
	)
	switch q.Answer {
	case AnswerText:
		v, ok = text, text != "" && len([]rune(text)) <= MaxTextLen
	case AnswerEmail:
		e, _, err := validate.Email("answer", norm.NFKC.String(text))
		v, ok = e, err == nil
	case AnswerPhone:
		v, ok = Phone(text, q.Region)
	case AnswerNumber:
		var f float64
		if v, f, ok = number(text); ok && ((q.Min != nil && f < *q.Min) || (q.Max != nil && f > *q.Max)) {
			ok = false
		}
	case AnswerDate:
		var d time.Time
		if d, ok = Date(text, q.DateOrder); ok {
			v = d.Format(time.DateOnly)
		}
	case AnswerChoice:
		if c, found := q.choose(text, payload); found {
			next := c.Next
			if next == "" {
				next = q.Next
			}
			return Answer{Value: c.value(), Next: next}, true
		}
	}
	if !ok {
		return Answer{}, false
	}
	return Answer{Value: v, Next: q.Next}, true
}

// choose finds the choice a reply picks: by payload (a tapped chip
// carries the choice's value), else by its title or value typed in any
// case, else by its number in the list ("2").
func (q *QuestionNode) choose(text, payload string) (Choice, bool) {
	if payload != "" {
		for _, c := range q.Choices {
			if c.value() == payload {
				return c, true
			}
		}
	}
	t := norm.NFKC.String(text)
	for _, c := range q.Choices {
		if strings.EqualFold(t, norm.NFKC.String(c.Title)) || strings.EqualFold(t, norm.NFKC.String(c.value())) {
			return c, true
		}
	}
	if n, err := strconv.Atoi(asciiDigits(t)); err == nil && n >= 1 && n <= len(q.Choices) {
		return q.Choices[n-1], true
	}
	return Choice{}, false
}

// Phone normalizes a phone number to E.164. region (ISO 3166, like "KH")
// is the country assumed when the number has no international prefix;
// with no region the number must start with +. Numbers with an extension
// are refused.
func Phone(s, region string) (string, bool) {
	s = asciiDigits(norm.NFKC.String(strings.TrimSpace(s)))
	if s == "" || len(s) > maxAnswerLen {
		return "", false
	}
	if region == "" {
		region = "ZZ" // unknown region: only +country numbers parse
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	// An extension is refused rather than dropped, as custom fields do.
	if err != nil || !phonenumbers.IsValidNumber(n) || n.GetExtension() != "" {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// Number reads a number as people type it: "1234", "-3.5", "1,234.5",
// "1.234,5" (decimal comma), "1 000", in any script's digits. A single
// comma followed by exactly three digits groups thousands; otherwise it
// is a decimal comma.
func Number(s string) (float64, bool) {
	_, f, ok := number(s)
	return f, ok
}

// number reads a number as Number does and also returns it as a plain
// decimal with every digit kept ("-1234.5", never an exponent): the form
// custom fields store.
func number(s string) (string, float64, bool) {
	s = asciiDigits(norm.NFKC.String(strings.TrimSpace(s)))
	if s == "" || len(s) > maxAnswerLen {
		return "", 0, false
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009', '\'', '_':
			return -1 // digit grouping
		case '\u2212':
			return '-'
		}
		return r
	}, s)
	sign := ""
	if s != "" && (s[0] == '-' || s[0] == '+') {
		sign, s = s[:1], s[1:]
	}
	commas, dots := strings.Count(s, ","), strings.Count(s, ".")
	switch {
	case commas > 0 && dots > 0:
		if strings.LastIndexByte(s, ',') > strings.LastIndexByte(s, '.') {
			s = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
		} else {
			s = strings.ReplaceAll(s, ",", "")
		}
	case commas == 1:
		if len(s)-strings.IndexByte(s, ',')-1 == 3 {
			s = strings.ReplaceAll(s, ",", "")
		} else {
			s = strings.ReplaceAll(s, ",", ".")
		}
	case commas > 1:
		s = strings.ReplaceAll(s, ",", "")
	case dots > 1:
		s = strings.ReplaceAll(s, ".", "")
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
		default:
			return "", 0, false // refuses what ParseFloat would also take: Inf, NaN, 0x1p3, 1e9
		}
	}
	if digits == 0 || strings.Count(s, ".") > 1 {
		return "", 0, false
	}
	f, err := strconv.ParseFloat(sign+s, 64)
	if err != nil {
		return "", 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	whole, frac = strings.TrimLeft(whole, "0"), strings.TrimRight(frac, "0")
	if whole == "" {
		whole = "0"
	}
	if frac != "" {
		whole += "." + frac
	}
	if sign == "-" && whole != "0" {
		whole = "-" + whole
	}
	return whole, f, true
}

// Date reads a calendar date: YYYY-MM-DD, or day, month and four-digit
// year separated by /, . or - in the order DateDMY (the default) or
// DateMDY.
func Date(s, order string) (time.Time, bool) {
	s = asciiDigits(norm.NFKC.String(strings.TrimSpace(s)))
	if s == "" || len(s) > maxAnswerLen {
		return time.Time{}, false
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '.' || r == '-' || r == ' ' })
	if len(parts) != 3 {
		return time.Time{}, false
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 4 {
			return time.Time{}, false
		}
		nums[i] = n
	}
	var y, m, d int
	switch {
	case len(parts[0]) == 4:
		y, m, d = nums[0], nums[1], nums[2]
	case len(parts[2]) != 4:
		return time.Time{}, false // two-digit years are ambiguous
	case order == DateMDY:
		m, d, y = nums[0], nums[1], nums[2]
	default:
		d, m, y = nums[0], nums[1], nums[2]
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1000 || t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// asciiDigits replaces the decimal digits of every script with ASCII
// ones. NFKC has already mapped full-width and mathematical digits; each
// remaining script's digits are one run of ten code points from zero.
func asciiDigits(s string) string {
	if isASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x80 || !unicode.IsDigit(r) {
			return r
		}
		k := 0
		for k < 100 && unicode.IsDigit(r-rune(k+1)) {
			k++
		}
		return '0' + rune(k%10)
	}, s)
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

package validate

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error reports one invalid field with a message a person can act on.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

// Field builds an *Error.
func Field(field, message string) *Error { return &Error{Field: field, Message: message} }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var v *Error
	ok := errors.As(err, &v)
	return v, ok
}

// Email checks and normalises an address. It returns the address as given
// (trimmed) and the lower-cased key used for lookups.
func Email(field, s string) (email, key string, err error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "", Field(field, "Enter an e-mail address.")
	case len(s) > 254:
		return "", "", Field(field, "That e-mail address is too long.")
	}
	a, perr := mail.ParseAddress(s)
	if perr != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", "", Field(field, "Enter a valid e-mail address, like name@example.com.")
	}
	return s, strings.ToLower(s), nil
}

// Name checks a display name: trimmed, at most max characters, no control
// characters. Empty is allowed only when optional.
func Name(field, s string, max int, optional bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if optional {
			return "", nil
		}
		return "", Field(field, "Enter a name.")
	}
	if !utf8.ValidString(s) {
		return "", Field(field, "The name is not valid text.")
	}
	if utf8.RuneCountInString(s) > max {
		return "", Field(field, "Use at most "+itoa(max)+" characters.")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", Field(field, "The name contains control characters.")
	}
	return s, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

package validate

import (
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	for _, tc := range []struct {
		in, key string
		ok      bool
	}{
		{"Sokha@Example.com", "sokha@example.com", true},
		{"  a.b+c@shop.co.kh ", "a.b+c@shop.co.kh", true},
		{"", "", false},
		{"no-at-sign", "", false},
		{"x@localhost", "", false},
		{"Sokha <s@example.com>", "", false},
		{"a@b.c\r\nBcc: x@y.z", "", false},
		{strings.Repeat("a", 250) + "@example.com", "", false},
	} {
		_, key, err := Email("email", tc.in)
		if (err == nil) != tc.ok || key != tc.key {
			t.Errorf("Email(%q) = %q, %v; want ok=%v key %q", tc.in, key, err, tc.ok, tc.key)
		}
		if err != nil {
			if v, ok := As(err); !ok || v.Field != "email" {
				t.Errorf("Email(%q) error %v does not name the field", tc.in, err)
			}
		}
	}
}

func TestName(t *testing.T) {
	if _, err := Name("name", "", 10, true); err != nil {
		t.Error(err)
	}
	if _, err := Name("name", "  ", 10, false); err == nil {
		t.Error("blank required name accepted")
	}
	if got, err := Name("name", " ហាងសុខា ", 10, false); err != nil || got != "ហាងសុខា" {
		t.Errorf("Khmer name: %q, %v", got, err)
	}
	if _, err := Name("name", strings.Repeat("x", 11), 10, false); err == nil {
		t.Error("overlong name accepted")
	}
	if _, err := Name("name", "a\x00b", 10, false); err == nil {
		t.Error("control character accepted")
	}
}

package account_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/validate"
)

// Promise P-01: the password policy of doc.go, boundary by boundary
// (security.md §3.F F-4).
func TestValidatePassword(t *testing.T) {
	const email = "Vanna.Sok@example.com"
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"8 characters", "tr0mbone", true},
		{"7 characters", "tromb0n", false},
		{"8 Khmer characters (24 bytes)", strings.Repeat("ក", 8), true},
		{"7 Khmer characters (21 bytes)", strings.Repeat("ក", 7), false},
		{"64-character passphrase", strings.Repeat("abcdefgh", 8), true},
		{"256 characters", strings.Repeat("q", 256), true},
		{"256 Khmer characters (768 bytes)", strings.Repeat("ខ", 256), true},
		{"257 characters", strings.Repeat("q", 257), false},
		{"1000 characters", strings.Repeat("q", 1000), false},
		{"no composition rules: lower-case words only", "purple monkey dishwasher", true},
		{"common", "sunshine", false},
		{"common, mixed case", "SunShine", false},
		{"common, padded with spaces", "  football ", false},
		{"email", "vanna.sok@example.com", false},
		{"email, other case", "VANNA.SOK@EXAMPLE.COM", false},
		{"local part", "Vanna.Sok", false},
		{"email plus a suffix is fine", "vanna.sok@example.com!", true},
		{"invalid UTF-8", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := account.ValidatePassword("password", tc.password, email)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidatePassword(%d chars) = %v, want ok=%v", utf8.RuneCountInString(tc.password), err, tc.ok)
			}
			if err != nil {
				if v, ok := validate.As(err); !ok || v.Field != "password" || v.Message == "" {
					t.Errorf("error %v does not name the field", err)
				}
			}
		})
	}
}

// The embedded list is well-formed: lower-case, at least the minimum length
// (shorter ones fail the length rule anyway), sorted, no duplicates, a few
// hundred entries including the ones the issue names.
func TestCommonPasswordList(t *testing.T) {
	var prev string
	n := 0
	for _, line := range strings.Split(account.CommonPasswordsTxt, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if line != strings.ToLower(strings.TrimSpace(line)) || utf8.RuneCountInString(line) < account.MinPasswordLen {
			t.Errorf("entry %q is not lower-case, trimmed and long enough", line)
		}
		if line <= prev {
			t.Errorf("entry %q is out of order or repeated after %q", line, prev)
		}
		prev = line
	}
	set := account.ParseCommon(account.CommonPasswordsTxt)
	if n < 200 || len(set) != n {
		t.Errorf("%d entries, %d in the set; want a few hundred", n, len(set))
	}
	for _, p := range []string{"password", "12345678", "qwertyuiop", "iloveyou", "password123", "parley123"} {
		if _, ok := set[p]; !ok {
			t.Errorf("%q missing from the list", p)
		}
	}
}

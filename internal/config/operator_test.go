package config

import (
	"io"
	"strings"
	"testing"
)

// The operator's name and address appear on public pages (promise P-32):
// they are trimmed, and an address that is not a plain e-mail address, or
// a name that would break a line, is refused at start.
func TestOperator(t *testing.T) {
	tests := []struct {
		name, opName, email string
		want                Operator
		wantErr             string
	}{
		{name: "unset", want: Operator{}},
		{name: "set", opName: "  Acme Ltd ", email: "privacy@acme.example", want: Operator{Name: "Acme Ltd", Email: "privacy@acme.example"}},
		{name: "display-name address", email: "Acme <privacy@acme.example>", wantErr: "PARLEY_OPERATOR_EMAIL"},
		{name: "not an address", email: "acme", wantErr: "PARLEY_OPERATOR_EMAIL"},
		{name: "two lines", opName: "Acme\nEvil", wantErr: "PARLEY_OPERATOR_NAME"},
		{name: "too long", opName: strings.Repeat("a", 201), wantErr: "PARLEY_OPERATOR_NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PARLEY_OPERATOR_NAME": tt.opName, "PARLEY_OPERATOR_EMAIL": tt.email}
			c, err := Load(nil, func(k string) string { return env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Operator != tt.want {
				t.Errorf("operator = %+v, want %+v", c.Operator, tt.want)
			}
		})
	}
}

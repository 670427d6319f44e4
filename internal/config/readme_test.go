package config

import (
	"os"
	"strings"
	"testing"
)

// The README's settings table is the operator's reference, so it must name
// every setting Load understands, each with its real default. A setting
// added to fields() without a README row fails here.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	rows := map[string]string{} // variable → its table row
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `PARLEY_") {
			continue
		}
		name := strings.TrimPrefix(line, "| `")
		name = name[:strings.IndexByte(name, '`')]
		rows[name] = line
	}
	docs := Docs()
	if len(docs) == 0 {
		t.Fatal("config.Docs() is empty")
	}
	for _, d := range docs {
		row, ok := rows[d.Env]
		if !ok {
			t.Errorf("README.md has no settings-table row for %s (add: | `%s` | `%s` | %s |)", d.Env, d.Env, d.Default, d.Help)
			continue
		}
		if d.Default != "" && !strings.Contains(row, "`"+d.Default+"`") {
			t.Errorf("README.md row for %s does not show its default `%s`: %s", d.Env, d.Default, row)
		}
		delete(rows, d.Env)
	}
	for name := range rows {
		t.Errorf("README.md documents %s, which config does not read", name)
	}
}

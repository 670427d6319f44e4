package backup_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/backup"
)

// The tombstone file round-trips, and anything that is not a complete,
// well-formed log is refused rather than half replayed.
func TestTombstoneFile(t *testing.T) {
	hmac := strings.Repeat("ab", 32)
	ts := []backup.Tombstone{
		{Kind: "contact", WorkspaceID: "w1", Subject: hmac, At: at},
		{Kind: "workspace", Subject: hmac, At: at.Add(time.Minute)},
	}
	var buf bytes.Buffer
	if err := backup.WriteTombstones(&buf, ts, at); err != nil {
		t.Fatal(err)
	}
	got, err := backup.ReadTombstones(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ts, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var empty bytes.Buffer
	if err := backup.WriteTombstones(&empty, nil, at); err != nil {
		t.Fatal(err)
	}
	if got, err := backup.ReadTombstones(&empty); err != nil || len(got) != 0 {
		t.Errorf("empty log: %v, %v", got, err)
	}

	entry := func(s string) string {
		return `{"format":"parley-tombstones/1","exported_at":"2026-11-21T09:00:00Z","tombstones":[` + s + `]}`
	}
	bad := map[string]string{
		"not JSON":           "tombstones",
		"other format":       `{"format":"parley-keys/1","tombstones":[]}`,
		"no format":          `{"tombstones":[]}`,
		"unknown field":      `{"format":"parley-tombstones/1","tombstones":[],"extra":1}`,
		"unknown kind":       entry(`{"kind":"user","subject":"` + hmac + `","at":"2026-11-21T09:00:00Z"}`),
		"contact without ws": entry(`{"kind":"contact","subject":"` + hmac + `","at":"2026-11-21T09:00:00Z"}`),
		"short subject":      entry(`{"kind":"workspace","subject":"abcd","at":"2026-11-21T09:00:00Z"}`),
		"upper-case hex":     entry(`{"kind":"workspace","subject":"` + strings.ToUpper(hmac) + `","at":"2026-11-21T09:00:00Z"}`),
		"a raw ID":           entry(`{"kind":"workspace","subject":"019a0000-0000-7000-8000-000000000000019a0000-0000-7000-8000-0000","at":"2026-11-21T09:00:00Z"}`),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			if got, err := backup.ReadTombstones(strings.NewReader(in)); err == nil {
				t.Errorf("accepted: %+v", got)
			}
		})
	}
}

package job

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	const base, max = time.Second, time.Minute
	tests := []struct {
		attempt  int
		min, max time.Duration // bounds over all jitter values
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{3, 2 * time.Second, 4 * time.Second},
		{6, 16 * time.Second, 32 * time.Second},
		{7, 30 * time.Second, time.Minute}, // 64 s capped at 60 s
		{8, 30 * time.Second, time.Minute},
		{100, 30 * time.Second, time.Minute}, // no overflow
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("attempt ", tc.attempt), func(t *testing.T) {
			lo, hi := backoff(tc.attempt, base, max, 0), backoff(tc.attempt, base, max, 0.999999)
			if lo != tc.min {
				t.Errorf("with no jitter: %v, want %v", lo, tc.min)
			}
			if hi > tc.max || hi < tc.max-time.Millisecond {
				t.Errorf("with full jitter: %v, want about %v", hi, tc.max)
			}
			mid := backoff(tc.attempt, base, max, 0.5)
			if mid <= lo || mid >= hi {
				t.Errorf("jitter 0.5 gave %v, outside (%v, %v): jitter has no effect", mid, lo, hi)
			}
		})
	}
	// Below the cap, the floor of each attempt is the ceiling of the one
	// before: delays never shrink from one attempt to the next, whatever
	// the jitter.
	for a := 1; base<<a <= max; a++ {
		if next, prev := backoff(a+1, base, max, 0), backoff(a, base, max, 0.999999); next < prev-time.Millisecond {
			t.Errorf("attempt %d may wait %v but attempt %d only %v", a, prev, a+1, next)
		}
	}
}

func TestBackoffSanitisesSettings(t *testing.T) {
	if d := backoff(1, 0, 0, 0); d <= 0 {
		t.Errorf("zero base gave %v, want a positive delay", d)
	}
	if d := backoff(5, time.Second, time.Millisecond, 0.999999); d > time.Second {
		t.Errorf("max below base gave %v, want at most base", d)
	}
}

func TestCleanError(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		absent   []string
	}{
		{
			name:   "graph token in url",
			in:     `Post "https://graph.facebook.com/v21.0/me/messages?access_token=EAAB123secret&appsecret_proof=abc": dial tcp: timeout`,
			want:   `Post "https://graph.facebook.com/v21.0/me/messages?REDACTED": dial tcp: timeout`,
			absent: []string{"EAAB123secret", "abc"},
		},
		{
			name:   "credentials in url",
			in:     "dial postgres://parley:hunter2@db.internal:5432/parley failed",
			want:   "dial postgres://REDACTED@db.internal:5432/parley failed",
			absent: []string{"hunter2"},
		},
		{
			name:   "bearer token",
			in:     "request with Authorization: Bearer sk-live-abc.def refused",
			want:   "request with Authorization: Bearer REDACTED refused",
			absent: []string{"sk-live"},
		},
		{
			name: "newlines flattened",
			in:   "line one\nline two\tend",
			want: "line one line two end",
		},
		{
			name: "plain message unchanged",
			in:   "messenger: send: window closed (code 10)",
			want: "messenger: send: window closed (code 10)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cleanError(tc.in)
			if got != tc.want {
				t.Errorf("cleanError(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			for _, s := range tc.absent {
				if strings.Contains(got, s) {
					t.Errorf("%q still contains %q", got, s)
				}
			}
		})
	}
	t.Run("truncated on a character boundary", func(t *testing.T) {
		long := strings.Repeat("ក", 400) // 3 bytes each
		got := cleanError(long)
		if len(got) > maxErrorLen || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Errorf("got %d bytes, valid UTF-8 %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-3:])
		}
	})
}

func TestPermanentAndRetryAfter(t *testing.T) {
	base := errors.New("boom")
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	p := Permanent(base)
	var pe *permanentError
	if !errors.As(p, &pe) || !errors.Is(p, base) {
		t.Errorf("Permanent(err) = %v: not recognisable or does not wrap err", p)
	}
	// A Permanent wrapped again by a handler is still permanent.
	if !errors.As(fmt.Errorf("send: %w", p), &pe) {
		t.Error("wrapped Permanent not recognised")
	}
	r := RetryAfter(time.Minute, base)
	var re *retryAfterError
	if !errors.As(fmt.Errorf("x: %w", r), &re) || re.d != time.Minute || !errors.Is(r, base) {
		t.Errorf("RetryAfter = %v", r)
	}
	if RetryAfter(time.Second, nil) == nil {
		t.Error("RetryAfter(d, nil) must still be an error")
	}
}

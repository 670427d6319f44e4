package job

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// backoff is the delay before attempt+1 after attempt failures: base doubled
// per earlier attempt and capped at max, then jittered into [d/2, d] by r in
// [0, 1). Keeping half of d fixed means that, below the cap, the delay
// grows from one attempt to the next whatever the jitter (the floor of
// attempt n+1 is the ceiling of attempt n), while the random half spreads
// out jobs that failed together, so a recovering provider is not hit by all
// of them at once.
func backoff(attempt int, base, max time.Duration, r float64) time.Duration {
	if base <= 0 {
		base = time.Millisecond
	}
	if max < base {
		max = base
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}

// maxErrorLen bounds last_error: enough to diagnose, too short to carry a
// response body full of personal data.
const maxErrorLen = 500

var (
	// userinfoRE finds credentials in URLs (scheme://user:pass@host).
	userinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@"']+@`)
	// queryRE finds URL query strings, where Graph API tokens
	// (access_token=…) and signed parameters travel; net/http's *url.Error
	// prints the whole URL.
	queryRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^\s?#"']*)\?[^\s#"']*`)
	// bearerRE finds Authorization header values echoed into errors.
	bearerRE = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]+`)
)

// cleanError turns a handler's error message into something safe to store
// and show to an operator: URL credentials, query strings and bearer tokens
// removed, control characters flattened, and cut to maxErrorLen bytes on a
// character boundary.
func cleanError(s string) string {
	s = userinfoRE.ReplaceAllString(s, "${1}REDACTED@")
	s = queryRE.ReplaceAllString(s, "${1}?REDACTED")
	s = bearerRE.ReplaceAllString(s, "${1} REDACTED")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= maxErrorLen {
		return s
	}
	cut := maxErrorLen - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

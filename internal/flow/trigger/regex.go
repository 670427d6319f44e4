package trigger

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// compileRegex compiles one regex keyword, case-insensitive, after
// regexSource, and finds its gate: literals one of which any match must
// contain (nil when there are none to find), so Match can skip it cheaply.
func compileRegex(r Rule, src, field string, opts Options) (*regexp.Regexp, []string, *Problem) {
	fail := func(code, format string, args ...any) (*regexp.Regexp, []string, *Problem) {
		p := problem(r, SeverityError, code, field, format, args...)
		return nil, nil, &p
	}
	if len(src) > opts.MaxPatternBytes {
		return fail(CodeBadRegex, "regular expression “%s” of trigger %q is longer than %d bytes; it is ignored", short(src), r.ID, opts.MaxPatternBytes)
	}
	if strings.TrimSpace(src) == "" {
		return fail(CodeEmptyKeyword, "a regular expression of trigger %q is empty; it is ignored", r.ID)
	}
	expr := "(?i)" + regexSource(src)
	re, err := regexp.Compile(expr)
	if err != nil {
		why := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			why = string(se.Code)
			// Expr is the offending part, or the whole pattern (with our
			// flag), which the message already shows.
			if part := strings.TrimPrefix(se.Expr, "(?i)"); part != "" && part != expr[len("(?i)"):] {
				why += " in “" + short(part) + "”"
			}
		}
		return fail(CodeBadRegex, "regular expression “%s” of trigger %q is invalid: %s; it is ignored", short(src), r.ID, why)
	}
	var gate []string
	if tree, err := syntax.Parse(expr, syntax.Perl); err == nil {
		gate = required(tree.Simplify())
	}
	return re, gate, nil
}

// regexSource brings a pattern's literal text into the form of normalized
// texts without touching its syntax: invisible characters are dropped,
// a character whose NFKC form holds ASCII punctuation ("（" → "(", "…" →
// "...") is replaced by that form escaped, so it stays a literal, and the
// whole is then NFKC-normalized (ASCII, hence all syntax, is unchanged by
// NFKC; decomposed "gia\u0301" becomes "giá"; Thai "ำ" becomes "ํา" as in
// texts). Case is left to the (?i) flag: folding would rewrite syntax
// ("\S" would fold to "\s").
func regexSource(src string) string {
	var b strings.Builder
	for _, r := range src {
		if invisible(r) {
			continue
		}
		if r >= utf8.RuneSelf {
			if img := norm.NFKC.String(string(r)); strings.ContainsFunc(img, isASCIIPunct) {
				b.WriteString(regexp.QuoteMeta(img))
				continue
			}
		}
		b.WriteRune(r)
	}
	return norm.NFKC.String(b.String())
}

func isASCIIPunct(r rune) bool {
	return r < utf8.RuneSelf && unicode.IsPunct(r) || unicode.IsSymbol(r) && r < utf8.RuneSelf
}

// maxGate bounds the literals of one gate: past it, the gate is not worth
// its automaton patterns.
const maxGate = 16

// required returns literals one of which every match of re contains, in
// normalized (lower-case) form, or nil when it cannot tell. Only literals
// that the case-insensitive regexp can match in exactly one normalized way
// qualify: ASCII (lower-cased: normalized text has no upper case, and its
// NFKC has already turned the Kelvin sign and long s, which (?i) would
// also accept, into k and s) and caseless runes (Thai, Khmer, Devanagari,
// Han…).
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			switch {
			case r < utf8.RuneSelf:
				b.WriteRune(unicode.ToLower(r))
			case unicode.SimpleFold(r) == r:
				b.WriteRune(r)
			default:
				return nil
			}
		}
		if b.Len() == 0 {
			return nil
		}
		return []string{b.String()}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any part's literals are needed; keep the most selective.
		var best []string
		for _, sub := range re.Sub {
			if lits := required(sub); lits != nil && better(lits, best) {
				best = lits
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits := required(sub)
			if lits == nil || len(all)+len(lits) > maxGate {
				return nil
			}
			all = append(all, lits...)
		}
		return all
	}
	return nil
}

// better prefers the set whose shortest literal is longer, then the
// smaller set.
func better(a, b []string) bool {
	if b == nil {
		return true
	}
	shortest := func(s []string) int {
		n := len(s[0])
		for _, x := range s[1:] {
			n = min(n, len(x))
		}
		return n
	}
	if sa, sb := shortest(a), shortest(b); sa != sb {
		return sa > sb
	}
	return len(a) < len(b)
}

// Package trigger decides which flow an inbound event starts: the trigger
// matcher of issue 4 (keywords in five modes with exclusion words,
// postback and quick-reply payloads, Get Started, conversation start, m.me
// refs, comments, and the default reply with its cooldown).
//
// It owns the matching rules and nothing else: no database, no net/http,
// no flow documents. It must not import internal/flow (the flow package
// converts its triggers to Rule and its runner converts inbound events to
// Event) nor any store or channel package. Its only dependencies are the
// standard library and golang.org/x/text.
//
// # Use
//
// Compile(rules, Options{}) once per published set of flows; it returns a
// Matcher (immutable, safe for concurrent use), the Problems to show the
// author, and an error only for a call that cannot be honoured at all.
// Match(ev) then returns the one rule that fires, or false.
//
// # Choosing the rule
//
// Among the rules an event fires, the winner is the first by rank: higher
// Priority; at equal priority the more deliberate kind (ref, payload,
// get_started, keyword/comment, conversation_start); then the flow created
// first, i.e. the lower FlowID (flow IDs are UUIDv7, so their order is
// creation order); then the rule given to Compile first. The default rule
// is considered only when nothing else fires. Compile reports as
// conflicts the ties that this order breaks silently between two flows
// (conflict.go says exactly which).
//
// The default reply's per-contact cooldown is decided here from
// Event.LastDefaultAt and Event.Now (the caller's clock); the caller
// stores LastDefaultAt when it sends a default reply. Keeping the decision
// here puts the whole trigger policy in one tested place.
//
// # Unicode
//
// Keywords and texts are both reduced by Normalize: invisible characters
// removed (zero-width space, non-joiner and joiner, word joiner, BOM, soft
// hyphen, variation selectors, emoji skin tones), NFKC, full
// language-neutral case folding (ß = ss), Turkish İ = i, white space
// collapsed.
// So precomposed and decomposed Vietnamese match, fullwidth matches ASCII,
// and a ZWSP typed between Khmer words changes nothing. Turkish dotless ı
// stays distinct from i; Vietnamese without diacritics ("gia") does not
// match Vietnamese with them ("giá"): authors list both spellings.
//
// A match must start and end on a cluster boundary (boundary.go): never
// before a combining mark or vowel sign, never after a Khmer coeng
// (U+17D2), Myanmar stacker or Indic virama that joins the next consonant,
// never after a Thai or Lao vowel written before its consonant, never
// inside a flag. So keyword "ក" matches neither consonant of "ក្ក" (the
// first one's cluster continues with the coeng, the second is its
// subscript), Hindi "क" does not match inside "क्या", Thai "ท่า" does not
// match inside "เท่า", and "a" does not match the "á" of a decomposed
// "gia" + U+0301. A keyword that is a whole cluster stack ("ម្លៃ" in "តម្លៃ")
// does match: boundaries are those of writing, not of words.
//
// whole_word checks word boundaries only in scripts written with spaces
// (Latin, Cyrillic, Greek, Devanagari, Arabic, Hangul, …): the characters
// beside the match must not be letters, digits or marks of such a script,
// and an apostrophe between letters joins a word ("don't", so also
// "İstanbul'a"). Thai, Lao,
// Khmer, Myanmar, Tibetan, Chinese, Japanese and the other scripts
// written without spaces have no boundaries to find without a dictionary,
// so there whole_word and contains are the same substring match (still at
// cluster boundaries). Exclusion words are compared as whole_word.
//
// exact compares the whole normalized message (punctuation counts:
// "price?" is not exactly "price"); begins_with is a literal prefix
// ("price" begins "pricey"; use whole_word to avoid that).
//
// # Regular expressions
//
// regex keywords are RE2 (Go's regexp): matching time is linear in the
// text, so there is no catastrophic backtracking. With the caps — a
// pattern of at most MaxPatternBytes, and at most MaxTextBytes of text
// examined, before and after normalization — each match is bounded in
// time, which is what "time-bounded" means here; no timer is needed.
// Patterns run case-insensitively against the normalized text. Their
// literal text is brought to the same form (regexSource: invisible
// characters dropped, NFKC, a fullwidth "（" kept literal as "\("), but
// not case-folded, which would rewrite syntax ("\S" would become "\s"):
// so write "strasse" rather than "straße", and expect single spaces.
// The empty text never fires a regular expression.
//
// # Speed
//
// Compile builds one Aho–Corasick automaton (automaton.go) over every
// distinct normalized keyword and exclusion word; Match runs it once over
// the text and checks cluster and word boundaries only where a pattern
// occurs, so its cost follows the text and the hits, not the number of
// rules. Regular expressions run afterwards, in rank order, only while one
// could still beat the best keyword hit, and only when a literal they
// cannot match without (their gate, found by the same automaton: "order"
// for `order\s*#?\d+`) occurs in the text. Normalization takes a one-pass
// path (runetable.go) for text that NFKC and folding would leave alone
// but for ASCII case, which is most text in most scripts; a warm Match
// allocates at most the normalized text. BenchmarkMatch1000 measures one
// text against 1,000 rules of mixed modes and scripts; BenchmarkRules and
// BenchmarkTexts give bench/ the same fixture.
//
// Package-level state is limited to two read-only values: the stateless
// case folder and the rune table, computed once on first use.
package trigger

package dataset

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/keyring"
)

// Columns the bulk rows fill, in the order batch appends values.
const (
	contactCols = `id, workspace_id, channel_id, external_id, first_name, last_name, locale, profile_state, profile_fetched_at, created_at, updated_at`
	keyCols     = `workspace_id, contact_id, key_id, wrapped_by, wrapped, created_at`
	tagCols     = `contact_id, tag_id, workspace_id, created_by, created_at`
	convCols    = `id, workspace_id, channel_id, contact_id, status, owner, assignee_id, team_id, last_activity_at, last_inbound_at,
		interaction_count, snoozed_until, agent_last_seen_at, human_at, delivered_upto, read_upto, created_at, updated_at`
	msgCols = `id, workspace_id, channel_id, conversation_id, contact_id, direction, kind, body, sender_type, sender_id,
		external_id, status, messaging_type, platform_at, sent_at, delivered_at, read_at, created_at, updated_at`
)

// history is how far back the contacts go.
const history = 2 * 365 * 24 * time.Hour

// gen makes the bulk rows of one set. Its fields are read only once
// loading starts, so the sealing goroutines share it.
type gen struct {
	set     setupSet
	end     time.Time // the newest activity; contacts are spread over history before it
	wsKeyID uint32
	wsKey   []byte
	tagIDs  []string
	teamIDs []string
	words   words
}

// batch is the rows of a range of contacts, as flat INSERT arguments.
type batch struct {
	contacts, keys, tags, convs, msgs []any
}

// ts formats t as bun writes a TIMESTAMP on SQLite, so that the list's
// comparisons and ordering (text, in SQLite) see what Parley would write.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999-07:00") }

// nullTS is ts, or NULL for the zero time.
func nullTS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// batch makes contacts [lo, hi) and their conversations. Names and texts
// come from a generator seeded by lo, so they are the same in every run;
// IDs and keys are fresh.
func (g *gen) batch(lo, hi int) (*batch, error) {
	r := mrand.New(mrand.NewPCG(uint64(lo), 42))
	s := g.set
	ws := s.WorkspaceID
	b := &batch{}
	n, nc := s.Size.Contacts, s.Size.Conversations
	for j := lo; j < hi; j++ {
		id := uuid.Must(uuid.NewV7()).String()
		created := g.end.Add(-history + time.Duration(float64(history)*float64(j)/float64(n))).Truncate(time.Microsecond)
		ch := s.ChannelIDs[(j/3)%len(s.ChannelIDs)]
		key, keyID, wrapped, err := g.contactKey(id)
		if err != nil {
			return nil, err
		}
		khmer := j%2 == 1
		first, last := g.words.name(r, khmer)
		sf, err := keyring.Seal(key, keyID, []byte(first), keyring.AAD{Workspace: ws, Table: "contacts", Column: "first_name", Row: id})
		if err != nil {
			return nil, err
		}
		sl, err := keyring.Seal(key, keyID, []byte(last), keyring.AAD{Workspace: ws, Table: "contacts", Column: "last_name", Row: id})
		if err != nil {
			return nil, err
		}
		locale := "en_US"
		if khmer {
			locale = "km_KH"
		}
		fetched := created.Add(2 * time.Second)
		b.contacts = append(b.contacts, id, ws, ch, strconv.Itoa(7_000_000_000_000_000+j), sf, sl, locale, "fetched", ts(fetched), ts(created), ts(fetched))
		b.keys = append(b.keys, ws, id, int64(keyID), int64(g.wsKeyID), wrapped, ts(created))
		if r.IntN(20) == 0 { // 5% are tagged
			b.tags = append(b.tags, id, g.tagIDs[r.IntN(len(g.tagIDs))], ws, "system", ts(created))
		}
		// Contact j has a conversation when the conversations, spread evenly
		// over the contacts, step at j.
		if j*nc/n != (j+1)*nc/n {
			if err := g.conversation(r, b, j, id, ch, key, keyID, created, khmer); err != nil {
				return nil, err
			}
		}
		clear(key)
	}
	return b, nil
}

// contactKey makes a contact's random key and wraps it under the
// workspace key as the keyring does (security.md §2.3: associated data
// "contact-dek", workspace, contact, key ID).
func (g *gen) contactKey(contactID string) (key []byte, keyID uint32, wrapped []byte, err error) {
	key = make([]byte, 32)
	rand.Read(key)
	var b [4]byte
	for keyID == 0 {
		rand.Read(b[:])
		keyID = binary.BigEndian.Uint32(b[:])
	}
	wrapped, err = keyring.Seal(g.wsKey, g.wsKeyID, key,
		keyring.AAD{Workspace: g.set.WorkspaceID, Table: "contact-dek", Column: contactID, Row: strconv.FormatUint(uint64(keyID), 10)})
	return key, keyID, wrapped, err
}

// conversation adds contact j's conversation and its one or two messages.
// Recent conversations are mostly open or pending, old ones resolved;
// human-owned ones mostly have an assignee and often a team.
func (g *gen) conversation(r *mrand.Rand, b *batch, j int, contactID, ch string, key []byte, keyID uint32, created time.Time, khmer bool) error {
	s := g.set
	ws := s.WorkspaceID
	id := uuid.Must(uuid.NewV7()).String()
	start := created.Add(time.Minute)
	last := start.Add(time.Duration(r.Float64() * float64(g.end.Sub(start)))).Truncate(time.Microsecond)
	age := g.end.Sub(last)
	var status, owner string
	p := r.IntN(100)
	switch {
	case age < 7*24*time.Hour:
		status = pick(p, []int{40, 30, 10}, "open", "pending", "snoozed", "resolved")
	case age < 60*24*time.Hour:
		status = pick(p, []int{10, 10, 3}, "open", "pending", "snoozed", "resolved")
	default:
		status = pick(p, []int{2, 1, 0}, "open", "pending", "snoozed", "resolved")
	}
	var assignee, team string
	var snoozed, humanAt time.Time
	agent := func() string { return s.AgentIDs[r.IntN(len(s.AgentIDs))] }
	switch status {
	case "open":
		owner = "nobody"
		if r.IntN(10) < 7 {
			owner = "human"
			if r.IntN(4) < 3 {
				assignee = agent()
			}
		}
	case "pending":
		owner = "bot"
		if r.IntN(5) == 0 {
			owner = "ai"
		}
	case "snoozed":
		owner, assignee = "human", agent()
		snoozed = g.end.Add(365 * 24 * time.Hour) // asleep for the life of a cached set
	default:
		owner = pick(r.IntN(100), []int{50, 40}, "bot", "human", "nobody")
		if owner == "human" && r.IntN(10) < 9 {
			assignee = agent()
		}
	}
	if owner == "human" && r.IntN(2) == 0 {
		team = g.teamIDs[r.IntN(len(g.teamIDs))]
	}
	// One inbound message, answered half of the time (by the agent of a
	// human-owned conversation, else by the bot).
	inAt, outAt := last, time.Time{}
	replied := r.IntN(2) == 0
	if replied {
		inAt, outAt = last.Add(-time.Duration(1+r.IntN(3600))*time.Second), last
	}
	if inAt.Before(start) {
		inAt = start
	}
	seen := time.Time{}
	if assignee != "" && (replied || status == "resolved") {
		seen = last
	}
	if owner == "human" && replied {
		humanAt = outAt
	}
	delivered := time.Time{}
	if replied {
		delivered = outAt.Add(time.Second)
	}
	b.convs = append(b.convs, id, ws, ch, contactID, status, owner, nullStr(assignee), nullStr(team), ts(last), ts(inAt),
		1+r.IntN(5), nullTS(snoozed), nullTS(seen), nullTS(humanAt), nullTS(delivered), nil, ts(start), ts(last))
	if err := g.message(b, r, j, 0, id, contactID, ch, key, keyID, "in", "contact", "", inAt, khmer); err != nil {
		return err
	}
	if replied {
		sender, senderID := "flow", ""
		if owner == "human" {
			sender, senderID = "agent", assignee
			if senderID == "" {
				senderID = agent()
			}
		}
		return g.message(b, r, j, 1, id, contactID, ch, key, keyID, "out", sender, senderID, outAt, khmer)
	}
	return nil
}

// message adds one text message, its body sealed as package inbox seals
// it: the JSON of the content under the contact's key, bound to the
// message (associated data workspace, "messages", "body", message ID).
func (g *gen) message(b *batch, r *mrand.Rand, j, n int, convID, contactID, ch string, key []byte, keyID uint32,
	dir, sender, senderID string, at time.Time, khmer bool) error {
	id := uuid.Must(uuid.NewV7()).String()
	texts := g.words.latinTexts
	if khmer {
		texts = g.words.khmerTexts
	}
	body, err := json.Marshal(channel.Content{Text: texts[r.IntN(len(texts))]})
	if err != nil {
		return err
	}
	sealed, err := keyring.Seal(key, keyID, body, keyring.AAD{Workspace: g.set.WorkspaceID, Table: "messages", Column: "body", Row: id})
	if err != nil {
		return err
	}
	ext := fmt.Sprintf("m_bench_%d_%d", j, n)
	if dir == "in" {
		b.msgs = append(b.msgs, id, g.set.WorkspaceID, ch, convID, contactID, dir, "text", sealed, sender, nil,
			ext, "received", "", ts(at), nil, nil, nil, ts(at), ts(at))
		return nil
	}
	b.msgs = append(b.msgs, id, g.set.WorkspaceID, ch, convID, contactID, dir, "text", sealed, sender, nullStr(senderID),
		ext, "delivered", "RESPONSE", nil, ts(at), ts(at.Add(time.Second)), nil, ts(at), ts(at.Add(time.Second)))
	return nil
}

// pick returns the choice whose cumulative share (in percent, the last one
// takes the rest) covers p.
func pick(p int, shares []int, choices ...string) string {
	for i, s := range shares {
		if p < s {
			return choices[i]
		}
		p -= s
	}
	return choices[len(choices)-1]
}

// words are the names and texts rows are made of, romanized Khmer and
// Khmer script, so that they repeat the way real ones do.
type words struct {
	latinSyllables, latinFamily, khmerSyllables, khmerFamily, latinTexts, khmerTexts []string
}

func newWords() words {
	return words{
		latinSyllables: strings.Fields("so kha da ra vi chea bo pha sre y ma li pi sey ke nna ro tha na ly chan the a ny ksa mey sok kim heng lin vann sam ol ouk rith pov leak nita phal"),
		latinFamily:    strings.Fields("Chan Sok Kim Heng Ly Lim Meas Chea Keo Pich Nhem Ouk Sam Seng Touch Yim Prak Mao Phan Roeun Sar Chhay Hun Khieu Long Men Nuon Pen Ros Sin Tep Un Vong"),
		khmerSyllables: strings.Fields("សុ ខា ដា រា វិ ជា បុ ផា ស្រី មា លី ពិ សី កេ ណា ថា នា ចាន់ ធី អា នី ក្សា សុខ គីម ហេង លីន វណ្ណ សំ អុល"),
		khmerFamily:    strings.Fields("ចាន់ សុខ គីម ហេង លី លឹម មាស ជា កែវ ពេជ្រ ញឹម អ៊ុក សំ សេង ទូច យឹម ប្រាក់ ម៉ៅ ផាន រឿន"),
		latinTexts: []string{"Hello, is this still available?", "How much is the delivery to Siem Reap?", "Can I book a table for two tonight?",
			"Thank you!", "What time do you open tomorrow?", "I would like to order the blue one, size M.", "Is there a discount for students?"},
		khmerTexts: []string{"សួស្តី តើនៅមានលក់ទេ?", "តម្លៃប៉ុន្មាន?", "អរគុណច្រើន!", "ខ្ញុំចង់កុម្ម៉ង់មួយ", "ថ្ងៃស្អែកបើកម៉ោងប៉ុន្មាន?"},
	}
}

// name is a made-up first and last name.
func (w *words) name(r *mrand.Rand, khmer bool) (string, string) {
	syl, fam := w.latinSyllables, w.latinFamily
	if khmer {
		syl, fam = w.khmerSyllables, w.khmerFamily
	}
	first := syl[r.IntN(len(syl))] + syl[r.IntN(len(syl))]
	if !khmer {
		first = strings.ToUpper(first[:1]) + first[1:]
	}
	return first, fam[r.IntN(len(fam))]
}

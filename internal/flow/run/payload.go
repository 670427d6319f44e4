package run

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// TapKind is what a tapped payload of the runner's points at.
type TapKind byte

// Tap kinds; the byte is part of the payload format.
const (
	TapQuickReply TapKind = 'q' // a message's quick reply Index
	TapButton     TapKind = 'b' // a message's button Index
	TapCardButton TapKind = 'k' // button Sub of the message's card Index
	TapChoice     TapKind = 'c' // a question's choice Index
)

// Tap is a tapped quick reply, button or choice the runner sent.
type Tap struct {
	// FlowID and Version are the flow version that sent it: the tap
	// continues in that version, whatever was published since.
	FlowID  string
	Version int
	Node    string
	Kind    TapKind
	Index   int
	Sub     int
	// Payload is the author's own payload of the quick reply or button,
	// if it had one.
	Payload string
}

// Payloads encodes and decodes the payloads of the quick replies, buttons
// and choices a run sends, so that a tap continues the right node even on
// an old message, after other flows ran and new versions were published.
//
// The format is "~f1." + MAC + "." + flow + "." + version + "." + node +
// "." + kind and index(es) [+ "." + the author's payload]: well under the
// platforms' 1,000 bytes, as flow and node IDs are short. The MAC
// (HMAC-SHA256 under Key, truncated to 72 bits, over the workspace ID and
// the rest) makes a payload that a person crafted, or one from another
// workspace, decode as nothing: taps cannot jump into arbitrary nodes.
type Payloads struct {
	// Key is the MAC key (the runner derives it from the master key).
	Key []byte
	// Workspace binds the payloads to one workspace.
	Workspace string
}

// payloadPrefix starts every payload the runner makes; the "1" is the
// format's version.
const payloadPrefix = "~f1."

// maxPayload is the platforms' limit on a payload, in bytes.
const maxPayload = 1000

// macLen is the MAC's length in bytes (12 base64 characters).
const macLen = 9

// Encode returns the payload of t.
func (c Payloads) Encode(t Tap) string {
	var b strings.Builder
	b.Grow(64 + len(t.FlowID) + len(t.Node) + len(t.Payload))
	b.WriteString(t.FlowID)
	b.WriteByte('.')
	b.WriteString(strconv.Itoa(t.Version))
	b.WriteByte('.')
	b.WriteString(t.Node)
	b.WriteByte('.')
	b.WriteByte(byte(t.Kind))
	b.WriteString(strconv.Itoa(t.Index))
	if t.Kind == TapCardButton {
		b.WriteByte('-')
		b.WriteString(strconv.Itoa(t.Sub))
	}
	if t.Payload != "" {
		b.WriteByte('.')
		b.WriteString(t.Payload)
	}
	rest := b.String()
	return payloadPrefix + c.mac(rest) + "." + rest
}

// Decode reads a payload Encode made for this workspace.
func (c Payloads) Decode(p string) (Tap, bool) {
	if !strings.HasPrefix(p, payloadPrefix) || len(p) > maxPayload {
		return Tap{}, false
	}
	mac, rest, ok := strings.Cut(p[len(payloadPrefix):], ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(c.mac(rest))) {
		return Tap{}, false
	}
	parts := strings.SplitN(rest, ".", 5)
	if len(parts) < 4 || parts[0] == "" || parts[2] == "" || len(parts[3]) < 2 {
		return Tap{}, false
	}
	v, err := strconv.Atoi(parts[1])
	if err != nil || v < 0 {
		return Tap{}, false
	}
	t := Tap{FlowID: parts[0], Version: v, Node: parts[2], Kind: TapKind(parts[3][0])}
	idx, sub, _ := strings.Cut(parts[3][1:], "-")
	if t.Index, err = strconv.Atoi(idx); err != nil || t.Index < 0 {
		return Tap{}, false
	}
	if t.Kind == TapCardButton {
		if t.Sub, err = strconv.Atoi(sub); err != nil || t.Sub < 0 {
			return Tap{}, false
		}
	}
	if len(parts) == 5 {
		t.Payload = parts[4]
	}
	return t, true
}

// mac is the MAC of a payload's rest, bound to the workspace.
func (c Payloads) mac(rest string) string {
	h := hmac.New(sha256.New, c.Key)
	h.Write([]byte(c.Workspace))
	h.Write([]byte{0})
	h.Write([]byte(rest))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0])[:macLen])
}

// payload is what a quick reply or button of node sends back: the
// runner's payload when a tap must lead somewhere (carrying the author's
// payload, if any, when it fits), else the author's payload as written.
func (m *machine) payload(node string, kind TapKind, index, sub int, author, next string) string {
	if next == "" && kind != TapChoice {
		return author
	}
	t := Tap{FlowID: m.p.FlowID, Version: m.p.Version, Node: node, Kind: kind, Index: index, Sub: sub, Payload: author}
	p := m.env.Payloads.Encode(t)
	if len(p) > maxPayload {
		if author != "" {
			return author // still routed while the session waits at node
		}
		t.Payload = ""
		p = m.env.Payloads.Encode(t)
	}
	return p
}

package flow

import (
	"bytes"
	"encoding/json"
	"errors"
)

// MarshalJSON writes the document in the current format. Parse reads the
// result back to an equal Document. Secret header values are included:
// this is the form the storage layer keeps (after sealing them); Export
// is the form for people.
func (d Document) MarshalJSON() ([]byte, error) {
	nodes := d.Nodes
	if nodes == nil {
		nodes = []Node{}
	}
	return encode(struct {
		Format   int       `json:"format"`
		Name     string    `json:"name,omitempty"`
		Triggers []Trigger `json:"triggers,omitempty"`
		Start    string    `json:"start"`
		Nodes    []Node    `json:"nodes"`
	}{FormatVersion, d.Name, d.Triggers, d.Start, nodes}, "")
}

// MarshalJSON writes the node flat: its id, type, name and position, then
// the members of its body.
func (n Node) MarshalJSON() ([]byte, error) {
	if !n.hasBody() {
		return nil, errors.New("flow: node “" + n.ID + "” has no type")
	}
	head, err := encode(struct {
		ID       string    `json:"id"`
		Type     NodeType  `json:"type"`
		Name     string    `json:"name,omitempty"`
		Position *Position `json:"position,omitempty"`
	}{n.ID, n.Body.Type(), n.Name, n.Position}, "")
	if err != nil {
		return nil, err
	}
	body, err := encode(n.Body, "")
	if err != nil {
		return nil, err
	}
	if len(body) <= 2 { // {}: a body with nothing set
		return head, nil
	}
	out := make([]byte, 0, len(head)+len(body))
	out = append(out, head[:len(head)-1]...)
	out = append(out, ',')
	return append(out, body[1:]...), nil
}

// Export writes the document for people and version control: indented,
// with the values of secret headers left out (Redact) and a final newline.
func (d Document) Export() ([]byte, error) {
	return encode(d.Redact(), "  ")
}

// Redact returns a copy of d whose secret header values are empty. d is
// not changed.
func (d Document) Redact() Document {
	out := d
	out.Nodes = make([]Node, len(d.Nodes))
	copy(out.Nodes, d.Nodes)
	for i, n := range out.Nodes {
		h, ok := n.Body.(*HTTPNode)
		if !ok || h == nil {
			continue
		}
		c := *h
		c.Headers = make([]Header, len(h.Headers))
		copy(c.Headers, h.Headers)
		for j := range c.Headers {
			if c.Headers[j].Secret {
				c.Headers[j].Value = ""
			}
		}
		if h.Headers == nil {
			c.Headers = nil
		}
		out.Nodes[i].Body = &c
	}
	if d.Nodes == nil {
		out.Nodes = nil
	}
	return out
}

// encode marshals v without escaping <, > and & (flows are full of URLs
// and the output is not HTML), indented when indent is set (then with a
// final newline).
func encode(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if indent != "" {
		e.SetIndent("", indent)
	}
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	out := b.Bytes()
	if indent == "" {
		out = bytes.TrimSuffix(out, []byte("\n"))
	}
	return out, nil
}

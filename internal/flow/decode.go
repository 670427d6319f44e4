package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Parse reads a document in any supported format version, strictly: see
// docs/flows.md. It refuses, with a *ParseError naming the node or trigger
// and the field: invalid JSON, a missing or future format version
// (ErrFormat), more than MaxDocumentBytes, MaxNodes or MaxTriggers, texts
// over MaxTextLen characters (ErrTooLarge), unknown members or types,
// members of the wrong kind, and IDs that are not [A-Za-z0-9_-]{1,64}.
//
// Parse checks the shape only; Validate checks the meaning (edges,
// fields, patterns …), so a draft that does not validate yet can still be
// stored.
func Parse(data []byte) (Document, error) {
	if len(data) > MaxDocumentBytes {
		return Document{}, &ParseError{Message: "the document is larger than " + strconv.Itoa(MaxDocumentBytes>>20) + " MiB", Err: ErrTooLarge}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Document{}, syntaxError(data, err)
	}
	if top == nil {
		return Document{}, &ParseError{Message: "expected a flow document: an object {…}"}
	}
	if err := checkFormat(top["format"]); err != nil {
		return Document{}, err
	}
	w, perr := readTop(top)
	if perr != nil {
		return Document{}, perr
	}
	if len(w.Triggers) > MaxTriggers {
		return Document{}, &ParseError{Field: "triggers", Message: "a flow can have at most " + strconv.Itoa(MaxTriggers) + " triggers", Err: ErrTooLarge}
	}
	if len(w.Nodes) > MaxNodes {
		return Document{}, &ParseError{Field: "nodes", Message: "a flow can have at most " + strconv.Itoa(MaxNodes) + " nodes", Err: ErrTooLarge}
	}
	d := Document{Name: w.Name, Start: w.Start}
	for i, raw := range w.Triggers {
		t, err := decodeTrigger(raw)
		if err != nil {
			return Document{}, located(err, "triggers", i)
		}
		d.Triggers = append(d.Triggers, t)
	}
	for i, raw := range w.Nodes {
		n, err := decodeNode(raw)
		if err != nil {
			return Document{}, located(err, "nodes", i)
		}
		d.Nodes = append(d.Nodes, n)
	}
	return d, nil
}

// docWire is the document's top level as Parse reads it, before its
// triggers and nodes are decoded.
type docWire struct {
	Name     string
	Start    string
	Triggers []json.RawMessage
	Nodes    []json.RawMessage
}

// topKeys lists the members of a document, in the order they are
// written.
const topKeys = "format, name, triggers, start, nodes"

// readTop checks the members of the document's top level.
func readTop(top map[string]json.RawMessage) (docWire, *ParseError) {
	var w docWire
	names := make([]string, 0, len(top))
	for k := range top {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		raw := top[k]
		var err *ParseError
		switch k {
		case "format":
		case "name":
			err = readString(raw, k, &w.Name)
		case "start":
			err = readString(raw, k, &w.Start)
		case "triggers":
			err = readList(raw, k, &w.Triggers)
		case "nodes":
			err = readList(raw, k, &w.Nodes)
		default:
			err = &ParseError{Field: k, Message: "unknown field; allowed here: " + topKeys}
		}
		if err != nil {
			return docWire{}, err
		}
	}
	return w, nil
}

// readString reads a text member strictly.
func readString(raw json.RawMessage, field string, dst *string) *ParseError {
	if err := checkValue(raw, reflect.TypeFor[string](), field); err != nil {
		return err
	}
	_ = json.Unmarshal(raw, dst) // checked above; null leaves ""
	return nil
}

// readList reads a list member into its raw elements.
func readList(raw json.RawMessage, field string, dst *[]json.RawMessage) *ParseError {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil
	}
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, dst) != nil {
		return &ParseError{Field: field, Message: "expected a list […]"}
	}
	return nil
}

// located places an error of the i-th element of list in the document
// when it could not be tied to an ID.
func located(err *ParseError, list string, i int) *ParseError {
	if err.NodeID == "" && err.TriggerID == "" {
		err.within(list + "[" + strconv.Itoa(i) + "]")
	}
	return err
}

// checkFormat accepts the format versions this package reads.
func checkFormat(raw json.RawMessage) *ParseError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return &ParseError{Field: "format", Message: "missing; this Parley writes format " + strconv.Itoa(FormatVersion) + ` ("format": 1)`, Err: ErrFormat}
	}
	var v int
	if !isNumber(raw) || json.Unmarshal(raw, &v) != nil || v < 1 {
		return &ParseError{Field: "format", Message: "must be a whole number from 1; this Parley writes format " + strconv.Itoa(FormatVersion), Err: ErrFormat}
	}
	if v > FormatVersion {
		return &ParseError{Field: "format", Message: "this flow uses format " + strconv.Itoa(v) +
			", written by a newer Parley; this Parley reads formats up to " + strconv.Itoa(FormatVersion) + ". Upgrade Parley to import it.", Err: ErrFormat}
	}
	return nil
}

// syntaxError turns a JSON decoding error into a ParseError with a line
// and column.
func syntaxError(data []byte, err error) *ParseError {
	if len(bytes.TrimSpace(data)) == 0 {
		return &ParseError{Message: "the document is empty"}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the byte at fault: point at it, not after it.
		line, col := lineCol(data, se.Offset-1)
		msg := strings.TrimPrefix(se.Error(), "json: ")
		return &ParseError{Message: "not valid JSON at line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ": " + msg}
	}
	return &ParseError{Message: "expected a flow document: an object {…}"}
}

// lineCol converts the byte offset of a byte to its 1-based line and
// column (in bytes).
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// header is what every node has besides its body.
type header struct {
	ID       string    `json:"id"`
	Type     NodeType  `json:"type"`
	Name     string    `json:"name"`
	Position *Position `json:"position"`
}

// headerKeys returns the members of header.
func headerKeys() map[string]bool {
	return map[string]bool{"id": true, "type": true, "name": true, "position": true}
}

// decodeNode reads one node strictly.
func decodeNode(raw json.RawMessage) (Node, *ParseError) {
	var obj map[string]json.RawMessage
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return Node{}, &ParseError{Message: "expected a node: an object {…}"}
	}
	id, perr := readID(obj)
	if perr != nil {
		return Node{}, perr
	}
	wrap := func(e *ParseError) *ParseError { e.NodeID = id; return e }
	hf := jsonFields(reflect.TypeFor[header]())
	for _, k := range []string{"type", "name", "position"} {
		if err := checkValue(obj[k], hf[k].Type, k); err != nil {
			return Node{}, wrap(err)
		}
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return Node{}, wrap(&ParseError{Message: "cannot be read: " + err.Error()})
	}
	if h.Type == "" {
		return Node{}, wrap(&ParseError{Field: "type", Message: "missing; use one of " + nodeTypeList()})
	}
	body, ok := newBody(h.Type)
	if !ok {
		return Node{}, wrap(&ParseError{Field: "type", Message: "unknown node type “" + string(h.Type) + "”; use one of " + nodeTypeList()})
	}
	if err := checkObject(obj, reflect.TypeOf(body).Elem(), "", headerKeys()); err != nil {
		if strings.HasPrefix(err.Message, "unknown field") && !strings.Contains(err.Field, ".") && !strings.Contains(err.Field, "[") {
			err.Message = "unknown field for " + string(h.Type) + " nodes; allowed: " + strings.TrimPrefix(err.Message, "unknown field; allowed here: ")
		}
		return Node{}, wrap(err)
	}
	if err := json.Unmarshal(raw, body); err != nil {
		return Node{}, wrap(&ParseError{Message: "cannot be read: " + err.Error()})
	}
	n := Node{ID: h.ID, Name: h.Name, Position: h.Position, Body: body}
	normalize(reflect.ValueOf(&n).Elem())
	return n, nil
}

// readID reads and checks the "id" member of a node or trigger.
func readID(obj map[string]json.RawMessage) (string, *ParseError) {
	raw, ok := obj["id"]
	if !ok {
		return "", &ParseError{Field: "id", Message: "missing; every node and trigger needs an ID"}
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		return "", &ParseError{Field: "id", Message: "expected text in quotes"}
	}
	if !validID(id) {
		return "", &ParseError{Field: "id", Message: "“" + truncate(id, MaxIDLen) + "” is not a valid ID: use 1 to 64 letters, digits, - or _"}
	}
	return id, nil
}

// decodeTrigger reads one trigger strictly.
func decodeTrigger(raw json.RawMessage) (Trigger, *ParseError) {
	var obj map[string]json.RawMessage
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return Trigger{}, &ParseError{Message: "expected a trigger: an object {…}"}
	}
	id, perr := readID(obj)
	if perr != nil {
		return Trigger{}, perr
	}
	if err := checkObject(obj, reflect.TypeFor[Trigger](), "", nil); err != nil {
		err.TriggerID = id
		return Trigger{}, err
	}
	var t Trigger
	if err := json.Unmarshal(raw, (*triggerWire)(&t)); err != nil {
		return Trigger{}, &ParseError{TriggerID: id, Message: "cannot be read: " + err.Error()}
	}
	normalize(reflect.ValueOf(&t).Elem())
	return t, nil
}

// triggerWire is Trigger without its UnmarshalJSON.
type triggerWire Trigger

// UnmarshalJSON reads a trigger as Parse does.
func (t *Trigger) UnmarshalJSON(data []byte) error {
	v, err := decodeTrigger(data)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// UnmarshalJSON reads a node as Parse does.
func (n *Node) UnmarshalJSON(data []byte) error {
	v, err := decodeNode(data)
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// UnmarshalJSON reads a document with Parse.
func (d *Document) UnmarshalJSON(data []byte) error {
	v, err := Parse(data)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// validID reports whether s is a valid node, trigger or flow ID.
func validID(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// nodeTypeList lists the node types for messages.
func nodeTypeList() string {
	var s []string
	for _, t := range NodeTypes() {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

// truncate shortens s to at most n characters for a message.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

package flow

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/channel"
)

// Severity says whether a Problem blocks publishing.
type Severity string

// Severities.
const (
	// SeverityError blocks publishing: the flow would misbehave.
	SeverityError Severity = "error"
	// SeverityWarning is shown to the author but does not block: the flow
	// runs, perhaps not as meant (an unreachable node, a tag no contact
	// has yet).
	SeverityWarning Severity = "warning"
)

// Problem is one thing wrong with a document, in words an author can act
// on.
type Problem struct {
	Severity Severity `json:"severity"`
	// NodeID or TriggerID names the node or trigger at fault, if any.
	NodeID    string `json:"node_id,omitempty"`
	TriggerID string `json:"trigger_id,omitempty"`
	// Field is the JSON path of the member at fault, relative to the node
	// or trigger (or to the document when neither is named).
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// HasErrors reports whether any problem is an error.
func HasErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity == SeverityError })
}

// FieldType is the type of a custom field definition.
type FieldType string

// Custom field types.
const (
	FieldText    FieldType = "text"
	FieldNumber  FieldType = "number"
	FieldDate    FieldType = "date"
	FieldBoolean FieldType = "boolean"
	FieldEmail   FieldType = "email"
	FieldPhone   FieldType = "phone"
	FieldChoice  FieldType = "choice"
)

// Known is what exists in the workspace a document is checked against.
// A nil map means "not known here": references of that kind are not
// checked (an empty, non-nil map means none exist).
type Known struct {
	// Fields are the custom field definitions by key, with their types
	// ("" if the type does not matter). Using an unknown field is an
	// error: fields are typed and must be defined first.
	Fields map[string]FieldType
	// Tags are the existing tags. add_tag creates a tag that does not
	// exist yet, so only remove_tag and tag rules about an unknown tag
	// are reported, as warnings: another flow or a person may add it.
	Tags map[string]bool
	// Flows are the IDs of the workspace's flows (goto_flow targets).
	Flows map[string]bool
	// Teams are the IDs of the workspace's teams.
	Teams map[string]bool
	// Stages are the lead stages set_stage may set.
	Stages map[string]bool
}

// Validate lists the problems of doc against what exists in the
// workspace, errors and warnings mixed, in document order: the document,
// then triggers, then nodes, then the shape of the graph. A document with
// no error-level problem (HasErrors) may be published; Parse's limits are
// checked too, so a Document built in Go gets the same verdict.
func Validate(doc Document, known Known) []Problem {
	v := &validator{doc: doc, known: known, ids: map[string]int{}, triggerIDs: map[string]bool{}, vars: map[string]bool{}}
	v.document()
	for _, t := range doc.Triggers {
		v.trigger(t)
	}
	for i, n := range doc.Nodes {
		v.nodeCommon(i, n)
	}
	for _, n := range doc.Nodes {
		if n.hasBody() {
			v.node(n)
		}
	}
	v.graph()
	return v.problems
}

// validator collects the problems of one document.
type validator struct {
	doc      Document
	known    Known
	problems []Problem
	// ids maps node IDs to the index of their first node.
	ids map[string]int
	// triggerIDs are the trigger IDs seen so far.
	triggerIDs map[string]bool
	// vars are the flow variables some node sets.
	vars map[string]bool
}

// add records a problem.
func (v *validator) add(sev Severity, nodeID, triggerID, field, format string, args ...any) {
	v.problems = append(v.problems, Problem{Severity: sev, NodeID: nodeID, TriggerID: triggerID, Field: field, Message: fmt.Sprintf(format, args...)})
}

// nodeErr and nodeWarn record a problem of node n.
func (v *validator) nodeErr(n Node, field, format string, args ...any) {
	v.add(SeverityError, n.ID, "", field, "Node "+n.label()+" "+format, args...)
}
func (v *validator) nodeWarn(n Node, field, format string, args ...any) {
	v.add(SeverityWarning, n.ID, "", field, "Node "+n.label()+" "+format, args...)
}

// document checks the top level and collects IDs and flow variables.
func (v *validator) document() {
	d := v.doc
	if utf8.RuneCountInString(d.Name) > 200 {
		v.add(SeverityError, "", "", "name", "The flow's name is longer than 200 characters.")
	}
	if len(d.Triggers) > MaxTriggers {
		v.add(SeverityError, "", "", "triggers", "A flow can have at most %d triggers; this one has %d.", MaxTriggers, len(d.Triggers))
	}
	if len(d.Nodes) > MaxNodes {
		v.add(SeverityError, "", "", "nodes", "A flow can have at most %d nodes; this one has %d.", MaxNodes, len(d.Nodes))
	}
	for i, n := range d.Nodes {
		if _, dup := v.ids[n.ID]; !dup {
			v.ids[n.ID] = i
		}
		if !n.hasBody() {
			continue
		}
		switch b := n.Body.(type) {
		case *QuestionNode:
			v.setsVar(b.Var)
		case *HTTPNode:
			for _, m := range b.Map {
				v.setsVar(m.Var)
			}
		}
	}
	switch {
	case len(d.Nodes) == 0:
		v.add(SeverityError, "", "", "nodes", "The flow has no nodes yet.")
	case d.Start == "":
		v.add(SeverityError, "", "", "start", "The flow has no start node: choose the node it begins with.")
	default:
		if _, ok := v.ids[d.Start]; !ok {
			v.add(SeverityError, "", "", "start", "The flow starts at “%s”, which does not exist.", d.Start)
		}
	}
}

// setsVar notes that a node sets a flow variable.
func (v *validator) setsVar(name string) {
	if name != "" {
		v.vars[name] = true
	}
}

// nodeCommon checks what every node has: a valid, unique ID, a body and
// texts within limits.
func (v *validator) nodeCommon(i int, n Node) {
	if !validID(n.ID) {
		v.add(SeverityError, n.ID, "", "id", "Node %d has the ID “%s”; use 1 to 64 letters, digits, - or _.", i+1, truncate(n.ID, MaxIDLen))
	} else if v.ids[n.ID] != i {
		v.add(SeverityError, n.ID, "", "id", "Two nodes have the ID “%s”; IDs must be unique.", n.ID)
	}
	if utf8.RuneCountInString(n.Name) > 100 {
		v.nodeErr(n, "name", "has a name longer than 100 characters.")
	}
	if !n.hasBody() {
		v.nodeErr(n, "type", "has no type.")
		return
	}
	if f := tooLong(reflect.ValueOf(n.Body), ""); f != "" {
		v.nodeErr(n, f, "has a text longer than %d characters.", MaxTextLen)
	}
}

// tooLong returns the path of the first string in v longer than
// MaxTextLen characters, or "".
func tooLong(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return tooLong(v.Elem(), path)
		}
	case reflect.String:
		if utf8.RuneCountInString(v.String()) > MaxTextLen {
			return path
		}
	case reflect.Struct:
		for i := range v.NumField() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			if f := tooLong(v.Field(i), join(path, name)); f != "" {
				return f
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "" // a JSON body: bounded by MaxBodyBytes
		}
		for i := range v.Len() {
			if f := tooLong(v.Index(i), path+"["+strconv.Itoa(i)+"]"); f != "" {
				return f
			}
		}
	}
	return ""
}

// unused lists the JSON members of struct value x that are set although
// its variant does not take them (keys): Parse would refuse the document
// MarshalJSON writes for it.
func unused(x any, keys []string) []string {
	rv := reflect.ValueOf(x)
	var out []string
	for i := range rv.NumField() {
		name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
		if !rv.Field(i).IsZero() && !slices.Contains(keys, name) {
			out = append(out, name)
		}
	}
	return out
}

// knownChannel reports whether s names a channel type. Only Messenger is
// connected today; the others are named now so flows can be written for
// them.
func knownChannel(s string) bool {
	switch s {
	case string(channel.Messenger), "instagram", "whatsapp", "webchat":
		return true
	}
	return false
}

// channelList is knownChannel's list, for messages.
const channelList = "messenger, instagram, whatsapp, webchat"

// listLabels formats a list of labels as “a”, “b” and “c”.
func listLabels(labels []string) string {
	switch len(labels) {
	case 0:
		return ""
	case 1:
		return labels[0]
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " and " + labels[len(labels)-1]
}

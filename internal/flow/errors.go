package flow

import (
	"errors"
	"strings"
)

// Sentinel errors a ParseError may wrap.
var (
	// ErrFormat: the document's format version is missing, invalid or
	// newer than FormatVersion.
	ErrFormat = errors.New("flow: unsupported format version")
	// ErrTooLarge: the document breaks a size limit.
	ErrTooLarge = errors.New("flow: document too large")
)

// ParseError says why Parse refused a document, and where. The API shows
// Message to the author next to the node or trigger it names.
type ParseError struct {
	// NodeID or TriggerID names the node or trigger at fault, when the
	// error is inside one whose ID could be read.
	NodeID    string
	TriggerID string
	// Field is the JSON path of the member at fault: relative to the node
	// or trigger when one is named, else to the document
	// ("nodes[3].type").
	Field string
	// Message is a sentence for the author.
	Message string
	// Err is ErrFormat or ErrTooLarge when it applies.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("flow: ")
	switch {
	case e.NodeID != "":
		b.WriteString("node “" + e.NodeID + "”: ")
	case e.TriggerID != "":
		b.WriteString("trigger “" + e.TriggerID + "”: ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns Err.
func (e *ParseError) Unwrap() error { return e.Err }

// within moves e under a parent path.
func (e *ParseError) within(parent string) *ParseError {
	e.Field = join(parent, e.Field)
	return e
}

// join appends a member to a JSON path.
func join(parent, member string) string {
	switch {
	case parent == "":
		return member
	case member == "":
		return parent
	case strings.HasPrefix(member, "["):
		return parent + member
	}
	return parent + "." + member
}

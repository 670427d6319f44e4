package flow

import (
	"context"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// knownBase is what exists in a workspace that documents refer to, before
// the tag names of one document are matched against it (see with).
type knownBase struct {
	fields map[string]FieldType
	// tags are the existing tags' names, folded (foldTag).
	tags  map[string]bool
	flows map[string]bool
}

// knownBase reads the workspace's live custom fields, its tags and its
// active flows, plus selfID (the flow being checked, which may not be
// stored yet). Teams and lead stages have no definitions yet, so
// references to them are not checked.
func (s *Store) knownBase(ctx context.Context, workspaceID, selfID string) (knownBase, error) {
	b := knownBase{fields: map[string]FieldType{}, tags: map[string]bool{}, flows: map[string]bool{}}
	fields, err := s.contacts.Fields(ctx, workspaceID, false)
	if err != nil {
		return knownBase{}, err
	}
	for _, f := range fields {
		b.fields[f.Key] = FieldType(f.Type)
	}
	tags, err := s.contacts.Tags(ctx, workspaceID)
	if err != nil {
		return knownBase{}, err
	}
	for _, t := range tags {
		b.tags[foldTag(t.Name)] = true
	}
	var ids []string
	if err := s.d.R.NewRaw(`SELECT id FROM flows WHERE workspace_id = ? AND status = ?`, workspaceID, string(StatusActive)).Scan(ctx, &ids); err != nil {
		return knownBase{}, err
	}
	for _, id := range ids {
		b.flows[id] = true
	}
	if selfID != "" {
		b.flows[selfID] = true
	}
	return b, nil
}

// with returns the Known to validate doc against. Validate compares tag
// names exactly, while the workspace's tags ignore letter case ("VIP" is
// "vip"), so every tag name doc uses that matches an existing tag is
// added as written.
func (b knownBase) with(doc Document) Known {
	k := Known{Fields: b.fields, Flows: b.flows, Tags: map[string]bool{}}
	for _, name := range tagNames(doc) {
		if b.tags[foldTag(name)] {
			k.Tags[name] = true
		}
	}
	return k
}

// known reads what exists in the workspace and returns the Known to
// validate doc, the document of flow selfID, against.
func (s *Store) known(ctx context.Context, workspaceID string, doc Document, selfID string) (Known, error) {
	b, err := s.knownBase(ctx, workspaceID, selfID)
	if err != nil {
		return Known{}, err
	}
	return b.with(doc), nil
}

// tagNames lists the tag names doc's conditions and actions use.
func tagNames(doc Document) []string {
	var out []string
	for _, n := range doc.Nodes {
		switch b := n.Body.(type) {
		case *ConditionNode:
			if b == nil {
				continue
			}
			for _, br := range b.Branches {
				for _, r := range br.Rules {
					if r.Subject == SubjectTag {
						out = append(out, r.Key)
					}
				}
			}
		case *ActionNode:
			if b == nil {
				continue
			}
			for _, a := range b.Actions {
				if a.Type == ActionAddTag || a.Type == ActionRemoveTag {
					out = append(out, a.Tag)
				}
			}
		}
	}
	return out
}

// foldTag is the key under which tag names compare: trimmed, NFC and
// case-folded, as the contact package compares them.
func foldTag(name string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(strings.TrimSpace(name))))
}

package flow

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// Documents are stored whole, as the JSON of Document.MarshalJSON sealed
// under the workspace key: they carry the values of secret headers, and
// sealing the whole document needs no second format that knows which
// members are secret. The associated data binds each to its row and
// column, so a draft copied over a version (or into another flow or
// workspace) does not open.

// draftAAD binds a flow's draft to its row.
func draftAAD(workspaceID, flowID string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "flows", Column: "draft", Row: flowID}
}

// versionAAD binds a published version to its row.
func versionAAD(workspaceID, flowID string, version int) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "flow_versions", Column: "document", Row: flowID + "/" + strconv.Itoa(version)}
}

// open opens and parses a sealed document through idb (nil: the
// keyring's own connection).
func (s *Store) open(ctx context.Context, idb bun.IDB, aad keyring.AAD, sealed []byte) (Document, error) {
	var plain []byte
	var err error
	if idb == nil {
		plain, err = s.kr.OpenWorkspace(ctx, aad, sealed)
	} else {
		plain, err = s.kr.OpenWorkspaceTx(ctx, idb, aad, sealed)
	}
	if err != nil {
		return Document{}, fmt.Errorf("open document: %w", err)
	}
	doc, err := Parse(plain)
	clear(plain)
	if err != nil {
		// Stored documents were written by MarshalJSON: this is a bug or
		// a format this build cannot read, never the author's mistake.
		return Document{}, fmt.Errorf("read stored document: %w", err)
	}
	return doc, nil
}

// openDraft opens a row's draft through idb (nil: the keyring's own
// connection).
func (s *Store) openDraft(ctx context.Context, idb bun.IDB, r *flowRow) (Document, error) {
	return s.open(ctx, idb, draftAAD(r.WorkspaceID, r.ID), r.Draft)
}

// keepSecrets returns doc with the empty values of its secret headers
// filled from prev, the draft it replaces: the API and exports never show
// secret values (Document.Redact), so a document that went through them
// comes back with "" where the secret was.
//
// A value is kept only for a header of the same node ID and name (letter
// case ignored) in a node that still calls the same origin (scheme, host
// and port): whoever edits a flow may change where it calls, but then
// must enter the secret again, so nobody can have a stored secret sent to
// a server of their choosing. doc is not changed; nodes that get values
// are copied.
func keepSecrets(doc, prev Document) Document {
	type key struct{ node, header string }
	type secret struct{ origin, value string }
	old := map[key]secret{}
	for _, n := range prev.Nodes {
		h, ok := n.Body.(*HTTPNode)
		if !ok || h == nil {
			continue
		}
		for _, hd := range h.Headers {
			if hd.Secret && hd.Value != "" {
				old[key{n.ID, strings.ToLower(hd.Name)}] = secret{origin(h.URL), hd.Value}
			}
		}
	}
	if len(old) == 0 {
		return doc
	}
	out := doc
	out.Nodes = nil
	for i, n := range doc.Nodes {
		h, ok := n.Body.(*HTTPNode)
		if !ok || h == nil {
			continue
		}
		var c *HTTPNode
		for j, hd := range h.Headers {
			s, found := old[key{n.ID, strings.ToLower(hd.Name)}]
			if !hd.Secret || hd.Value != "" || !found || s.origin == "" || s.origin != origin(h.URL) {
				continue
			}
			if c == nil {
				cp := *h
				cp.Headers = append([]Header(nil), h.Headers...)
				c = &cp
			}
			c.Headers[j].Value = s.value
		}
		if c == nil {
			continue
		}
		if out.Nodes == nil {
			out.Nodes = append([]Node(nil), doc.Nodes...)
		}
		out.Nodes[i].Body = c
	}
	if out.Nodes == nil {
		out.Nodes = doc.Nodes
	}
	return out
}

// origin returns scheme://host[:port] of an http node's URL, lower-cased,
// or "" when it has none.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

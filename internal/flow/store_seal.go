package flow

import (
	"context"
	"fmt"
	"strconv"

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

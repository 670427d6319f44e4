package timeline

import (
	"context"
	"regexp"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// MaxMentions is how many distinct members one note may mention; further
// mentions stay in the text but notify nobody.
const MaxMentions = 50

// mentionRE matches @[Display name](user:<uuid>), the form the composer's
// autocomplete inserts. The display name is only for people reading the
// raw text; the user ID is what counts.
var mentionRE = regexp.MustCompile(`@\[([^\[\]\n]{1,200})\]\(user:([0-9a-fA-F-]{36})\)`)

// ParseMentions returns the distinct user IDs mentioned in text, in order
// of first appearance and in canonical lower-case form, at most
// MaxMentions. It does not check membership.
func ParseMentions(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		id, err := uuid.Parse(m[2])
		if err != nil {
			continue
		}
		s := id.String()
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
		if len(out) == MaxMentions {
			break
		}
	}
	return out
}

// members keeps those of userIDs who are members of the workspace now, in
// the order given. It reads package workspace's members table (read only,
// see doc.go) through idb, the transaction that stores the mentions.
func members(ctx context.Context, idb bun.IDB, workspaceID string, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	found := map[string]bool{}
	err := db.InLists(userIDs, func(list []any) error {
		var ids []string
		args := append([]any{workspaceID}, list...)
		if err := idb.NewRaw(`SELECT user_id FROM members WHERE workspace_id = ? AND user_id IN (`+db.Placeholders(len(list))+`)`,
			args...).Scan(ctx, &ids); err != nil {
			return err
		}
		for _, id := range ids {
			found[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range userIDs {
		if found[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

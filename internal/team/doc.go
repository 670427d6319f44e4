// Package team owns teams, agents' availability and capacity, and the
// round-robin choice of who answers a conversation (issue 5, item 3).
// Migration 00019: tables teams, team_members, team_settings and
// agent_availability, and the index conversations_assignee_load.
//
// # Teams
//
// A team is a named group of a workspace's members (name unique in the
// workspace ignoring letter case: ErrNameTaken, wrapping db.ErrConflict).
// Only owners, admins and agents join teams and take conversations;
// viewers read only (ErrNotAgent). Every change is written to the audit log
// in the transaction that makes it, with IDs and states only, never names
// or descriptions.
//
// Team members and availability rows reference members(workspace_id,
// user_id) with ON DELETE CASCADE: removing someone from the workspace
// removes them from its teams and forgets their availability, with no call
// from package workspace. A member demoted to viewer stays in their teams
// (listed with their current role, so an admin sees and removes them) but
// is never picked, because Pick and Load read the role at the time.
//
// Deleting a team runs Options.TeamDeleted in the same transaction, so the
// package that routes conversations to teams (inbox) can clear its
// references; team cannot import inbox.
//
// conversations.team_id has no foreign key (the table is inbox's), so the
// race between routing a conversation to a team and deleting the team is
// closed by locks: Has, given a transaction on PostgreSQL, holds a
// key-share lock on the team's row until that transaction ends, and
// DeleteTeam's DELETE waits for it before TeamDeleted clears the team's
// conversations. (SQLite has one writer.)
//
// # Lock order (PostgreSQL)
//
// A transaction takes these rows in this order, never the reverse:
//
//  1. the conversation's row (inbox, FOR UPDATE) — inbox only;
//  2. the team's row: FOR KEY SHARE by Has and by Pick (the same lock, so
//     an inbox transaction calling Has then Pick never upgrades it, and two
//     such transactions cannot deadlock); FOR UPDATE by UpdateTeam and
//     AddMember, and the DELETE of DeleteTeam;
//  3. the workspace's team_settings row (FOR UPDATE by Pick).
//
// DeleteTeam takes the team's row and then, in TeamDeleted, the rows of
// the conversations in the team; inbox's SetTeam therefore asks Has only
// about a team the conversation is not already in, so it never holds one
// of those conversations while waiting for the team.
//
// # Availability and presence
//
// Each member chooses a Status: online (the default, also for members who
// never chose), busy or offline. Their dashboard's live connection calls
// Seen, which writes last_seen_at at most every SeenEvery (30 s) — the
// throttle is the row's own last_seen_at, so it holds across tabs and
// replicas. A member is online only when their status is online AND they
// were seen within OnlineWindow (2 min), so a closed laptop stops receiving
// conversations within two minutes without anyone changing a status.
//
// # Capacity and round-robin
//
// A member's open load is the number of conversations assigned to them
// whose status is open or pending. Their capacity is their own
// (SetCapacity) or the workspace's default (Settings.DefaultCapacity,
// initially 10). Pick chooses, among the online members of a team (or of
// the whole workspace) whose load is below capacity, the one picked
// longest ago; a per-workspace pick counter (team_settings.assign_seq)
// orders them, so the rotation is exact even when two picks share a
// timestamp. Pick locks the workspace's settings row, so concurrent picks
// on PostgreSQL take turns and never push anyone past capacity (see Pick).
// Pick only chooses; whether to call it is the inbox's decision, read with
// AutoAssign (the team's flag, or the workspace's Settings.AutoAssign for
// conversations no team takes).
//
// # Tables of others (read only)
//
//   - members: role of the member being added, given a status or picked;
//     team_members and agent_availability hold foreign keys to it.
//   - conversations (package inbox): Pick and Load count, per member, the
//     rows with assignee_id = the member and status IN ('open','pending'),
//     through the index conversations_assignee_load that migration 00019
//     creates for exactly that count. team never writes conversations and
//     must not import inbox (inbox sits above team and calls Pick through
//     its Assigner interface).
//
// # Imports
//
// team sits on contact's line of the dependency rule: it imports db (also
// for FoldKey, the name key), audit, validate, workspace (for Role) and
// golang.org/x/text (NFC). It must not import inbox, net/http or any
// package above it.
package team

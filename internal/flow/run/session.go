package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// session is a conversation's row of flow_sessions.
type session struct {
	State
	// Token grows with every step; jobs carry the token they were made
	// for.
	Token         int64
	Deadline      time.Time
	LastDefaultAt time.Time
	StartedAt     time.Time
}

// How long a waiting session may go without its job before a message
// treats it as ended: a job that failed for good (its attempts used up)
// must not leave the conversation without automatic answers for ever.
const (
	// httpWaitLimit covers every attempt of a request job: its timeout
	// and the backoff before the next.
	httpWaitLimit = httpMaxAttempts * (httpJobTimeout + time.Minute)
	// resumeGrace is how late a delay's resume job may still come
	// (retries with backoff) after the delay's end.
	resumeGrace = time.Hour
)

// abandoned reports whether s waits for a job that should have come long
// ago (see httpWaitLimit and resumeGrace).
func (s session) abandoned(now time.Time) bool {
	return s.Status == StatusWaiting && !s.Deadline.IsZero() && now.After(s.Deadline.Add(resumeGrace))
}

// The statements of the hot path, prepared by Runner.Prepare
// (db.Statements): every inbound message reads its conversation's session
// and, in the same statement, the workspace's flow revision (which says
// whether the compiled triggers in memory are current), and a message that
// moves a session writes it back.
const (
	sqlLoadSession = `SELECT s.flow_id, s.version, s.node_id, s.status, s.vars, s.attempts, s.token, s.deadline,
		s.last_default_at, s.started_at, r.revision
		FROM (SELECT 1 AS one) o
		LEFT JOIN flow_sessions s ON s.conversation_id = ? AND s.workspace_id = ?
		LEFT JOIN flow_revisions r ON r.workspace_id = ?`
	sqlSaveSession = `INSERT INTO flow_sessions (conversation_id, workspace_id, contact_id, flow_id, version, node_id, status, vars,
		attempts, token, deadline, last_default_at, started_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conversation_id) DO UPDATE SET flow_id = excluded.flow_id, version = excluded.version,
		node_id = excluded.node_id, status = excluded.status, vars = excluded.vars, attempts = excluded.attempts,
		token = excluded.token, deadline = excluded.deadline, last_default_at = excluded.last_default_at,
		started_at = excluded.started_at, updated_at = excluded.updated_at`
)

// varsAAD binds sealed flow variables to their workspace and
// conversation.
func varsAAD(ws, conversationID string) keyring.AAD {
	return keyring.AAD{Workspace: ws, Table: "flow_sessions", Column: "vars", Row: conversationID}
}

// loadSession reads the conversation's session through idb, and the
// workspace's flow revision (0 before the first publish); a conversation
// without a session gets an ended one. Vars are opened under the
// contact's key; if the key is gone (the contact was erased a moment ago)
// they are empty.
func (r *Runner) loadSession(ctx context.Context, idb bun.IDB, ws, conversationID, contactID string) (session, int64, error) {
	var (
		flowID, nodeID, status      *string
		version, attempts           *int
		token, rev                  *int64
		vars                        []byte
		deadline, lastDefault, from *time.Time
	)
	err := r.st.Row(ctx, idb, []any{&flowID, &version, &nodeID, &status, &vars, &attempts, &token, &deadline, &lastDefault, &from, &rev},
		sqlLoadSession, conversationID, ws, ws)
	if err != nil {
		return session{}, 0, fmt.Errorf("load session: %w", err)
	}
	var revision int64
	if rev != nil {
		revision = *rev
	}
	if status == nil {
		return session{State: State{Status: StatusEnded}}, revision, nil
	}
	s := session{
		State: State{FlowID: *flowID, Version: *version, Node: *nodeID, Status: Status(*status), Attempts: *attempts},
		Token: *token, Deadline: utc(deadline), LastDefaultAt: utc(lastDefault), StartedAt: utc(from),
	}
	if len(vars) > 0 {
		pt, err := r.opt.Keyring.OpenContactTx(ctx, idb, varsAAD(ws, conversationID), contactID, vars)
		switch {
		case errors.Is(err, keyring.ErrKeyDestroyed):
		case err != nil:
			return session{}, 0, fmt.Errorf("open session variables: %w", err)
		default:
			if err := json.Unmarshal(pt, &s.Vars); err != nil {
				return session{}, 0, fmt.Errorf("decode session variables: %w", err)
			}
		}
	}
	return s, revision, nil
}

// saveSession writes the conversation's session inside tx, sealing its
// variables under the contact's key.
func (r *Runner) saveSession(ctx context.Context, tx bun.Tx, ws, conversationID, contactID string, s session, now time.Time) error {
	var sealed []byte
	if len(s.Vars) > 0 {
		pt, err := json.Marshal(s.Vars)
		if err != nil {
			return fmt.Errorf("encode session variables: %w", err)
		}
		if sealed, err = r.opt.Keyring.SealContactTx(ctx, tx, varsAAD(ws, conversationID), contactID, pt); err != nil {
			return fmt.Errorf("seal session variables: %w", err)
		}
	}
	status := s.Status
	if status == "" || status == StatusRunning {
		status = StatusEnded
	}
	_, err := r.st.Exec(ctx, tx, sqlSaveSession,
		conversationID, ws, contactID, s.FlowID, s.Version, s.Node, string(status), sealed,
		s.Attempts, s.Token, nullTime(s.Deadline), nullTime(s.LastDefaultAt), nullTime(s.StartedAt), now)
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/calllog"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/httpx"
)

// maxCallLogBody caps an upload: calllog.MaxBatch calls of about 1 KiB
// each, which leaves room for long contact names (sent, never kept).
const maxCallLogBody = 512 << 10

// callLogRequest is a phone's upload. Calls are decoded one by one, so
// that one malformed call is reported by its index and the others are
// still recorded.
type callLogRequest struct {
	DeviceID string            `json:"device_id"`
	Calls    []json.RawMessage `json:"calls"`
}

// callJSON is one call as the app sends it. Name is accepted, whatever
// its JSON type, and never read: a phone may send its log as is and rely
// on Parley to discard the names (P-28).
type callJSON struct {
	Number    string          `json:"number"`
	Name      json.RawMessage `json:"name"`
	Direction string          `json:"direction"`
	Type      string          `json:"type"`
	Duration  int             `json:"duration"`
	At        string          `json:"at"`
}

// syncCallLogs records an upload of a phone's call log (promise P-28):
// calls whose number is a lead's phone become activity on that lead, the
// rest are discarded. It answers counts and problems by index only; it
// never logs the body or repeats any of it, in the answer or in errors.
func (a *API) syncCallLogs(w http.ResponseWriter, r *http.Request) error {
	var in callLogRequest
	if err := httpx.DecodeJSON(w, r, &in, maxCallLogBody); err != nil {
		return err
	}
	if in.Calls == nil {
		return httpx.Invalid("calls", "Send the calls as a list (it may be empty).")
	}
	if len(in.Calls) > calllog.MaxBatch {
		return httpx.Invalid("calls", fmt.Sprintf("Send at most %d calls at a time.", calllog.MaxBatch))
	}
	calls := make([]calllog.Call, 0, len(in.Calls))
	index := make([]int, 0, len(in.Calls)) // calls[i] is in.Calls[index[i]]
	var malformed []calllog.Problem
	for i, raw := range in.Calls {
		c, p, ok := decodeCall(i, raw)
		if !ok {
			malformed = append(malformed, p)
			continue
		}
		calls = append(calls, c)
		index = append(index, i)
	}
	s := access.ScopeFrom(r.Context())
	res, err := a.CallLogs.Sync(r.Context(), contact.ByActor(access.Actor(r)), s.Workspace.ID, in.DeviceID, calls)
	if err != nil {
		return callLogError(err)
	}
	for i := range res.Problems {
		res.Problems[i].Index = index[res.Problems[i].Index]
	}
	res.Invalid += len(malformed)
	res.Problems = append(res.Problems, malformed...)
	slices.SortFunc(res.Problems, func(x, y calllog.Problem) int { return x.Index - y.Index })
	return httpx.WriteJSON(w, http.StatusOK, res)
}

// decodeCall reads the call at index i of an upload, or says why it
// cannot, naming the member but never repeating a value or an unknown
// member's name (which could be anything the phone sent).
func decodeCall(i int, raw json.RawMessage) (calllog.Call, calllog.Problem, bool) {
	bad := func(field, msg string) (calllog.Call, calllog.Problem, bool) {
		return calllog.Call{}, calllog.Problem{Index: i, Field: field, Message: msg}, false
	}
	var c callJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			switch typ.Field {
			case "number", "direction", "type", "at":
				return bad(typ.Field, "Give it as a string.")
			case "duration":
				return bad("duration", "Give the duration in whole seconds.")
			}
		}
		return bad("call", "Send each call as an object with number, name, direction, type, duration and at, and nothing else.")
	}
	var at time.Time
	if c.At != "" {
		t, err := time.Parse(time.RFC3339, c.At)
		if err != nil {
			return bad("at", "Give the time in RFC 3339 form, such as 2026-11-21T09:30:00+07:00.")
		}
		at = t
	}
	return calllog.Call{Number: c.Number, Direction: calllog.Direction(c.Direction), Type: calllog.Type(c.Type), Duration: c.Duration, At: at}, calllog.Problem{}, true
}

// callLogError maps what Sync refuses: a bad upload as a whole (too many
// calls, a bad device ID) is a 422 naming the field.
func callLogError(err error) error {
	if errors.Is(err, calllog.ErrInvalid) {
		return access.DomainError(err)
	}
	return httpx.Internal(err)
}

package meta

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// id is a Graph object ID, which Graph writes as a string but some
// endpoints, SDK fixtures and simulators write as a number. Either way it is
// kept as the exact decimal text (a float64 would round 17-digit IDs).
type id string

func (s *id) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = id(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = id(n.String())
	return nil
}

// number is an integer written as a JSON number or a numeric string.
type number int64

func (n *number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(bytes.Trim(b, `"`))
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return err
		}
		v = int64(f)
	}
	*n = number(v)
	return nil
}

// flag is a boolean written as true/false or "true"/"false" (Graph's
// subscribed_apps answers {"success":"true"} in some documents).
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`:
		*f = true
	default:
		*f = false
	}
	return nil
}

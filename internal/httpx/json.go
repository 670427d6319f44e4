package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxJSONBody caps request bodies on JSON endpoints (1 MiB).
const MaxJSONBody = 1 << 20

// DecodeJSON reads a single JSON object from r into dst. It refuses a
// content type other than application/json (415, which also blocks the
// "simple request" CSRF trick), bodies over max bytes (413), unknown fields,
// wrong types and trailing data (400), each with a message naming the
// problem.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, max int64) error {
	if max <= 0 {
		max = MaxJSONBody
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "Send the body as application/json."}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("malformed_json", "The body must hold exactly one JSON object.")
	}
	return nil
}

func jsonError(err error) error {
	var (
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("The body is larger than %d bytes.", tooBig.Limit)}
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("malformed_json", "The body is not valid JSON.")
	case errors.As(err, &typ):
		f := typ.Field
		if f == "" {
			return BadRequest("malformed_json", "The body must be a JSON object.")
		}
		return &Error{Status: http.StatusBadRequest, Code: "wrong_type", Field: f, Message: fmt.Sprintf("Field %q must be a %s.", f, jsonKind(typ.Type.Kind().String()))}
	case errors.Is(err, io.EOF):
		return BadRequest("empty_body", "The body is empty; send a JSON object.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusBadRequest, Code: "unknown_field", Field: f, Message: fmt.Sprintf("Unknown field %q.", f)}
	}
	return BadRequest("malformed_json", "The body is not valid JSON.")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "uint", "uint32", "uint64", "float64":
		return "number"
	case "slice", "array":
		return "list"
	}
	return "object"
}

// WriteJSON writes v with the given status. API responses may carry personal
// data, so they are never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v == nil {
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// errorBody is the one shape every API error takes.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteError writes e as {"error":{"code","message",…}}.
func WriteError(w http.ResponseWriter, r *http.Request, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.RetryAfter))
	}
	WriteJSON(w, e.Status, errorBody{errorDetail{Code: e.Code, Message: e.Message, Field: e.Field, RequestID: RequestID(r.Context())}})
}

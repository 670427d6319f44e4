package metacallback

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/httpx"
)

// Routes are Meta's two callbacks, public (Meta signs them instead):
// POST /meta/data-deletion and POST /meta/deauthorize.
func (s *Service) Routes() []access.Route {
	return []access.Route{
		{Method: "POST", Pattern: "/meta/data-deletion", Policy: access.Public(), Handler: s.dataDeletion},
		{Method: "POST", Pattern: "/meta/deauthorize", Policy: access.Public(), Handler: s.deauthorize},
	}
}

// deletionAnswer is exactly what Meta expects back (meta-platform.md §6.2).
type deletionAnswer struct {
	URL              string `json:"url"`
	ConfirmationCode string `json:"confirmation_code"`
}

// dataDeletion answers Meta's data-deletion callback: it opens a deletion
// request (or finds the open one for the same person) and returns its
// status URL and confirmation code. The answer is the same whether or not
// Parley holds anything about the person (H-2).
func (s *Service) dataDeletion(w http.ResponseWriter, r *http.Request) error {
	signed, err := s.verify(w, r)
	if err != nil {
		return err
	}
	req, err := s.Open(r.Context(), system(httpx.RequestID(r.Context())), signed.UserID, SourceCallback)
	if err != nil {
		return err
	}
	s.opt.Queue.Notify()
	return httpx.WriteJSON(w, http.StatusOK, deletionAnswer{URL: s.StatusURL(req.Code), ConfirmationCode: req.Code})
}

// deauthorize answers Meta's deauthorize callback: the disconnection of the
// person's channels is queued and the answer is an empty object.
func (s *Service) deauthorize(w http.ResponseWriter, r *http.Request) error {
	signed, err := s.verify(w, r)
	if err != nil {
		return err
	}
	if err := s.Deauthorize(r.Context(), signed.UserID); err != nil {
		return err
	}
	s.opt.Queue.Notify()
	return httpx.WriteJSON(w, http.StatusOK, struct{}{})
}

// verify applies the callbacks' gate, in order: rate limit per client
// address (429), body cap (413), a form with exactly one signed_request
// (400), then ParseSignedRequest (400 malformed, 403 bad signature).
// Nothing is stored before it passes. Only refused callbacks count
// against the limit (security.md G-15): a flood of forgeries from one
// address is cut off, Meta's genuine traffic never is by its own volume.
func (s *Service) verify(w http.ResponseWriter, r *http.Request) (Signed, error) {
	key := "meta-callback:" + httpx.ClientIP(r.Context()).String()
	if blocked, retry := s.opt.Limiter.Blocked(key); blocked {
		return Signed{}, &httpx.Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "Too many refused callbacks from this address. Try again later.", RetryAfter: retry}
	}
	signed, err := s.check(w, r)
	if err != nil {
		s.opt.Limiter.Allow(key)
	}
	return signed, err
}

// check reads and verifies the callback's signed_request.
func (s *Service) check(w http.ResponseWriter, r *http.Request) (Signed, error) {
	if r.ContentLength > s.opt.MaxBody {
		return Signed{}, tooLarge()
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBody)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return Signed{}, malformed("Send signed_request as an application/x-www-form-urlencoded form.")
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Signed{}, tooLarge()
		}
		return Signed{}, malformed("The form could not be read.")
	}
	vals := r.PostForm["signed_request"]
	if len(vals) != 1 {
		return Signed{}, malformed("Send exactly one signed_request field.")
	}
	signed, err := ParseSignedRequest(vals[0], s.opt.AppSecret)
	switch {
	case errors.Is(err, ErrSignature):
		return Signed{}, &httpx.Error{Status: http.StatusForbidden, Code: "signature_invalid",
			Message: "The signed_request signature does not verify.", Field: "signed_request"}
	case err != nil:
		return Signed{}, malformed("The signed_request is malformed.")
	}
	return signed, nil
}

func malformed(msg string) error {
	return &httpx.Error{Status: http.StatusBadRequest, Code: "malformed_signed_request", Message: msg, Field: "signed_request"}
}

func tooLarge() error {
	return &httpx.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "The request body is too large."}
}

package webhook

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/meta"
)

// Answers to refused deliveries. None says which check failed beyond what
// the sender already knows, and none echoes the request.
var (
	// errBadSignature is 403 for a missing header too: one answer for every
	// way a signature can be wrong (Meta's samples use 403).
	errBadSignature = httpx.Forbidden("The X-Hub-Signature-256 header is missing or does not match the body.")
	errTooLarge     = &httpx.Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "The body is too large."}
	errUnreadable   = httpx.BadRequest("unreadable_body", "The body could not be read.")
	// errBehind is the answer while processing is more than MaxLag
	// behind: not stored, to be delivered again.
	errBehind = &httpx.Error{Status: http.StatusServiceUnavailable, Code: "overloaded",
		Message: "Parley is behind with processing; the delivery was not stored. Retry it.", RetryAfter: 1}
)

// Reasons a verified delivery was not stored; each is answered 503.
var (
	errNotRunning = errors.New("webhook: intake is not running")
	errOverloaded = errors.New("webhook: intake queue full")
)

// sigLen is len("sha256=") plus 64 hex digits.
const sigLen = len("sha256=") + 64

// receive handles one delivery: refuse what is not authentic before
// anything is stored, store what is, and answer 200 only once it is
// committed.
func (in *Intake) receive(w http.ResponseWriter, r *http.Request) error {
	ip := clientKey(r)
	if blocked, after := in.limiter.Blocked(ip); blocked {
		in.observe(OutcomeRateLimited)
		return httpx.TooManyRequests(after)
	}
	// Checked before the body is read, so a request that cannot succeed
	// costs no more than its headers. A shape check only: verification
	// proper is meta.VerifySignature's.
	sigs := r.Header.Values(SignatureHeader)
	if len(in.secrets) == 0 || len(sigs) != 1 || len(sigs[0]) != sigLen || !strings.HasPrefix(sigs[0], "sha256=") {
		return in.refuse(ip, OutcomeBadSignature, errBadSignature)
	}
	at := in.now()
	raw, err := in.readBody(w, r)
	if errors.Is(err, errTooLarge) {
		// Close the connection after answering rather than let the server
		// read (and discard) the rest of the body first.
		w.Header().Set("Connection", "close")
		return in.refuse(ip, OutcomeTooLarge, errTooLarge)
	}
	if err != nil {
		// The client went away or sent a broken body; not an attack.
		in.observe(OutcomeBadRequest)
		return errUnreadable
	}
	if !meta.VerifySignature(raw, sigs[0], in.secrets...) {
		return in.refuse(ip, OutcomeBadSignature, errBadSignature)
	}
	if in.proc != nil && in.proc.lagging(in.opt.MaxLag) {
		in.observe(OutcomeShed)
		return errBehind
	}
	if err := in.store(raw, at); err != nil {
		in.observe(OutcomeUnavailable)
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Message: "The delivery could not be stored; retry it.", Err: err}
	}
	in.observe(OutcomeAccepted)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}

// refuse counts a bad request against the client's address and answers
// e, or 429 once the address is over its limit.
func (in *Intake) refuse(ip, outcome string, e *httpx.Error) error {
	if ok, after := in.limiter.Allow(ip); !ok {
		in.observe(OutcomeRateLimited)
		return httpx.TooManyRequests(after)
	}
	in.observe(outcome)
	return e
}

// readBody reads the whole body, refusing (errTooLarge) one over MaxBody
// before reading past the limit: at once when Content-Length says so, after
// MaxBody+1 bytes otherwise (chunked).
func (in *Intake) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	max := in.opt.MaxBody
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	body := http.MaxBytesReader(w, r.Body, max)
	if r.ContentLength >= 0 {
		// The server never hands over more than Content-Length bytes, so
		// one exact allocation holds the body.
		raw := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(body, raw); err != nil {
			return nil, readError(err)
		}
		return raw, nil
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, readError(err)
	}
	return raw, nil
}

func readError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	return fmt.Errorf("webhook: read body: %w", err)
}

// store seals raw under a new delivery ID, hands it to the writer and
// waits for the commit. Sealing here, in the request's goroutine, spreads
// the encryption over every core; the writer only writes. raw itself goes
// along to the processor, which then has no need to read it back and
// decrypt it; store's caller must not use it afterwards.
//
// Once queued, the delivery is stored even if the client has gone away
// meanwhile: Meta will redeliver it anyway, and the inbox deduplicates.
func (in *Intake) store(raw []byte, at time.Time) error {
	id := uuid.Must(uuid.NewV7()).String()
	sealed, err := in.opt.Master.SealPlatform(raw, bodyAAD(id))
	if err != nil {
		return fmt.Errorf("webhook: seal delivery: %w", err)
	}
	d := &delivery{id: id, raw: raw, sealed: sealed, at: at, done: make(chan error, 1)}
	if err := in.submit(d); err != nil {
		return err
	}
	return <-d.done
}

// submit queues d for the writer, waiting at most QueueWait for room.
func (in *Intake) submit(d *delivery) error {
	in.mu.RLock()
	defer in.mu.RUnlock()
	if !in.started || in.stopped {
		return errNotRunning
	}
	select {
	case in.queue <- d:
		return nil
	default:
	}
	t := time.NewTimer(in.opt.QueueWait)
	defer t.Stop()
	select {
	case in.queue <- d:
		return nil
	case <-t.C:
		return errOverloaded
	}
}

// clientKey is the address bad requests are counted against: the client IP
// as httpx.RealIP decided it, or the TCP peer when that middleware is not in
// front. An IPv6 client counts by its /64, the block one subscriber gets.
func clientKey(r *http.Request) string {
	a := httpx.ClientIP(r.Context())
	if !a.IsValid() {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		a, _ = netip.ParseAddr(host)
		a = a.Unmap()
	}
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

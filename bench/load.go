package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Poster posts signed webhook deliveries to Parley over a pool of
// keep-alive connections, as Meta's webhook senders do.
type Poster struct {
	url string
	c   *http.Client
}

// newPoster returns a poster for url keeping up to conns connections.
func newPoster(url string, conns int) *Poster {
	tr := &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	// Meta waits 20 s for an answer before it counts a failure.
	return &Poster{url: url, c: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
}

// Outcome is what one delivery got.
type Outcome struct {
	Status int           // HTTP status; 0 when the request failed in transport
	Dur    time.Duration // round trip: from sending the request to reading the whole answer
	Err    error         // transport failure
}

// OK says whether Parley acknowledged the delivery.
func (o Outcome) OK() bool { return o.Status == http.StatusOK }

// Reset says whether the connection was reset or closed under the
// request: the failure a loaded server must never cause.
func (o Outcome) Reset() bool {
	return o.Err != nil && (errors.Is(o.Err, syscall.ECONNRESET) || errors.Is(o.Err, syscall.EPIPE) ||
		errors.Is(o.Err, io.EOF) || errors.Is(o.Err, io.ErrUnexpectedEOF) || errors.Is(o.Err, syscall.ECONNREFUSED))
}

// Post sends one delivery with its X-Hub-Signature-256 header.
func (p *Poster) Post(ctx context.Context, body []byte, signature string) Outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return Outcome{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", signature)
	start := time.Now()
	res, err := p.c.Do(req)
	if err != nil {
		return Outcome{Dur: time.Since(start), Err: err}
	}
	// Drain the body so the connection goes back to the pool.
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return Outcome{Status: res.StatusCode, Dur: time.Since(start)}
}

// Close drops the idle connections.
func (p *Poster) Close() { p.c.CloseIdleConnections() }

// closedLoop runs workers goroutines that each call fire back to back until
// d has passed, and returns how many calls returned true and the time the
// whole run took. Closed loop measures capacity: a new request starts only
// when one finishes.
func closedLoop(ctx context.Context, workers int, d time.Duration, fire func(ctx context.Context, worker int) bool) (ok int64, elapsed time.Duration) {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				if fire(ctx, w) {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return n.Load(), time.Since(start)
}

// openLoop calls fire(i) for i = 0, 1, … at rate calls per second for d,
// each in its own goroutine, whether or not earlier calls have returned:
// the offered load does not bend to the server's speed. At most maxInFlight
// calls run at once; a call due while that many are running is skipped and
// counted, not queued, so the generator's memory stays bounded. It returns
// once every started call has returned.
func openLoop(ctx context.Context, rate float64, d time.Duration, maxInFlight int, fire func(i int)) (fired, skipped int) {
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	n := int(rate * d.Seconds())
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		// Due times come from the start, not from the previous call, so a
		// late wake-up is caught up with and the average rate is exact.
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		select {
		case sem <- struct{}{}:
			fired++
			wg.Go(func() {
				defer func() { <-sem }()
				fire(i)
			})
		default:
			skipped++
		}
	}
	wg.Wait()
	return fired, skipped
}

// forEach calls fn(0) … fn(n-1) from workers goroutines and waits for all.
func forEach(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}

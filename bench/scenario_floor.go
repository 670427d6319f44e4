package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/meta"
)

// The floor scenario measures what the reply scenario's load costs a Go
// service that does nothing but the protocol: it verifies and parses each
// webhook, answers 200, and answers a message with one Send API call (with
// its appsecret_proof); it stores nothing, seals nothing, keeps no state.
// It runs against the same simulator, the same people and the same load as
// the reply scenario (1,000 messages/s, echoes on), so floor_cpu_us_per_message
// is the part of cpu_us_per_message no implementation of these three HTTP
// exchanges on this machine can avoid: the kernel's loopback TCP and Go's
// net/http. It is printed beside the reply figures so a target can be read
// against it.
//
// The service is this very program, started again with floorAddrEnv set
// (see floorMain), so that its CPU is counted apart from the load
// generator's.
const (
	floorAddrEnv   = "BENCH_FLOOR_ADDR"   // where the service listens
	floorGraphEnv  = "BENCH_FLOOR_GRAPH"  // the simulator's Graph URL
	floorSecretEnv = "BENCH_FLOOR_SECRET" // the app secret
	floorPagesEnv  = "BENCH_FLOOR_PAGES"  // page-id=token,… for the Send API
)

// floor runs the floor scenario: the service in its own process, the
// simulator's webhooks pointed at it for the run, the reply load, then the
// webhooks back to Parley.
func (b *bench) floor(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	var pages []string
	for _, id := range b.pages {
		pages = append(pages, id+"="+b.tokens[id])
	}
	cmd := exec.Command(self)
	cmd.Env = childEnv(map[string]string{
		floorAddrEnv: addr, floorGraphEnv: b.simURL, floorSecretEnv: b.secret, floorPagesEnv: strings.Join(pages, ","),
	})
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("floor: start the service: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() { cmd.Process.Kill(); <-exited }()
	if err := waitReady(ctx, "http://"+addr+"/readyz", exited, 30*time.Second); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	b.sim.SetWebhookURL("http://" + addr + "/webhooks/meta")
	defer b.sim.SetWebhookURL(b.parley.URL + "/webhooks/meta")
	poster := newPoster("http://"+addr+"/webhooks/meta", maxInFlight)
	defer poster.Close()

	b.replies.reset()
	cpu0, err := cpuOf(cmd.Process.Pid)
	if err != nil {
		return err
	}
	r := b.loadTo(ctx, poster, "floor", replyRate, replyFor)
	acked := r.acked()
	if !b.replies.waitCount(ctx, acked, drainLimit) {
		return fmt.Errorf("floor: only %d of %d replies arrived", b.replies.count(), acked)
	}
	wctx, cancel := context.WithTimeout(ctx, drainLimit)
	defer cancel()
	if err := b.sim.WaitIdle(wctx); err != nil {
		return fmt.Errorf("floor: simulator still delivering echoes: %w", err)
	}
	cpu1, err := cpuOf(cmd.Process.Pid)
	if err != nil {
		return err
	}
	lat, unmatched := r.latencies(b.people, b.replies)
	b.out.add("floor_cpu_us_per_message", round(float64((cpu1-cpu0).Microseconds())/float64(max(acked, 1)), 1), "us", "")
	b.out.add("floor_reply_e2e_p50_ms", round(ms(percentile(lat, 50)), 2), "ms", "")
	b.out.add("floor_reply_e2e_p99_ms", round(ms(percentile(lat, 99)), 2), "ms", "")
	r.note("floor", unmatched)
	b.replies.reset()
	return nil
}

// floorMain is the floor service; main runs it when floorAddrEnv is set.
func floorMain() error {
	secret := os.Getenv(floorSecretEnv)
	graph := strings.TrimSuffix(os.Getenv(floorGraphEnv), "/")
	tokens := map[string]string{}
	for _, kv := range strings.Split(os.Getenv(floorPagesEnv), ",") {
		if id, tok, ok := strings.Cut(kv, "="); ok {
			tokens[id] = tok
		}
	}
	// As many connections per page as a Send API call takes at 1,000
	// messages/s, like Parley's outbound pool.
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		Proxy: nil, MaxIdleConnsPerHost: maxInFlight, DisableCompression: true,
	}}
	send := func(page, psid string) {
		tok := tokens[page]
		q := url.Values{"access_token": {tok}, "appsecret_proof": {meta.AppSecretProof(secret, tok)}}
		var body struct {
			Recipient struct {
				ID string `json:"id"`
			} `json:"recipient"`
			MessagingType string `json:"messaging_type"`
			Message       struct {
				Text string `json:"text"`
			} `json:"message"`
		}
		body.Recipient.ID, body.MessagingType, body.Message.Text = psid, "RESPONSE", "Thanks! We will get back to you."
		b, _ := json.Marshal(body)
		res, err := client.Post(graph+"/v23.0/me/messages?"+q.Encode(), "application/json", bytes.NewReader(b))
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor: send:", err)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, "floor: send:", res.Status)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /webhooks/meta", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		if !meta.VerifySignature(raw, r.Header.Get("X-Hub-Signature-256"), secret) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		var d struct {
			Entry []struct {
				ID        string `json:"id"`
				Messaging []struct {
					Sender struct {
						ID string `json:"id"`
					} `json:"sender"`
					Message *struct {
						IsEcho bool   `json:"is_echo"`
						Text   string `json:"text"`
					} `json:"message"`
				} `json:"messaging"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
		for _, e := range d.Entry {
			for _, ev := range e.Messaging {
				if ev.Message != nil && !ev.Message.IsEcho {
					go send(e.ID, ev.Sender.ID)
				}
			}
		}
	})
	err := http.ListenAndServe(os.Getenv(floorAddrEnv), mux)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

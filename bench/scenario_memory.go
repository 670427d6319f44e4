package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/testutil/dataset"
)

// Memory scenario settings. It runs after the others, on its own Parley
// process and data: the set of two million contacts and a million
// conversations (testutil/dataset), generated once — minutes; `go test
// -bench InboxList ./internal/inbox/` builds the same cached set — and
// copied for each run. BENCH_NO_DATASET=1 skips it; PARLEY_BENCH_CONTACTS=n
// runs it on a smaller set (n contacts, n/2 conversations), as it does the
// Go benchmarks, for a quick look — its figures are then not the issue's.
const (
	noDatasetEnv  = "BENCH_NO_DATASET"
	sizeEnv       = "PARLEY_BENCH_CONTACTS"
	datasetLimit  = 20 * time.Minute // generating the set when it is not cached
	memoryLimit   = 3 * time.Minute  // copy, start, idle, list calls
	memoryIdleFor = 10 * time.Second
	memoryCalls   = 30 // list calls through the API, after the idle reading
)

// memory measures Parley's resident memory serving the large data set,
// idle (rss_mb_1m_contacts, target ≤ 200 MB), then times conversation
// list calls through the HTTP API on it and reads the memory again.
func (b *bench) memory(ctx context.Context) error {
	if os.Getenv(noDatasetEnv) != "" {
		fmt.Fprintf(os.Stderr, "bench: memory scenario skipped (%s)\n", noDatasetEnv)
		return nil
	}
	gctx, cancel := context.WithTimeout(ctx, datasetLimit)
	defer cancel()
	size := dataset.Full()
	if v := os.Getenv(sizeEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			return fmt.Errorf("memory: %s=%q", sizeEnv, v)
		}
		size = dataset.Size{Contacts: n, Conversations: n / 2}
		fmt.Fprintf(os.Stderr, "bench: memory scenario on %d contacts (%s), not the issue's set\n", n, sizeEnv)
	}
	start := time.Now()
	set, err := dataset.Ensure(gctx, size, func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	})
	if err != nil {
		return fmt.Errorf("memory: data set: %w", err)
	}
	if set.Generated {
		b.out.add("dataset_generate_s", round(set.Took.Seconds(), 0), "s", "")
	}
	fmt.Fprintf(os.Stderr, "bench: data set %s (%d MB) ready in %s\n", set.Dir, set.Bytes()>>20, time.Since(start).Round(time.Second))

	ctx, cancel = context.WithTimeout(ctx, memoryLimit)
	defer cancel()
	dir, err := os.MkdirTemp("", "parley-bench-memory-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	t0 := time.Now()
	if err := set.CopyTo(data); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: data set copied in %s\n", time.Since(t0).Round(time.Millisecond))

	logFile := filepath.Join(dir, "parley.log")
	p, err := startParley(ctx, b.bin, logFile, map[string]string{
		"PARLEY_DATA_DIR":          data,
		"PARLEY_SIMULATOR":         "off",
		"PARLEY_META_APP_ID":       "1000000000001",
		"PARLEY_META_APP_SECRET":   "bench-memory-secret",
		"PARLEY_META_VERIFY_TOKEN": "bench-verify-token",
		// Nothing answers there: no Graph call of this process reaches
		// anything, and none is expected while idle.
		"PARLEY_META_GRAPH_URL":  "http://127.0.0.1:9",
		"PARLEY_META_DIALOG_URL": "http://127.0.0.1:9",
		"PARLEY_LOG_LEVEL":       "warn",
	})
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	defer p.Kill()
	select {
	case <-time.After(memoryIdleFor):
	case <-ctx.Done():
		return ctx.Err()
	}
	rss, err := p.RSS()
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	b.out.add("rss_mb_1m_contacts", round(float64(rss)/(1<<20), 1), "MB", "<=200")

	lat, err := listCalls(ctx, p.URL, set)
	if err != nil {
		fmt.Fprintln(os.Stderr, tail(logFile, 2000))
		return fmt.Errorf("memory: %w", err)
	}
	b.out.add("inbox_list_http_p50_ms", round(ms(lat.Percentile(50)), 2), "ms", "")
	b.out.add("inbox_list_http_p99_ms", round(ms(lat.Percentile(99)), 2), "ms", "")
	if rss, err = p.RSS(); err == nil {
		b.out.add("rss_mb_1m_contacts_after_lists", round(float64(rss)/(1<<20), 1), "MB", "")
	}
	if err := p.Stop(30 * time.Second); err != nil {
		return fmt.Errorf("memory: stop parley: %w", err)
	}
	return nil
}

// listCalls lists the set's conversations through the API as a dashboard
// does, with the set's viewer key: the first page, the next one, and the
// open ones, in turn, memoryCalls times in all.
func listCalls(ctx context.Context, base string, set *dataset.Set) (*Latencies, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	path := base + "/api/v1/workspaces/" + set.WorkspaceID + "/conversations"
	get := func(query url.Values) (string, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", path+"?"+query.Encode(), nil)
		if err != nil {
			return "", 0, err
		}
		req.Header.Set("Authorization", "Bearer "+set.APIKey)
		t0 := time.Now()
		res, err := c.Do(req)
		if err != nil {
			return "", 0, err
		}
		defer res.Body.Close()
		var page struct {
			Conversations []json.RawMessage `json:"conversations"`
			NextBefore    string            `json:"next_before"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		took := time.Since(t0)
		if res.StatusCode != http.StatusOK || err != nil {
			return "", 0, fmt.Errorf("GET conversations?%s: status %d: %v", query.Encode(), res.StatusCode, err)
		}
		if len(page.Conversations) == 0 {
			return "", 0, errors.New("GET conversations: empty page")
		}
		return page.NextBefore, took, nil
	}
	next, _, err := get(url.Values{})
	if err != nil {
		return nil, err
	}
	cases := []url.Values{{}, {"before": {next}}, {"status": {"open"}}}
	lat := &Latencies{}
	for i := range memoryCalls {
		_, took, err := get(cases[i%len(cases)])
		if err != nil {
			return nil, err
		}
		lat.Add(took)
	}
	return lat, nil
}

// RSS is the process's resident memory now (VmRSS).
func (p *Parley) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("parley: read memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parley: parse VmRSS: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("parley: no VmRSS in /proc status")
}

package httpcall_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/flow/httpcall"
	"github.com/parleyhq/parley/internal/flow/run"
	"github.com/parleyhq/parley/internal/httpx"
)

// server is a local HTTP server that counts what reaches it.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// trusting is a Caller that may reach s, as an operator who allow-lists a
// host would let it: the stand-in for a public API in these tests.
func trusting(s *server) *httpcall.Caller {
	return httpcall.New(httpcall.Options{Outbound: httpx.ClientOptions{AllowHosts: []string{s.Listener.Addr().String()}}})
}

// flowThrough runs a one-node http flow whose address is url through c and
// returns the message it ends with and the problems it recorded.
func flowThrough(t *testing.T, c run.Caller, url string, timeout string) (string, []run.Problem) {
	t.Helper()
	doc, err := flow.Parse([]byte(`{"format":1,"name":"h","start":"h","nodes":[
		{"id":"h","type":"http","method":"GET","url":"` + url + `","timeout":"` + timeout + `",
		 "map":[{"path":"status","var":"s"}],"next":"ok","failure_next":"ko"},
		{"id":"ok","type":"message","text":"ok {{flow.var.s}}"},{"id":"ko","type":"message","text":"failure"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := run.Compile("f", 1, doc)
	env := run.Env{Now: time.Now()}
	out := p.Step(run.State{}, run.Input{Kind: run.InputStart}, env)
	req, err := p.Request(out.State, env)
	if err != nil {
		t.Fatal(err)
	}
	out = p.Step(out.State, run.Input{Kind: run.InputHTTP, HTTP: run.Result(c.Call(context.Background(), req))}, env)
	if len(out.Replies) != 1 {
		t.Fatalf("%+v", out)
	}
	return out.Replies[0].Content.Text, out.Problems
}

func TestCall(t *testing.T) {
	var got http.Header
	var body string
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		body = r.Method + " " + r.URL.RequestURI() + " " + string(b)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"shipped"}`)
	})
	c := trusting(s)
	res, err := c.Call(context.Background(), run.CallRequest{
		Method: "POST", URL: s.URL + "/orders?id=7", Body: []byte(`{"a":1}`), Timeout: 5 * time.Second,
		Headers: []flow.Header{{Name: "Authorization", Value: "Bearer t0k3n", Secret: true},
			{Name: "X-aws-ec2-metadata-token-ttl-seconds", Value: "21600"}, {Name: "Metadata-Flavor", Value: "Google"}},
	})
	if err != nil || res.Status != 200 || string(res.Body) != `{"status":"shipped"}` {
		t.Fatalf("%d %s %v", res.Status, res.Body, err)
	}
	if body != `POST /orders?id=7 {"a":1}` || got.Get("Authorization") != "Bearer t0k3n" || got.Get("Content-Type") != "application/json" ||
		got.Get("User-Agent") != "Parley-Flow/1" {
		t.Errorf("server saw %s, %v", body, got)
	}
	// security.md §3.I I-7: metadata headers never leave.
	if got.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != "" || got.Get("Metadata-Flavor") != "" {
		t.Errorf("metadata headers were sent: %v", got)
	}
	if text, problems := flowThrough(t, c, s.URL+"/x", "5s"); text != "ok shipped" || len(problems) != 0 {
		t.Errorf("through a flow: %q %v", text, problems)
	}
}

// security.md §3.I: an http node cannot reach loopback, private, link-local
// or metadata addresses, whatever its address says, nor through a
// redirect; the flow takes its failure branch and the author learns why,
// in words that do not describe the network.
func TestSSRF(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"inside"}`) })
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	strict := httpcall.New(httpcall.Options{})
	for _, target := range []string{
		"http://127.0.0.1:" + port + "/",
		"http://localhost:" + port + "/",
		"http://[::1]:" + port + "/",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1/",
		"http://172.16.0.1/",
		"http://192.168.1.1/",
		"http://100.100.100.200/",
		"http://0.0.0.0:" + port + "/",
		"http://[::ffff:127.0.0.1]:" + port + "/",
	} {
		t.Run(target, func(t *testing.T) {
			_, err := strict.Call(context.Background(), run.CallRequest{Method: "GET", URL: target, Timeout: 5 * time.Second})
			if !errors.Is(err, run.ErrCallBlocked) {
				t.Fatalf("err = %v, want ErrCallBlocked", err)
			}
			text, problems := flowThrough(t, strict, target, "5s")
			if text != "failure" || len(problems) != 1 || !strings.Contains(problems[0].Message, "not allowed") {
				t.Fatalf("%q %+v", text, problems)
			}
			if strings.Contains(problems[0].Message, "169.254") || strings.Contains(problems[0].Message, "127.0.0.1") {
				t.Errorf("the problem names the address: %s", problems[0].Message)
			}
		})
	}
	// Numeric encodings of 127.0.0.1 (security.md I-2) are not addresses to
	// Go's resolver, so they are looked up as names, found nowhere, and never
	// dialled: a failure either way.
	for _, target := range []string{"http://2130706433:" + port + "/", "http://127.1:" + port + "/", "http://0x7f000001:" + port + "/"} {
		if text, _ := flowThrough(t, strict, target, "5s"); text != "failure" {
			t.Errorf("%s: %q", target, text)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times", n)
	}

	// A host the operator trusts redirecting inside: the redirect is the
	// answer, never followed.
	for _, to := range []string{"http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:" + port + "/", "http://10.1.2.3/", "http://[::1]/"} {
		t.Run("redirect to "+to, func(t *testing.T) {
			before := s.hits.Load()
			public := newServer(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) })
			text, problems := flowThrough(t, trusting(public), public.URL+"/go", "5s")
			if text != "failure" || len(problems) != 1 || !strings.Contains(problems[0].Message, "redirect") {
				t.Fatalf("%q %+v", text, problems)
			}
			if s.hits.Load() != before {
				t.Error("the redirect was followed")
			}
		})
	}
}

func TestCallFailures(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there any more
		c := httpcall.New(httpcall.Options{Outbound: httpx.ClientOptions{AllowHosts: []string{addr}}})
		_, err = c.Call(context.Background(), run.CallRequest{Method: "GET", URL: "http://" + addr + "/private/path?token=abc", Timeout: 5 * time.Second})
		if err == nil || errors.Is(err, run.ErrCallBlocked) || strings.Contains(err.Error(), "token=abc") || strings.Contains(err.Error(), "/private/path") {
			t.Fatalf("err = %v", err)
		}
		text, problems := flowThrough(t, c, "http://"+addr+"/", "5s")
		if text != "failure" || len(problems) != 1 || !strings.Contains(problems[0].Message, "could not be reached") {
			t.Fatalf("%q %+v", text, problems)
		}
	})
	t.Run("oversize", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"status":"`+strings.Repeat("x", run.MaxResponseBytes)+`"}`)
		})
		_, err := trusting(s).Call(context.Background(), run.CallRequest{Method: "GET", URL: s.URL, Timeout: 5 * time.Second})
		if !errors.Is(err, run.ErrCallTooLarge) {
			t.Fatalf("err = %v", err)
		}
		text, problems := flowThrough(t, trusting(s), s.URL, "5s")
		if text != "failure" || !strings.Contains(problems[0].Message, "larger than 256 KiB") {
			t.Fatalf("%q %+v", text, problems)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release)
		text, problems := flowThrough(t, trusting(s), s.URL, "200ms")
		if text != "failure" || len(problems) != 1 || !strings.Contains(problems[0].Message, "timeout") {
			t.Fatalf("%q %+v", text, problems)
		}
	})
	t.Run("error status", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) })
		res, err := trusting(s).Call(context.Background(), run.CallRequest{Method: "GET", URL: s.URL, Timeout: 5 * time.Second})
		if err != nil || res.Status != 503 {
			t.Fatalf("%+v %v", res, err)
		}
		text, problems := flowThrough(t, trusting(s), s.URL, "5s")
		if diff := cmp.Diff([]string{"failure", "status 503"}, []string{text, problems[0].Message[strings.Index(problems[0].Message, "status"):][:10]}); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("schemes", func(t *testing.T) {
		for _, u := range []string{"file:///etc/passwd", "gopher://example.com/", "ftp://example.com/"} {
			if _, err := httpcall.New(httpcall.Options{}).Call(context.Background(), run.CallRequest{Method: "GET", URL: u, Timeout: time.Second}); !errors.Is(err, run.ErrCallBlocked) {
				t.Errorf("%s: %v", u, err)
			}
		}
	})
}

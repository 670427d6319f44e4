package messenger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/meta"
)

func TestClassify(t *testing.T) {
	graph := func(status, code, sub int) error {
		return fmt.Errorf("meta: send: %w", &meta.Error{HTTPStatus: status, Code: code, Subcode: sub, Message: "m"})
	}
	tests := []struct {
		name  string
		err   error
		kind  channel.ErrorKind
		retry time.Duration
	}{
		{"190 token", graph(400, 190, 0), channel.ErrTokenInvalid, 0},
		{"190/463 expired", graph(400, 190, 463), channel.ErrTokenInvalid, 0},
		{"102 session", graph(400, 102, 0), channel.ErrTokenInvalid, 0},
		{"463 as code", graph(400, 463, 0), channel.ErrTokenInvalid, 0},
		{"460 as code", graph(400, 460, 0), channel.ErrTokenInvalid, 0},
		{"subcode 460 under another code", graph(400, 100, 460), channel.ErrTokenInvalid, 0},
		{"10/2018278 window", graph(400, 10, 2018278), channel.ErrWindowClosed, 0},
		{"10/1545041 window (2026 docs)", graph(400, 10, 1545041), channel.ErrWindowClosed, 0},
		{"551 unreachable", graph(400, 551, 0), channel.ErrUnreachable, 0},
		{"551/1545041 unreachable", graph(400, 551, 1545041), channel.ErrUnreachable, 0},
		{"4 app rate limit", graph(400, 4, 0), channel.ErrRateLimited, RetryAfterAppRateLimit},
		{"17 user rate limit", graph(400, 17, 0), channel.ErrRateLimited, RetryAfterRateLimit},
		{"32 page rate limit", graph(400, 32, 0), channel.ErrRateLimited, RetryAfterRateLimit},
		{"613", graph(400, 613, 0), channel.ErrRateLimited, RetryAfterRateLimit},
		{"80001", graph(400, 80001, 0), channel.ErrRateLimited, RetryAfterRateLimit},
		{"80006", graph(400, 80006, 0), channel.ErrRateLimited, RetryAfterRateLimit},
		{"1 unknown", graph(400, 1, 0), channel.ErrTransient, 0},
		{"2 unexpected", graph(400, 2, 0), channel.ErrTransient, 0},
		{"1200 temporary", graph(400, 1200, 0), channel.ErrTransient, 0},
		{"http 500 without graph body", graph(500, 0, 0), channel.ErrTransient, 0},
		{"http 503 with code 100", graph(503, 100, 0), channel.ErrTransient, 0},
		{"is_transient", func() error { return &meta.Error{HTTPStatus: 400, Code: 100, Transient: true} }(), channel.ErrTransient, 0},
		{"10 other subcode", graph(400, 10, 2018065), channel.ErrPermission, 0},
		{"10 no subcode", graph(400, 10, 0), channel.ErrPermission, 0},
		{"200", graph(403, 200, 0), channel.ErrPermission, 0},
		{"230", graph(403, 230, 0), channel.ErrPermission, 0},
		{"294", graph(403, 294, 0), channel.ErrPermission, 0},
		{"100 invalid", graph(400, 100, 0), channel.ErrInvalid, 0},
		{"100/2018001 no user", graph(400, 100, 2018001), channel.ErrInvalid, 0},
		{"1545041 under an unexpected code", graph(400, 100, 1545041), channel.ErrInvalid, 0},
		{"unknown code", graph(400, 12345, 0), channel.ErrInvalid, 0},
		{"net error before writing", &meta.NetError{Op: "send", Err: errors.New("connection refused")}, channel.ErrTransient, 0},
		{"net timeout after writing", &meta.NetError{Op: "send", WroteRequest: true, Timeout: true, Err: context.DeadlineExceeded}, channel.ErrUncertain, 0},
		{"net reset after writing, wrapped", fmt.Errorf("x: %w", &meta.NetError{Op: "send", WroteRequest: true, Err: io.ErrUnexpectedEOF}), channel.ErrUncertain, 0},
		{"context cancelled before the network", context.Canceled, channel.ErrTransient, 0},
		{"unreadable answer", errors.New("meta: send: decode response: bad"), channel.ErrUncertain, 0},
		{"send error passes through", &channel.SendError{Kind: channel.ErrWindowClosed, Message: "m"}, channel.ErrWindowClosed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.err)
			if got == nil {
				t.Fatal("Classify returned nil")
			}
			if got.Kind != tt.kind || got.RetryAfter != tt.retry {
				t.Errorf("Classify = %s (retry %v), want %s (retry %v)", got.Kind, got.RetryAfter, tt.kind, tt.retry)
			}
			if got.Message == "" {
				t.Error("Message is empty")
			}
		})
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

func TestClassifyKeepsCodes(t *testing.T) {
	got := Classify(&meta.Error{HTTPStatus: 400, Code: 10, Subcode: 2018278, Message: "This message is sent outside of allowed window."})
	want := channel.SendError{Kind: channel.ErrWindowClosed, Code: 10, Subcode: 2018278, Message: "This message is sent outside of allowed window."}
	if *got != want {
		t.Errorf("Classify = %+v, want %+v", *got, want)
	}
}

package httpx

import (
	"net/http"
	"testing"
)

// The guarded client never goes through a proxy from the environment: the
// proxy would dial the destination on our behalf, past the address check.
func TestOutboundIgnoresProxyEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	c := NewClient(ClientOptions{})
	gt, ok := c.Transport.(*guardedTransport)
	if !ok {
		t.Fatalf("transport is %T", c.Transport)
	}
	base, ok := gt.base.(*http.Transport)
	if !ok {
		t.Fatalf("base transport is %T", gt.base)
	}
	if base.Proxy != nil {
		t.Error("the transport has a proxy function")
	}
	if c.CheckRedirect == nil || c.Jar != nil {
		t.Error("redirect policy missing or a cookie jar set")
	}
}

package apptest

import (
	"bytes"
	"net/http"
)

// DoRaw sends body as it is with its content type (a CSV upload, a
// multipart form), with the client's headers.
func (c *Client) DoRaw(method, path, contentType string, body []byte) *Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range c.Header {
		req.Header[k] = v
	}
	return c.Send(req)
}

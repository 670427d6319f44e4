// Package httpcall makes the requests of flows' http nodes: it implements
// run.Caller over the guarded outbound client of package httpx
// (httpx.NewClient), so every request gets the SSRF rules of
// security.md §3.I — the address actually dialled must be public (no
// loopback, private, link-local or cloud metadata address, whatever the
// host name says or resolves to), only ports 80 and 443, redirects are
// never followed (a 3xx is the answer, and the flow takes its failure
// branch), proxy settings are ignored — plus the node's timeout and a cap
// on the response body (run.MaxResponseBytes). Headers that could steer a
// cloud metadata service are dropped whatever the flow says.
//
// Errors are mapped to run's sentinels (ErrCallBlocked, ErrCallTimeout,
// ErrCallTooLarge) and never carry the request's path or query, which may
// hold personal data or credentials.
//
// httpcall imports run, httpx and the standard library; it is the only
// place where flows meet net/http, which package run must not import.
package httpcall

// Package httpx is Parley's HTTP plumbing, shared by the JSON API, the
// dashboard and the webhooks: the one error type (status, stable code, safe
// message), handlers that return errors, strict JSON decoding, request IDs,
// access logs that never carry bodies or secrets, panic recovery, security
// headers, client addresses behind trusted proxies, and rate limiting.
//
// httpx knows nothing of Parley's domain; it imports only the standard
// library and small utilities.
package httpx

// Package gate lets a test stop the code under test at a chosen point —
// inside a fake's method, say — and hold it there while the test arranges
// what must happen meanwhile (deliveries piling up behind a busy
// processor, an erasure committing under it), then let it go.
package gate

package gate

import "sync"

// Gate holds the next caller of Pass after Hold. The zero value passes
// everyone.
type Gate struct {
	mu      sync.Mutex
	open    chan struct{} // closed by release
	waiting chan struct{} // closed once a Pass waits
}

// Hold makes the next Pass wait until release is called; held is closed
// once it waits. release may be called more than once (defer it).
func (g *Gate) Hold() (held <-chan struct{}, release func()) {
	open, waiting := make(chan struct{}), make(chan struct{})
	g.mu.Lock()
	g.open, g.waiting = open, waiting
	g.mu.Unlock()
	var once sync.Once
	return waiting, func() { once.Do(func() { close(open) }) }
}

// Pass returns at once unless a Hold is armed; then it disarms it and
// waits for its release.
func (g *Gate) Pass() {
	g.mu.Lock()
	open, waiting := g.open, g.waiting
	g.open, g.waiting = nil, nil
	g.mu.Unlock()
	if open != nil {
		close(waiting)
		<-open
	}
}

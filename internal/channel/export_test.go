package channel

import "time"

// AgeRoutes makes every route Store.Route remembers d older, as if that
// much time had passed.
func (s *Store) AgeRoutes(d time.Duration) {
	s.routes.mu.Lock()
	defer s.routes.mu.Unlock()
	for k, e := range s.routes.m {
		e.at = e.at.Add(-d)
		s.routes.m[k] = e
	}
}

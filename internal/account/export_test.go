package account

import "sync/atomic"

// CountCompares makes s count its bcrypt comparisons, so a test can see
// that a login for an unknown e-mail still runs one (security.md §3.F F-3).
func CountCompares(s *Service) *atomic.Int64 {
	var n atomic.Int64
	next := s.compare
	s.compare = func(hash, password []byte) error {
		n.Add(1)
		return next(hash, password)
	}
	return &n
}

// ParseCommon exposes the common-password list parser to tests.
var ParseCommon = parseCommon

// CommonPasswordsTxt is the embedded list.
var CommonPasswordsTxt = commonPasswordsTxt

package segment

// SetScanLimit lowers how many candidates one Members call opens values
// for, so tests can see the budget without thousands of contacts.
func SetScanLimit(s *Store, n int) { s.maxScan = n }

package calllog

// CallKey exposes the deduplication key to the tests, which look for it
// in the database (it must be there for matched calls only).
func (s *Syncer) CallKey(workspaceID, e164 string, c Call) []byte {
	return s.callKey(workspaceID, e164, c)
}

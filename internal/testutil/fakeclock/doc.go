// Package fakeclock is the settable clock tests inject where code takes a
// `now func() time.Time`: one type instead of a copy per package.
package fakeclock

// Package apptest boots a whole Parley — every service, the real HTTP
// handler with its middleware, on a real loopback server — over a database
// from dbtest, with a clock the test controls, and gives tests a cookie-
// keeping JSON client.
package apptest

// Package validate holds the one validation error type that domain packages
// return for bad input, and the checks several of them share (e-mail
// addresses, names). The HTTP layers turn an *Error into a 422 naming the
// field.
//
// validate imports only the standard library.
package validate

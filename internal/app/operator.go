package app

import "github.com/parleyhq/parley/internal/operator"

// operatorConsole builds the operator console's service (promise P-06)
// and lets platform administrators act as a user through their own
// session: the guard asks it on each of their requests.
func (a *App) operatorConsole() {
	a.Operator = operator.New(a.DB, operator.Options{Now: a.Now, Log: a.Log, Users: a.Accounts})
	a.Guard.Impersonation = a.Operator
}

// Command parley serves Parley: the dashboard, the API and the webhooks, on
// SQLite in ./data by default. Run `parley help` for the settings.
package main

// Command parley serves Parley: the dashboard, the API and the webhooks, on
// SQLite in ./data by default. Run `parley help` for the settings.
//
// The binary carries the IANA time zone database (time/tzdata), so the
// workspaces' time zones need nothing from the host; a zone database the
// host has (/usr/share/zoneinfo, or $ZONEINFO) is used first when present.
package main

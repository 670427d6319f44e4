// Package web is the dashboard: server-rendered html/template pages for
// signing up and in, workspaces and their settings (team, API keys, custom
// fields, tags), the account's security, invitations, channels (connecting
// Facebook Pages by Facebook Login, by a pasted token or, with the
// built-in simulator, a test page; their health and settings), the shared
// inbox (conversations.go: the list with its filters in the address and
// keyset "Load more"; conversation_page.go and inbox_timeline.go: the
// timeline of messages, changes and private notes; conversation_actions.go:
// take over, return to bot, assign, team, snooze, resolve, notes, canned
// responses, typing; static/inbox.js: keyboard shortcuts and the reply
// box's suggestions) with a contact panel (field values, tags, lead stage,
// subscription; its forms swap the panel alone through htmx), flows (the list, creating, importing and archiving them, and the
// visual editor), and friendly error pages. Templates and static assets are
// embedded, so the binary serves everything itself (no third-party
// requests, promise P-38); htmx 2 (vendored under static/vendor) boosts
// links and forms and polls the open thread, and every page also works with
// plain form posts.
//
// The Content-Security-Policy allows only Parley's own scripts and
// stylesheets, so templates hold no inline script, no style attribute and
// no style block: behaviour lives in static/app.js, looks in static/app.css.
//
// Rich screens are islands: TypeScript bundles built by Vite from
// islands/ (`make islands`) into static/islands/build/, which is embedded
// but not committed; without it the committed placeholder in
// static/islands/placeholder/ is served instead (islands.go), so the
// binary builds without Node. The flow editor island gets its IDs from
// data-* attributes and works through the JSON API with the session
// cookie, so flows have one set of rules (package flow and the API).
//
// The dashboard owns no rules of its own: every decision is the services'
// (account, workspace, channel/connect, inbox) or the access layer's (who
// may call what, rate limits, sign-in flows). Each route declares its
// access.Policy in Routes(); the route-table test fails on one that does
// not. The built-in simulator is reached through the small Simulator
// interface, which the app fills in when PARLEY_SIMULATOR is on.
//
// web imports access, account, workspace, audit, channel, channel/connect,
// contact, flow, inbox, realtime (to serve the live-update stream),
// segment and csvio (the contact list's filters and the import wizard),
// activity and pipeline (a contact's profile with its activity log and
// notes, contacts.go; pipelines, their boards and stage settings,
// pipelines.go and pipeline_settings.go; a board's cards move by drag and
// drop in static/app.js or by each card's "Move to" form),
// team (Settings → Teams, the availability switch in the menu, and the
// presence beat of the live stream: teams.go, events.go), search (the
// search box and page, and the merge picker: search.go, merge.go), httpx,
// validate and db; it must not import api or app.
package web

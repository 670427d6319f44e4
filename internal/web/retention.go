package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/retention"
)

// The Data retention settings page (promise P-35): every member sees how
// long each class of data is kept, its default and the allowed range;
// owners and admins change the periods and place or lift the workspace's
// legal hold. Contact holds are placed through the JSON API and listed
// here for admins.

// retentionView is the page's data.
type retentionView struct {
	Rows []retentionRow
	// Hold is the workspace's legal hold (nil: none); Holds every hold,
	// for admins only.
	Hold         *retention.Hold
	ContactHolds []retention.Hold
	// HoldField is the reason field of the hold form.
	HoldField inputField
}

// retentionRow is one class with its input.
type retentionRow struct {
	retention.Setting
	// Name is the form field; Value what it holds; Error the message
	// when the value was refused.
	Name, Value, Error string
	// Now says the current period in words, DefaultText the default,
	// Allowed the range.
	Now, DefaultText, Allowed string
}

func retentionPath(wsID string) string { return "/w/" + wsID + "/settings/retention" }

// period says a number of days in words.
func period(days int) string {
	switch {
	case days == retention.Lifetime:
		return "for the workspace's lifetime"
	case days == 1:
		return "1 day"
	case days%365 == 0:
		if days == 365 {
			return "1 year (365 days)"
		}
		return fmt.Sprintf("%d years (%d days)", days/365, days)
	}
	return fmt.Sprintf("%d days", days)
}

// allowed says a class's range in words.
func allowed(l retention.Limit) string {
	switch {
	case l.LifetimeAllowed && l.Max == 0:
		return fmt.Sprintf("At least %s, or for the workspace's lifetime (leave empty).", period(l.Min))
	case l.Min == l.Max:
		return "Exactly " + period(l.Min) + "."
	}
	return fmt.Sprintf("From %s to %s.", period(l.Min), period(l.Max))
}

// retentionPage builds the page; f is a form that came back with errors
// (nil otherwise).
func (d *Dashboard) retentionPage(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Data retention")
	if err != nil {
		return nil, err
	}
	p.Nav = "retention"
	returned := f != nil
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	set, err := d.Retention.Settings(r.Context(), p.WS.ID)
	if err != nil {
		return nil, err
	}
	v := &retentionView{Hold: set.Hold}
	for _, c := range set.Classes {
		row := retentionRow{Setting: c, Name: "days_" + string(c.Class), Now: period(c.Days), DefaultText: period(c.Default), Allowed: allowed(c.Limit)}
		if returned {
			row.Value, row.Error = f.Get(row.Name), f.Err(row.Name)
		} else if c.Days != retention.Lifetime {
			row.Value = strconv.Itoa(c.Days)
		}
		v.Rows = append(v.Rows, row)
	}
	if p.Can("admin") {
		holds, err := d.Retention.Holds(r.Context(), p.WS.ID)
		if err != nil {
			return nil, err
		}
		for _, h := range holds {
			if h.ContactID != "" {
				v.ContactHolds = append(v.ContactHolds, h)
			}
		}
	}
	reason := ""
	if set.Hold != nil {
		reason = set.Hold.Reason
	}
	v.HoldField = fieldFrom(inputField{ID: "hold-reason", Name: "reason", Label: "Reason", Required: true, MaxLength: retention.MaxReasonRunes,
		Placeholder: "For example: case 2026-114",
		Hint:        "A case or ticket number. Admins see it here; it is not written to the audit log."}, f, returned, reason)
	p.Data = v
	return p, nil
}

func (d *Dashboard) retentionSettings(w http.ResponseWriter, r *http.Request) error {
	p, err := d.retentionPage(r, nil)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = "Saved. The next hourly run deletes what is older than the new periods."
	case "held":
		p.Notice = "The workspace is on legal hold: nothing of it is deleted until the hold is lifted."
	case "released":
		p.Notice = "Legal hold lifted. The next run deletes what is older than the periods."
	}
	return d.render(w, http.StatusOK, "retention", p)
}

// saveRetention saves the periods form. An empty field of a class that may
// be kept for the workspace's lifetime means exactly that; any refused
// value shows next to its field and nothing changes.
func (d *Dashboard) saveRetention(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return httpx.BadRequest("bad_form", "The form could not be read.")
	}
	var names []string
	days := map[retention.Class]int{}
	f := &form{Values: r.PostForm, Errors: map[string]string{}}
	for _, l := range retention.Limits() {
		name := "days_" + string(l.Class)
		if !r.PostForm.Has(name) {
			continue
		}
		names = append(names, name)
		s := strings.TrimSpace(r.PostForm.Get(name))
		if s == "" && l.LifetimeAllowed {
			days[l.Class] = retention.Lifetime
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			f.Errors[name] = "Enter a whole number of days. " + allowed(l)
			continue
		}
		days[l.Class] = n
	}
	if len(f.Errors) == 0 {
		_, err := d.Retention.Set(r.Context(), access.Actor(r), access.ScopeFrom(r.Context()).Workspace.ID, days)
		var inv *retention.InvalidError
		switch {
		case errors.As(err, &inv):
			l, _ := retention.LimitOf(retention.Class(inv.Field))
			f.Errors["days_"+inv.Field] = "Not allowed. " + allowed(l)
		case err != nil:
			return err
		default:
			return redirect(w, r, retentionPath(access.ScopeFrom(r.Context()).Workspace.ID)+"?done=saved")
		}
	}
	f.Error = "Nothing was saved: correct the period marked below."
	p, err := d.retentionPage(r, f)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusUnprocessableEntity, "retention", p)
}

// placeRetentionHold puts the workspace on legal hold (or changes the reason).
func (d *Dashboard) placeRetentionHold(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	_, err := d.Retention.PlaceHold(r.Context(), access.Actor(r), ws, "", r.PostFormValue("reason"))
	var inv *retention.InvalidError
	if errors.As(err, &inv) {
		f := newForm(r, "reason")
		f.Errors["reason"] = inv.Message
		p, perr := d.retentionPage(r, f)
		if perr != nil {
			return perr
		}
		return d.render(w, http.StatusUnprocessableEntity, "retention", p)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, retentionPath(ws)+"?done=held")
}

// releaseRetentionHold lifts the workspace's legal hold; lifting one that is not
// there (a second tab) just shows the page.
func (d *Dashboard) releaseRetentionHold(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	if err := d.Retention.ReleaseHold(r.Context(), access.Actor(r), ws, ""); err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	return redirect(w, r, retentionPath(ws)+"?done=released")
}

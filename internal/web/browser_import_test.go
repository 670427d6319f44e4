package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 5 items 6 and 8 in a real browser, with the strict CSP on and the
// job workers running: an admin imports a CSV file with a malformed row
// through the wizard (the mapping screen suggests each column's target
// and shows sample values), the progress page refreshes itself until the
// import is done and then lists the skipped rows with their reasons; the
// good rows are in the contact list. Then a filter built field →
// operator → value (the operator list follows the field) narrows the
// list and is saved as a segment, which the picker then shows. At phone
// width the list still reads. Screenshots land in testdata/output/.
func TestBrowserImportAndSegments(t *testing.T) {
	s := start(t, dbtest.SQLite(t), apptest.Started())
	c, addr := s.signUp(t, "Chenda")
	ws := c.createWorkspace("Chenda's Crafts")
	s.defineEmail(t, ws)
	file := filepath.Join(t.TempDir(), "shop.csv")
	if err := os.WriteFile(file, []byte(shopCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	// The empty list says what to do.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/contacts"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".empty-state")),
	)
	browser.Screenshot(t, ctx, "contacts-empty")
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#import-button"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#import-file")),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}),
		chromedp.Click(chromedp.CSS(`#upload-form button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#mapping-form")),
	)
	got := browser.Run(t, ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#mapping-form .mapping select")).map(s => s.value).join(" ")`))
	if want := "first_name last_name field:email tag stage"; got != want {
		t.Errorf("the mapping suggests %q, want %q", got, want)
	}
	if samples := text(t, ctx, "#mapping-form .mapping-row"); !strings.Contains(samples, "“Dara”") {
		t.Errorf("the first column shows %q, without its sample values", samples)
	}
	browser.Screenshot(t, ctx, "import-mapping")
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#import-start"), chromedp.NodeVisible),
		// The progress page polls until the import is done.
		chromedp.WaitVisible(chromedp.CSS(`#import-progress[data-state="done"]`)),
	)
	if got := text(t, ctx, "#count-created") + "/" + text(t, ctx, "#count-failed"); got != "3/2" {
		t.Errorf("created/skipped = %s, want 3/2", got)
	}
	skipped := text(t, ctx, ".import-errors")
	for _, want := range []string{"E-mail", "the whole row", "The row has 1 cells; the header has 5."} {
		if !strings.Contains(skipped, want) {
			t.Errorf("the skipped rows table lacks %q:\n%s", want, skipped)
		}
	}
	browser.Screenshot(t, ctx, "import-done")

	// The good rows are contacts.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.import-progress a[href$="/contacts"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".contacts-table")),
	)
	names := text(t, ctx, ".contacts-table tbody")
	for _, n := range []string{"Dara Sok", "Vanna Lim", "Kiri Meas"} {
		if !strings.Contains(names, n) {
			t.Errorf("the list lacks %s:\n%s", n, names)
		}
	}
	if strings.Contains(names, "Sokha") {
		t.Error("the refused row is in the list")
	}
	browser.Screenshot(t, ctx, "contacts")

	// Build a filter: Tag → only "has"/"doesn't have" are offered.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(".filter-builder > summary"), chromedp.NodeVisible),
		choose("#filter-field-0", "tag"),
	)
	ops := browser.Run(t, ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#filter-op-0 option")).filter(o => !o.disabled).map(o => o.value).join(" ")`))
	if ops != "has has_not" {
		t.Errorf("for a tag the operators offered are %q", ops)
	}
	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#filter-value-0"), "VIP", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS("#filter-apply"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#filter-field-1")),
	)
	if got := text(t, ctx, "#contacts-count"); !strings.HasPrefix(got, "2 contacts match this filter") {
		t.Errorf("after filtering the count says %q", got)
	}
	if names := text(t, ctx, ".contacts-table tbody"); strings.Contains(names, "Kiri") || !strings.Contains(names, "Vanna Lim") {
		t.Errorf("the filtered list shows:\n%s", names)
	}
	// An operator without a value hides the value box.
	browser.Do(t, ctx, choose("#filter-field-1", "stage"), choose("#filter-op-1", "is_empty"))
	if hidden := browser.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("filter-value-1").hidden`)); !hidden {
		t.Error("is empty still shows a value box")
	}
	browser.Do(t, ctx, choose("#filter-field-1", ""))
	browser.Screenshot(t, ctx, "contacts-filter")

	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#segment-name"), "VIP customers", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS("#segment-save"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"]`)),
	)
	if got := text(t, ctx, "#contacts-count"); !strings.HasPrefix(got, "2 contacts in “VIP customers”") {
		t.Errorf("the saved segment's count says %q", got)
	}
	if sel := browser.Run(t, ctx, chromedp.Evaluate[string](`(s => s.options[s.selectedIndex].text)(document.getElementById("segment-picker"))`)); sel != "VIP customers" {
		t.Errorf("the picker shows %q", sel)
	}
	// Picking "All contacts" shows everyone again.
	browser.Do(t, ctx,
		choose("#segment-picker", ""),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/delete"]`)),
	)
	if got := text(t, ctx, "#contacts-count"); got != "3 contacts" {
		t.Errorf("all contacts: the count says %q", got)
	}

	// At phone width the rows are cards that fit the screen.
	phone := browser.New(t, browser.Phone())
	login(t, phone, s.URL, addr)
	browser.Do(t, phone,
		chromedp.Navigate(s.URL+"/w/"+ws+"/contacts"),
		chromedp.WaitVisible(chromedp.CSS(".contacts-table")),
	)
	if fits := browser.Run(t, phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); !fits {
		t.Error("at phone width the contact list is wider than the screen")
	}
	browser.Screenshot(t, phone, "contacts-phone")
}

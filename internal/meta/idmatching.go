package meta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// PageScopedID is one answer of Meta's ID matching: the page-scoped ID
// (PSID) the person has on a Page of the app's business.
type PageScopedID struct {
	ID     string
	PageID string
}

// maxIDPages bounds how many result pages IDsForPages reads.
const maxIDPages = 10

// IDsForPages asks which page-scoped IDs the person with the app-scoped ID
// asid has on the Pages owned by the same business as the app: GET
// /{v}/{asid}/ids_for_pages with the app access token (app-id|app-secret,
// sent in the header, with appsecret_proof). Meta answers only when the app
// and the Pages belong to one Business Manager (meta-platform.md, security.md
// §1.3); otherwise it errs or returns nothing. Needs AppID and AppSecret.
func (c *Client) IDsForPages(ctx context.Context, asid string) ([]PageScopedID, error) {
	if c.appID == "" || c.secret == "" {
		return nil, fmt.Errorf("meta: ids for pages: app ID and secret needed")
	}
	if !validNode(asid) {
		return nil, fmt.Errorf("meta: ids for pages: bad user ID")
	}
	q := url.Values{"limit": {"100"}}
	var out []PageScopedID
	for range maxIDPages {
		var res struct {
			Data []struct {
				ID   id `json:"id"`
				Page struct {
					ID id `json:"id"`
				} `json:"page"`
			} `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		err := c.do(ctx, call{op: "ids for pages", method: http.MethodGet, path: "/" + asid + "/ids_for_pages",
			query: q, token: c.appID + "|" + c.secret}, &res)
		if err != nil {
			return nil, err
		}
		for _, d := range res.Data {
			out = append(out, PageScopedID{ID: string(d.ID), PageID: string(d.Page.ID)})
		}
		if res.Paging.Next == "" || res.Paging.Cursors.After == "" || len(res.Data) == 0 {
			break
		}
		q.Set("after", res.Paging.Cursors.After)
	}
	return out, nil
}

package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type suppression struct {
	Address   string    `json:"address"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

type suppressionsData struct {
	Rows   []suppression
	Search string
}

// suppressionsPage lists the tenant's suppressed recipients, searchable.
func (c *Console) suppressionsPage(q *req) error {
	search := strings.TrimSpace(q.r.URL.Query().Get("search"))
	var l struct{ Suppressions []suppression }
	if err := q.api("GET", q.apiT("/suppressions?search=%s&limit=500", url.QueryEscape(search)), nil, &l); err != nil {
		return err
	}
	return q.render(http.StatusOK, "suppressions.html", "Suppressed recipients", "suppressions", suppressionsData{l.Suppressions, search})
}

// removeSuppression takes one recipient off the list.
func (c *Console) removeSuppression(q *req) error {
	a := strings.TrimSpace(q.r.PostForm.Get("address"))
	if err := q.api("DELETE", q.apiT("/suppressions/%s", url.PathEscape(a)), nil, nil); err != nil {
		return q.back(q.tpath("suppressions"), err)
	}
	return q.done(q.tpath("suppressions"), flash{Text: fmt.Sprintf("%s is off the suppression list: mail to it is accepted again.", a)})
}

package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

func (c *Console) domains(q *req) error {
	var ds struct{ Domains []domain }
	if err := q.api("GET", q.apiT("/domains"), nil, &ds); err != nil {
		return err
	}
	return q.render(http.StatusOK, "domains.html", "Accepted domains", "domains", ds.Domains)
}

func (c *Console) addDomain(q *req) error {
	name := strings.TrimSpace(q.r.PostForm.Get("name"))
	var d domain
	if err := q.api("POST", q.apiT("/domains"), map[string]string{"name": name}, &d); err != nil {
		return q.back(q.tpath("domains"), err)
	}
	return q.done(q.tpath("domains"), flash{ID: d.ID,
		Text: fmt.Sprintf("Added %s. Publish the TXT record shown below in its DNS, then choose Verify.", d.Name)})
}

// verifyDomain asks the API to look the TXT record up now and shows what
// DNS answered: changes take a while to be seen, so the admin needs to know
// whether the record is missing, wrong or just not there yet.
func (c *Console) verifyDomain(q *req) error {
	name := q.r.PathValue("domain")
	var ans struct {
		Domain   domain   `json:"domain"`
		Verified bool     `json:"verified"`
		Detail   string   `json:"detail"`
		Found    []string `json:"found"`
	}
	if err := q.api("POST", q.apiT("/domains/%s/verify", url.PathEscape(name)), nil, &ans); err != nil {
		if isStatus(err, http.StatusServiceUnavailable) {
			return q.done(q.tpath("domains"), flash{Error: true, ID: ans.Domain.ID,
				Text: "DNS could not be asked just now: " + messageOf(err) + ". Try again in a minute."})
		}
		return q.back(q.tpath("domains"), err)
	}
	f := flash{ID: ans.Domain.ID, Lines: ans.Found}
	if ans.Verified {
		f.Text = fmt.Sprintf("%s is verified: %s.", ans.Domain.Name, ans.Detail)
	} else {
		f.Error = true
		f.Text = fmt.Sprintf("%s is not verified yet: %s. DNS changes can take up to an hour to be seen; verify again later.", ans.Domain.Name, ans.Detail)
	}
	return q.done(q.tpath("domains"), f)
}

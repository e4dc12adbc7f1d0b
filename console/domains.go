package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
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

// checkDKIM asks the API to look the domain's DKIM records up now and
// shows what DNS answered for each.
func (c *Console) checkDKIM(q *req) error {
	name := q.r.PathValue("domain")
	var ans struct {
		Checked   []client.DKIMKey `json:"checked"`
		Activated int              `json:"activated"`
	}
	if err := q.api("POST", q.apiT("/domains/%s/dkim/check", url.PathEscape(name)), nil, &ans); err != nil {
		return q.back(q.tpath("domains"), err)
	}
	f := flash{}
	published := true
	for _, k := range ans.Checked {
		f.Lines = append(f.Lines, k.Selector+": "+k.Detail)
		if k.Published == nil || !*k.Published {
			published = false
		}
	}
	switch {
	case ans.Activated != 0:
		f.Text = fmt.Sprintf("The DKIM records of %s are published: mail from it is now signed with generation %d.", name, ans.Activated)
	case published:
		f.Text = fmt.Sprintf("The DKIM records of %s are published.", name)
	default:
		f.Error = true
		f.Text = fmt.Sprintf("Not every DKIM record of %s is published yet. DNS changes can take up to an hour to be seen; check again later.", name)
	}
	return q.done(q.tpath("domains"), f)
}

// rotateDKIM makes a new generation of keys; the old one signs until the
// new records are seen.
func (c *Console) rotateDKIM(q *req) error {
	name := q.r.PathValue("domain")
	if err := q.api("POST", q.apiT("/domains/%s/dkim/rotate", url.PathEscape(name)), nil, nil); err != nil {
		return q.back(q.tpath("domains"), err)
	}
	return q.done(q.tpath("domains"), flash{Text: fmt.Sprintf(
		"New DKIM keys for %s: publish their records (marked pending) beside the current ones; they sign from the first check that sees them, and the old keys are retired then.", name)})
}

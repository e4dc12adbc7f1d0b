package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
)

// The operator's tenant picker. A tenant field takes a name, a domain or
// an id as typed; the console resolves it with the API's tenant search
// (GET /api/v1/tenant-search) before it uses it. One match is used; several
// turn the field into a choice among them (a <select>, so the next submit
// of the same form carries the id: no script needed); none, or an id that
// is no tenant, is an error saying so. The API still checks the id it is
// finally given.

// pickChoices is how many matches a field offers to choose among.
const pickChoices = 20

// tenantField is one tenant field of a form, as the "tenant-picker"
// template draws it.
type tenantField struct {
	Name, ID, Label string // the input's name, its element id and label
	Value           string // what was typed
	Required        bool
	Tenant          *client.TenantMatch  // resolved
	Choices         []client.TenantMatch // several matched: choose one
	More            bool                 // more matched than Choices holds
	Error           string
}

// pickTenant resolves the value typed in a tenant field. It returns the
// tenant's id (0 when the field is empty or unresolved); f says what to
// show. Only an unexpected API failure is an error.
func (q *req) pickTenant(f *tenantField) (int64, error) {
	f.Value = strings.TrimSpace(f.Value)
	if f.Value == "" {
		if f.Required {
			f.Error = "Choose a tenant: type its name, a domain of it, or its id."
		}
		return 0, nil
	}
	if id, err := strconv.ParseInt(f.Value, 10, 64); err == nil {
		if id <= 0 {
			f.Error = fmt.Sprintf("%q is not a tenant id.", f.Value)
			return 0, nil
		}
		var t client.Tenant
		if err := q.api("GET", fmt.Sprintf("/api/v1/tenants/%d", id), nil, &t); err != nil {
			if isStatus(err, http.StatusNotFound) {
				f.Error = fmt.Sprintf("There is no tenant with id %d.", id)
				return 0, nil
			}
			return 0, err
		}
		f.Tenant = &client.TenantMatch{ID: t.ID, Name: t.Name, Effective: t.Effective}
		return t.ID, nil
	}
	var res client.TenantSearch
	v := url.Values{"q": {f.Value}, "limit": {strconv.Itoa(pickChoices)}}
	if err := q.api("GET", "/api/v1/tenant-search?"+v.Encode(), nil, &res); err != nil {
		if isStatus(err, http.StatusBadRequest) {
			f.Error = messageOf(err)
			return 0, nil
		}
		return 0, err
	}
	switch {
	case len(res.Tenants) == 0:
		f.Error = fmt.Sprintf("No tenant's name or domain begins with %q.", f.Value)
		return 0, nil
	case len(res.Tenants) == 1:
		f.Tenant = &res.Tenants[0]
		return f.Tenant.ID, nil
	}
	// A name typed in full picks that tenant even when longer names
	// begin with it.
	for i, m := range res.Tenants {
		if strings.EqualFold(m.Name, f.Value) {
			f.Tenant = &res.Tenants[i]
			return m.ID, nil
		}
	}
	f.Choices, f.More = res.Tenants, res.More
	return 0, nil
}

// Unresolved says the form must be shown again: an error, or a choice to make.
func (f *tenantField) Unresolved() bool { return f.Error != "" || len(f.Choices) > 0 }

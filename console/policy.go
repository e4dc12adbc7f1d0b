package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tollgate-mail/tollgate/policy"
)

// policyKey is one per-tenant setting: its key in the API (and the config
// file), what it means, and how its value is typed.
type policyKey struct {
	Key, Label string
	Kind       string // int, ratio, action, bool, suppression
}

// policyKeys are the settings a tenant's overrides can change, in the
// order the page shows them.
var policyKeys = []policyKey{
	{"tenant_spam_count", "Tenant block: spam and bulk messages in the window", "int"},
	{"tenant_spam_ratio", "Tenant block: spam and bulk share of the window's mail (0–1)", "ratio"},
	{"unregistered_per_day", "Mail a day from domains that are not accepted domains", "int"},
	{"dsn_per_day", "Bounces (DSNs) a day for the tenant's mail", "int"},
	{"tenant_external_per_day", "Tenant: external recipients a day", "int"},
	{"user_messages_per_minute", "Per user: messages a minute", "int"},
	{"user_recipients_per_day", "Per user: recipients a day", "int"},
	{"recipients_per_message", "Recipients per message", "int"},
	{"user_external_per_hour", "Per user: external recipients an hour", "int"},
	{"user_internal_per_hour", "Per user: internal recipients an hour", "int"},
	{"user_daily_recipients", "Per user: outbound spam policy, recipients a day", "int"},
	{"user_spam_per_hour", "Per user: spam messages an hour before restriction", "int"},
	{"restrict_action", "When a user crosses a limit", "action"},
	{"suppression_action", "When a recipient is on the suppression list", "suppression"},
	{"connector_ipv4_addresses", "Connectors: IPv4 addresses a tenant admin may add, all connectors together", "int"},
	{"connector_ipv6_64s", "Connectors: IPv6 /64 networks a tenant admin may add, all connectors together", "int"},
	{"bulk_counts", "Bulk and list mail count like spam (the hosted service's terms)", "bool"},
	{"baseline_min_messages", "Evidence: messages in 7 days before the tenant has a baseline", "int"},
	{"baseline_departure", "Evidence: departure from the baseline a block needs (0–1)", "ratio"},
	{"novelty_ratio", "Evidence: share of new recipients that looks like strangers (0–1)", "ratio"},
}

// boolChoices are the values of a yes/no override.
var boolChoices = [][2]string{{"true", "yes"}, {"false", "no"}}

// suppressionActions are the values suppression_action takes, with their
// meaning: the sender hears of a refusal, not of a drop.
var suppressionActions = [][2]string{
	{policy.SuppressRefuse, "refuse at RCPT (the sender hears)"},
	{policy.SuppressDrop, "drop silently"},
}

// restrictActions are the values restrict_action takes, with their meaning.
var restrictActions = [][2]string{
	{policy.RestrictUntilTomorrow, "restrict until the next day"},
	{policy.RestrictUntilReleased, "restrict until an admin releases"},
	{policy.AlertOnly, "alert only"},
}

type policyRow struct {
	policyKey
	Effective, Override string
}

type policyData struct {
	Rows     []policyRow
	Actions  [][2]string
	Suppress [][2]string
	Bools    [][2]string
	Others   map[string]any // effective settings without an override (window, probation)
}

// policyPage shows the tenant's effective limits; operators can change the
// tenant's overrides (the API allows only them).
func (c *Console) policyPage(q *req) error {
	var ans struct {
		Overrides map[string]any `json:"overrides"`
		Effective map[string]any `json:"effective"`
	}
	if err := q.api("GET", q.apiT("/policy"), nil, &ans); err != nil {
		return err
	}
	d := policyData{Actions: restrictActions, Suppress: suppressionActions, Bools: boolChoices, Others: map[string]any{}}
	for k, v := range ans.Effective {
		d.Others[k] = v
	}
	for _, k := range policyKeys {
		row := policyRow{policyKey: k, Effective: show(ans.Effective[k.Key])}
		if v, ok := ans.Overrides[k.Key]; ok && v != nil {
			row.Override = show(v)
		}
		delete(d.Others, k.Key)
		d.Rows = append(d.Rows, row)
	}
	return q.render(http.StatusOK, "policy.html", "Sending limits", "policy", d)
}

// show prints a JSON value as a person reads it (no exponent for counts).
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// setPolicy replaces the tenant's overrides with the form's: an empty
// field keeps the service default.
func (c *Console) setPolicy(q *req) error {
	o := map[string]any{}
	for _, k := range policyKeys {
		v := strings.TrimSpace(q.r.PostForm.Get(k.Key))
		if v == "" {
			continue
		}
		switch k.Kind {
		case "int":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return q.done(q.tpath("policy"), flash{Error: true, Text: fmt.Sprintf("%s: %q is not a whole number.", k.Label, v)})
			}
			o[k.Key] = n
		case "bool":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return q.done(q.tpath("policy"), flash{Error: true, Text: fmt.Sprintf("%s: %q is not yes or no.", k.Label, v)})
			}
			o[k.Key] = b
		case "ratio":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return q.done(q.tpath("policy"), flash{Error: true, Text: fmt.Sprintf("%s: %q is not a number such as 0.3.", k.Label, v)})
			}
			o[k.Key] = f
		default:
			o[k.Key] = v
		}
	}
	if err := q.api("PUT", q.apiT("/policy"), o, nil); err != nil {
		return q.back(q.tpath("policy"), err)
	}
	return q.done(q.tpath("policy"), flash{Text: fmt.Sprintf("Saved the sending limits of %s.", q.tenant.Name)})
}

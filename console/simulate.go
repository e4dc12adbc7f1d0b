package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate-mail/tollgate/dryrun"
)

// The policy dry run (operators): try settings on the stored trace — "what
// would tenant_spam_ratio = 0.2 have blocked last week, and when?" — and
// see per tenant whether it would have been stopped, at which message, on
// which evidence, beside what happened. A GET form: the run changes
// nothing, and its address can be shared.

const simulatePath = Prefix + "simulate"

type simulateData struct {
	Settings, Since, Tenant string
	Report                  *dryrun.Report
	Error                   string
	Spans                   [][2]string
}

// dryRunSpans are the spans the form offers.
var dryRunSpans = [][2]string{{"24h", "the last day"}, {"72h", "the last 3 days"}, {"168h", "the last week"}, {"720h", "the last 30 days"}}

// parseSettings reads "key=value" pairs, one a line or comma-separated, as
// the JSON object the API takes: numbers and true/false as such, anything
// else (a duration, an action) as a string.
func parseSettings(s string) (map[string]any, error) {
	out := map[string]any{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: write each setting as key=value (tenant_spam_ratio=0.2)", part)
		}
		var x any
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			x = v
		}
		out[k] = x
	}
	return out, nil
}

func (c *Console) simulatePage(q *req) error {
	in := q.r.URL.Query()
	d := simulateData{Settings: strings.TrimSpace(in.Get("settings")), Since: in.Get("since"), Tenant: strings.TrimSpace(in.Get("tenant")), Spans: dryRunSpans}
	if d.Since == "" {
		d.Since = "168h"
	}
	status := http.StatusOK
	if in.Has("settings") {
		set, err := parseSettings(d.Settings)
		if err == nil {
			var rep dryrun.Report
			err = q.api("POST", "/api/v1/simulate/policy", map[string]any{"settings": set, "last": d.Since, "tenant": d.Tenant}, &rep)
			if err == nil {
				d.Report = &rep
			} else if !isStatus(err, http.StatusBadRequest) && !isStatus(err, http.StatusNotFound) && !isStatus(err, http.StatusTooManyRequests) {
				return err
			} else {
				err = fmt.Errorf("%s", messageOf(err))
			}
		}
		if err != nil {
			d.Error, status = err.Error(), http.StatusBadRequest
		}
	}
	return q.render(status, "simulate.html", "Policy dry run", "simulate", d)
}

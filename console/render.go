package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
)

// view is what every page template gets: the layout reads the first
// fields (who is signed in, the tenant, the section for the navigation),
// the page its Data.
type view struct {
	Title   string
	Me      *session
	Tenant  *tenant
	Section string
	CSRF    string
	Flash   *flash
	Data    any
}

// pages holds one template set per page: the page's file parsed with the
// layout and the shared pieces (partials.html), so each page defines
// "content" without clashing with the others.
type pages map[string]*template.Template

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"tpath": tenantPath,
	"join":  strings.Join,
	"sub":   func(a, b int) int { return a - b },
	// dict passes several values to a shared template.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	// plural writes a count with its noun: "1 sender", "2 senders".
	"plural": func(n any, one, many string) string {
		if fmt.Sprint(n) == "1" {
			return "1 " + one
		}
		return fmt.Sprint(n) + " " + many
	},
	// restricted counts restrictions given as a list (a status) or a
	// number (a standing).
	"restricted": func(v any) int {
		switch r := v.(type) {
		case int:
			return r
		case []blocks.Restriction:
			return len(r)
		}
		return 0
	},
	"pct": func(f float64) string {
		return fmt.Sprintf("%.1f %%", f*100)
	},
}

func loadPages() pages {
	ps := pages{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err) // a constant pattern: cannot fail
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		// Must: the templates are embedded, so a parse error is a build
		// error that every test run shows at once.
		ps[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n))
	}
	return ps
}

// render writes a page. It renders into a buffer first, so a template
// error is a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	t, ok := c.pages[name]
	if !ok {
		return fmt.Errorf("console: no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.opts.Logger.Error("console template failed", "page", name, "err", err)
		http.Error(w, "internal error rendering the page; the server log has the details", http.StatusInternalServerError)
		return nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// navItem is one link of the navigation.
type navItem struct {
	Section, Label, Href string
}

// navigation is the menu: the operator's sections, and the sections of
// the tenant being looked at (for any admin on one of its pages).
type navigation struct {
	Operator, Tenant []navItem
}

// Nav builds the menu for this page.
func (v view) Nav() navigation {
	var n navigation
	if v.Me != nil && v.Me.Operator {
		n.Operator = append([]navItem{
			{"tenants", "All tenants", Prefix + "tenants"},
			{"all-audit", "Audit log (all)", Prefix + "audit"},
		}, operatorNav()...)
	}
	if v.Tenant != nil {
		id := v.Tenant.ID
		n.Tenant = append([]navItem{
			{"overview", "Overview", tenantPath(id, "")},
			{"domains", "Accepted domains", tenantPath(id, "domains")},
			{"users", "Users", tenantPath(id, "users")},
			{"connectors", "Connectors", tenantPath(id, "connectors")},
			{"admins", "Admins", tenantPath(id, "admins")},
			{"tokens", "API tokens", tenantPath(id, "tokens")},
			{"audit", "Audit log", tenantPath(id, "audit")},
		}, tenantNav(id)...)
	}
	return n
}

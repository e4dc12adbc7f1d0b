// Package help holds the explanation of every status code Tollgate gives:
// what happened, what the sender can do, and what their admin must fix. The
// admin port serves them as pages at /ndr/<code>, and SMTP replies link there.
package help

import (
	"sort"
	"strings"
)

// Page explains one code.
type Page struct {
	Code   string // enhanced status code, e.g. "5.7.64"
	Reply  string // the SMTP reply as Tollgate sends it
	Title  string
	Cause  string // what happened, in plain words
	Sender string // for the person who sent the message
	Admin  string // for their email admin: causes and the steps to fix
	// Who says who can fix it: Sender, TenantAdmin, Operator or Retry (a
	// temporary refusal the sending program gets past by itself). Pages
	// whose fix is an admin's tell the sender to pass the page on; the
	// operators' table in docs/codes.md is checked against it.
	Who Fixer
}

// Fixer is who can make a refusal go away.
type Fixer string

const (
	Sender      Fixer = "sender"
	TenantAdmin Fixer = "tenant admin"
	Operator    Fixer = "operator"
	Retry       Fixer = "nobody: the client retries"
)

// PassOn is what a sender reads when only an admin can help; tests check
// that every such page says it.
const PassOn = "Only your email admin can fix this: send them this page."

var pages = map[string]Page{}

// add registers a page; a second page for one code is a programming error
// that would silently hide the first.
func add(p Page) {
	if _, dup := pages[p.Code]; dup {
		panic("help: two pages for " + p.Code)
	}
	pages[p.Code] = p
}

// Lookup returns the page for code ("5.7.64"), falling back to the class and
// subject ("5.7.x") and then to the class ("5.x.x").
func Lookup(code string) (Page, bool) {
	if p, ok := pages[code]; ok {
		return p, true
	}
	parts := strings.Split(code, ".")
	if len(parts) == 3 {
		if p, ok := pages[parts[0]+"."+parts[1]+".x"]; ok {
			return p, true
		}
		if p, ok := pages[parts[0]+".x.x"]; ok {
			return p, true
		}
	}
	return Page{}, false
}

// Codes lists the specific codes with pages, sorted.
func Codes() []string {
	var out []string
	for c := range pages {
		if !strings.Contains(c, "x") {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

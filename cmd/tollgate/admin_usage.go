package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// deprecatedAdminNames are the commands' names before they became
// noun–verb ("connector-create" is now "connector create"). They work for
// this release and go in the next; help lists them as deprecated.
var deprecatedAdminNames = map[string]string{
	"tenants": "tenant list", "tenant-create": "tenant create", "tenant-licence": "tenant licence",
	"sender-binding": "tenant sender-binding",
	"domains":        "domain list", "domain-add": "domain add", "domain-verify": "domain verify",
	"connectors": "connector list", "connector-create": "connector create", "connector-confirm": "connector confirm",
	"connector-delete": "connector delete",
	"users":            "user list", "user-create": "user create", "user-password": "user password", "user-disable": "user disable",
	"aliases": "alias list", "alias-add": "alias add", "alias-remove": "alias remove",
	"tokens": "token list", "token-create": "token create", "token-revoke": "token revoke",
	"app-passwords": "app-password list", "app-password-create": "app-password create", "app-password-revoke": "app-password revoke",
	"admins": "admin list", "admin-create": "admin create", "admin-mfa-reset": "admin mfa-reset",
	"password-change": "password change",
	"blocks":          "block list", "block": "block add",
	"policy": "policy show", "policy-set": "policy set",
	"restrictions": "restriction list", "release": "restriction release",
	"unblock-request": "unblock-request create", "unblock-requests": "unblock-request list",
	"unblock-approve": "unblock-request approve", "unblock-deny": "unblock-request deny",
	"ip": "ip show", "ip-lists": "ip list", "ip-allow": "ip allow", "ip-deny": "ip deny", "ip-unlist": "ip unlist",
	"exceptions": "exception list", "exception-grant": "exception grant", "exception-revoke": "exception revoke",
}

// noun is the group a command is listed under: its first word, or for a
// one-word hyphenated name the part before the hyphen.
func noun(name string) string {
	if i := strings.IndexAny(name, " -"); i > 0 {
		return name[:i]
	}
	return name
}

// adminUsage prints the command listing, grouped by noun and aligned.
func adminUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: tollgate admin <command> [flags] [arguments]

Speaks the admin API of a running gateway. Flags go anywhere on the line;
--tenant takes a tenant's name or id. The token is --token, else
$TOLLGATE_TOKEN, else the session of "tollgate admin login" for this server,
else (in dev mode) the one in ./tollgate-data.

Commands:
`)
	// Groups of one single-word command go last, together.
	groups := map[string][]adminCommand{}
	var nouns []string
	for _, c := range adminCommands {
		n := noun(c.name)
		if _, ok := groups[n]; !ok {
			nouns = append(nouns, n)
		}
		groups[n] = append(groups[n], c)
	}
	sort.Strings(nouns)
	var other []adminCommand
	nameW, argsW := 0, 0
	for _, c := range adminCommands {
		nameW, argsW = max(nameW, len(c.name)), max(argsW, len(c.args))
	}
	line := func(c adminCommand) {
		fmt.Fprintf(w, "  %-*s  %-*s  %s\n", nameW, c.name, argsW, c.args, c.summary)
	}
	for _, n := range nouns {
		if g := groups[n]; len(g) == 1 && !strings.ContainsAny(g[0].name, " -") {
			other = append(other, g[0])
			continue
		}
		for _, c := range groups[n] {
			line(c)
		}
		fmt.Fprintln(w)
	}
	for _, c := range other {
		line(c)
	}
	fmt.Fprint(w, "\nGlobal flags:\n")
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(w)
	new(adminGlobals).register(fs)
	fs.PrintDefaults()
	old := make([]string, 0, len(deprecatedAdminNames))
	for o, n := range deprecatedAdminNames {
		old = append(old, o+" → "+n)
	}
	sort.Strings(old)
	fmt.Fprintf(w, "\nDeprecated names, kept for this release only:\n%s\n", wrap(old, 76, "  "))
	fmt.Fprint(w, "\nRun \"tollgate admin <command> --help\" for a command's flags.\n")
}

// commandUsage prints one command's usage and its own flags.
func commandUsage(w io.Writer, c *adminCommand) {
	fmt.Fprintf(w, "Usage: tollgate admin %s [flags] %s\n\n%s.\n", c.name, c.args, strings.ToUpper(c.summary[:1])+c.summary[1:])
	own := flag.NewFlagSet(c.name, flag.ContinueOnError)
	if c.flags != nil {
		c.flags(own)
	}
	if strings.HasPrefix(c.args, "TENANT") && own.Lookup("tenant") == nil {
		own.String("tenant", "", "the TENANT, by `name or id`, as a flag")
	}
	own.SetOutput(w)
	if hasFlags(own) {
		fmt.Fprint(w, "\nFlags:\n")
		own.PrintDefaults()
	}
	fmt.Fprint(w, "\nGlobal flags: --server URL, --token T, --json, --data-dir DIR (see tollgate admin --help).\n")
	for o, n := range deprecatedAdminNames {
		if n == c.name {
			fmt.Fprintf(w, "Deprecated name: %s.\n", o)
		}
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// wrap joins items with ", " into lines of at most width, each indented;
// an item is never split.
func wrap(items []string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for i, it := range items {
		if i < len(items)-1 {
			it += ","
		}
		if len(line)+len(it)+1 > width && line != indent {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = indent
		}
		line += it + " "
	}
	b.WriteString(strings.TrimRight(line, " "))
	return b.String()
}

package help_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/help"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/protect"
	"github.com/tollgate-mail/tollgate/reputation"
)

// exact returns code's own page, not a class fallback ("5.x.x").
func exact(t *testing.T, code string) help.Page {
	t.Helper()
	p, ok := help.Lookup(code)
	if !ok || p.Code != code {
		t.Errorf("no help page of its own for %s (got %q)", code, p.Code)
	}
	return p
}

// Every refusal the checks can return has a page, and the page quotes the
// reply exactly as Tollgate sends it, so a sender can match the two.
func TestEveryDecisionHasPage(t *testing.T) {
	decisions := map[string]policy.Decision{
		"TenantBlocked": protect.TenantBlocked, "SenderRestricted": protect.SenderRestricted,
		"ConnectorRestricted": protect.ConnectorRestricted, "UnregisteredDomain": protect.UnregisteredDomain,
		"MessageRateExceeded": protect.MessageRateExceeded, "DailyRecipientsExceeded": protect.DailyRecipientsExceeded,
		"TenantExternalExceeded": protect.TenantExternalExceeded, "TooManyRecipients": protect.TooManyRecipients,
		"RelayDenied": policy.RelayDenied, "AuthRequired": policy.AuthRequired,
		"ForeignDomain": protect.ForeignDomain, "SendAsDenied": protect.SendAsDenied,
		"InternalDestination": policy.InternalDestination,
	}
	for name, d := range decisions {
		p := exact(t, d.EnhancedString())
		if want := fmt.Sprintf("%d %s %s", d.Code, d.EnhancedString(), d.Text); p.Reply != want {
			t.Errorf("%s: page reply %q, Tollgate sends %q", name, p.Reply, want)
		}
	}
	// 5.7.708's decision is built inside reputation.Check from its Text.
	if p := exact(t, "5.7.708"); p.Reply != "550 5.7.708 "+reputation.Text {
		t.Errorf("5.7.708: page reply %q, Tollgate sends %q", p.Reply, "550 5.7.708 "+reputation.Text)
	}
}

var holdCode = regexp.MustCompile(`^[45]\.[0-9]{1,3}\.[0-9]{1,3}$`)

// literalCodes finds every enhanced code written as a literal in the
// non-test sources of dir: `Enhanced: [3]int{5, 7, 705}` in decisions,
// `smtp.EnhancedCode{5, 1, 7}` in SMTP errors and `Code: "5.1.8"` in
// queue holds. It catches the decisions
// built inline (probation, counter failures) that no exported var names.
func literalCodes(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	found := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			// Code: "5.7.705" in a queue.Hold (a refusal after acceptance).
			if kv, ok := n.(*ast.KeyValueExpr); ok {
				if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" {
					if v, ok := kv.Value.(*ast.BasicLit); ok && v.Kind == token.STRING {
						if code, _ := strconv.Unquote(v.Value); holdCode.MatchString(code) {
							found[code] = fset.Position(v.Pos()).String()
						}
					}
				}
			}
			lit, ok := n.(*ast.CompositeLit)
			if !ok || len(lit.Elts) != 3 || !isCodeType(lit.Type) {
				return true
			}
			var parts []string
			for _, e := range lit.Elts {
				b, ok := e.(*ast.BasicLit)
				if !ok || b.Kind != token.INT {
					return true
				}
				parts = append(parts, b.Value)
			}
			if parts[0] == "4" || parts[0] == "5" {
				found[strings.Join(parts, ".")] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	return found
}

// isCodeType matches [3]int and smtp.EnhancedCode.
func isCodeType(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.ArrayType:
		l, ok := x.Len.(*ast.BasicLit)
		id, ok2 := x.Elt.(*ast.Ident)
		return ok && ok2 && l.Value == "3" && id.Name == "int"
	case *ast.SelectorExpr:
		return x.Sel.Name == "EnhancedCode"
	}
	return false
}

// Every 4xx and 5xx code the checks, the SMTP front end and the queue's
// holds can give has a page of its own.
func TestEveryLiteralCodeHasPage(t *testing.T) {
	all := map[string]string{}
	for _, dir := range []string{"../protect", "../policy", "../reputation", "../smtpd", "../gateway", "../postfix"} {
		for code, pos := range literalCodes(t, dir) {
			all[code] = pos
		}
	}
	// The scan must see what we know is there, or it proves nothing.
	for _, c := range []string{"5.7.705", "5.7.708", "5.7.750", "5.1.8", "5.7.711", "4.7.500", "4.3.0", "4.7.711", "5.7.64", "5.1.7"} {
		if _, ok := all[c]; !ok {
			t.Fatalf("the source scan missed %s; found %v", c, all)
		}
	}
	for code, pos := range all {
		if p, ok := help.Lookup(code); !ok || p.Code != code {
			t.Errorf("%s (at %s) has no help page of its own", code, pos)
		}
	}
}

// Every page has both sections; pages whose fix is an admin's tell the
// sender to pass the page on, and the protection pages name the command
// that fixes it.
func TestPagesComplete(t *testing.T) {
	commands := map[string]string{"5.7.705": "unblock-request create", "5.1.8": "restriction release", "5.7.711": "restriction release",
		"5.7.750": "domain verify", "5.7.233": "policy set", "5.1.90": "policy set", "4.7.711": "connector confirm", "5.7.64": "connector create",
		"5.7.751": "domain verify", "5.7.60": "alias add", "5.1.92": "suppression-remove"}
	for _, code := range help.Codes() {
		p := exact(t, code)
		if p.Title == "" || p.Cause == "" || p.Sender == "" || p.Admin == "" || p.Who == "" {
			t.Errorf("%s: a field is empty: %+v", code, p)
		}
		if !strings.Contains(p.Reply, " "+code+" ") {
			t.Errorf("%s: reply %q does not carry the code", code, p.Reply)
		}
		if (p.Who == help.TenantAdmin || p.Who == help.Operator) && !strings.Contains(p.Sender, help.PassOn) {
			t.Errorf("%s: only an admin can fix it, but the sender section does not say to pass the page on: %q", code, p.Sender)
		}
		if cmd, ok := commands[code]; ok && !strings.Contains(p.Admin, "tollgate admin "+cmd) {
			t.Errorf("%s: the admin section does not name tollgate admin %s", code, cmd)
		}
	}
	p := exact(t, "5.7.705")
	for _, want := range []string{"Threshold", "Subscription expired", "(subscription expired)", "tenant licence", "probation"} {
		if !strings.Contains(p.Cause+p.Admin, want) {
			t.Errorf("5.7.705 must explain both reasons; missing %q", want)
		}
	}
	if !slices.IsSorted(help.Codes()) {
		t.Error("Codes is not sorted")
	}
}

// docs/codes.md, the operators' table, has a row for every code with a
// page, naming who fixes it as the page does.
func TestCodesDoc(t *testing.T) {
	raw, err := os.ReadFile("../docs/codes.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(line, "| ") {
			continue
		}
		code := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if fields := strings.Fields(code); len(fields) == 2 {
			if _, err := strconv.Atoi(fields[0]); err == nil {
				rows[fields[1]] = line
			}
		}
	}
	for _, code := range help.Codes() {
		line, ok := rows[code]
		if !ok {
			t.Errorf("docs/codes.md has no row for %s", code)
			continue
		}
		if p, _ := help.Lookup(code); !strings.Contains(line, string(p.Who)) {
			t.Errorf("docs/codes.md row for %s does not say who fixes it (%q):\n%s", code, p.Who, line)
		}
	}
}

package metrics_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// definedNames are the tollgate_* metric names the code defines (Name: in
// a prometheus *Opts), with the series a histogram adds.
func definedNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	def := regexp.MustCompile(`Name:\s*"(tollgate_[a-z0-9_]+)"`)
	for _, dir := range []string{".", "../alert"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range def.FindAllSubmatch(b, -1) {
				n := string(m[1])
				names[n] = true
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					names[n+s] = true
				}
			}
		}
	}
	if !names["tollgate_smtp_rejected_total"] || !names["tollgate_alerts_total"] {
		t.Fatalf("the source scan missed known metrics: %v", names)
	}
	return names
}

// usedNames are the tollgate_* names an expression file refers to.
func usedNames(s string) []string {
	return regexp.MustCompile(`tollgate_[a-z0-9_]+`).FindAllString(s, -1)
}

// docs/prometheus/tollgate-alerts.yml passes `promtool check rules` and
// names only metrics Tollgate has; the Grafana dashboard is valid JSON
// whose queries do too. A renamed metric fails here, not in an operator's
// silent alert.
func TestAlertRulesAndDashboard(t *testing.T) {
	names := definedNames(t)
	rules := "../docs/prometheus/tollgate-alerts.yml"
	raw, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range usedNames(string(raw)) {
		if !names[n] {
			t.Errorf("%s names %s, which no metric defines", rules, n)
		}
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	b, err := os.ReadFile("../docs/prometheus/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if len(dash.Panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range usedNames(tg.Expr) {
				if !names[n] {
					t.Errorf("dashboard panel %q names %s, which no metric defines", p.Title, n)
				}
			}
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed: `promtool check rules` needs Debian's prometheus package (.ci/run installs it)")
	}
	out, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

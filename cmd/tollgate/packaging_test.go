package main

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
)

// The configurations the Debian package (/etc/tollgate/tollgate.toml) and
// the image install pass the check the unit's ExecStartPre runs.
func TestPackagedConfigChecks(t *testing.T) {
	for _, f := range []string{"../../packaging/tollgate.toml", "../../packaging/container.toml"} {
		var out bytes.Buffer
		if err := configCommand(&out, []string{"check", "--config", f}); err != nil {
			t.Fatalf("config check of %s: %v", f, err)
		}
		if !strings.Contains(out.String(), "ok (data_dir /var/lib/tollgate") {
			t.Errorf("config check of %s printed %q", f, out.String())
		}
	}
}

// No image builder runs here, so at least the Dockerfile's EXPOSE lines
// and its volume match the configuration it copies into the image.
func TestDockerfileMatchesContainerConfig(t *testing.T) {
	df, err := os.ReadFile("../../packaging/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("../../packaging/container.toml")
	if err != nil {
		t.Fatal(err)
	}
	var exposed []string
	for _, line := range strings.Split(string(df), "\n") {
		if rest, ok := strings.CutPrefix(line, "EXPOSE "); ok {
			exposed = append(exposed, strings.Fields(rest)...)
		}
	}
	for key, addr := range map[string]string{"listen.relay": cfg.Listen.Relay, "listen.submission": cfg.Listen.Submission,
		"listen.submissions": cfg.Listen.Submissions, "listen.admin": cfg.Listen.Admin} {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if !slices.Contains(exposed, port) {
			t.Errorf("%s listens on %s, the Dockerfile exposes %v", key, port, exposed)
		}
	}
	if !strings.Contains(string(df), `VOLUME ["`+cfg.DataDir+`"]`) {
		t.Errorf("the Dockerfile has no VOLUME for data_dir %s", cfg.DataDir)
	}
	if !strings.Contains(string(df), "\nUSER 65532") {
		t.Error("the image does not run as the non-root user")
	}
}

// A bad file fails the check with an error naming the key, so the unit
// refuses to start on it instead of serving with a default.
func TestConfigCheckNamesBadKey(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ body, want string }{
		{"[listen]\nrelay = \"nonsense\"\n", "listen.relay"},
		{"[smtp]\nmax_recipients = 5000\n", "smtp.max_recipients"},
		{"[lisen]\nrelay = \":25\"\n", "unknown key lisen"},
	} {
		f := filepath.Join(dir, "bad.toml")
		if err := os.WriteFile(f, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		err := configCommand(&bytes.Buffer{}, []string{"check", "--config", f})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config check of %q: %v, want an error naming %s", c.body, err, c.want)
		}
	}
	if err := configCommand(&bytes.Buffer{}, []string{"check"}); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("config check without --config: %v", err)
	}
	if err := configCommand(&bytes.Buffer{}, []string{"chekc"}); err == nil || !strings.Contains(err.Error(), `"chekc"`) {
		t.Errorf("config chekc: %v", err)
	}
	var help bytes.Buffer
	if err := configCommand(&help, []string{"check", "--help"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "Usage: tollgate config check") {
		t.Errorf("config check --help: %v %q", err, help.String())
	}
}

// systemd parses every line of the unit (a misspelt hardening key is only a
// warning to systemd, so any output fails), and its offline security
// analysis keeps the exposure score low.
func TestSystemdUnitVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian: systemd); the unit is not verified")
	}
	unit, err := os.ReadFile("../../packaging/tollgate.service")
	if err != nil {
		t.Fatal(err)
	}
	// verify checks that ExecStart's binary exists: point it at one that does.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tollgate.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/bin/tollgate"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Exposure 0–10 (×10 for --threshold); "OK" is below 5.
	out, err = exec.Command(sa, "security", "--offline=yes", "--threshold=25", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: exposure above 2.5: %v\n%s", err, out)
	}
	for _, key := range []string{"User=tollgate", "ProtectSystem=strict", "StateDirectory=tollgate",
		"AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
		"NoNewPrivileges=yes", "SystemCallFilter=@system-service"} {
		if !bytes.Contains(unit, []byte("\n"+key+"\n")) {
			t.Errorf("the unit lacks %s", key)
		}
	}
}

// The -X values a release build sets win over the toolchain's VCS stamp; a
// plain build from a checkout still names its commit and time.
func TestVersionInfo(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "e4ac26a0"}, {Key: "vcs.time", Value: "2026-12-03T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	for _, c := range []struct {
		name              string
		ver, commit, date string
		bi                *debug.BuildInfo
		ok                bool
		want              string
	}{
		{"release", "v1.2.0", "abc123", "2026-12-01T00:00:00Z", bi, true,
			"tollgate v1.2.0 (commit abc123, built 2026-12-01T00:00:00Z)"},
		{"checkout", "", "", "", bi, true,
			"tollgate dev (commit e4ac26a0-dirty, built 2026-12-03T10:00:00Z)"},
		{"module", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, true,
			"tollgate v1.3.0 (commit unknown, built unknown)"},
		{"nothing", "", "", "", nil, false, "tollgate dev (commit unknown, built unknown)"},
	} {
		if got := versionInfo(c.ver, c.commit, c.date, c.bi, c.ok).String(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	var out bytes.Buffer
	if err := printVersion(&out, nil); err != nil || !strings.HasPrefix(out.String(), "tollgate ") || !strings.Contains(out.String(), "commit ") {
		t.Errorf("tollgate version: %v %q", err, out.String())
	}
	if err := printVersion(&bytes.Buffer{}, []string{"extra"}); err == nil {
		t.Error("tollgate version extra: no error")
	}
}

// The package's sysusers file (its postinst runs systemd-sysusers on it)
// makes the system user and group the unit's User= and Group= name.
func TestSysusersCreatesUser(t *testing.T) {
	su, err := exec.LookPath("systemd-sysusers")
	if err != nil {
		t.Skip("systemd-sysusers not installed (Debian: systemd); the sysusers file is not checked")
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	file, err := filepath.Abs("../../packaging/tollgate.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(su, "--root="+root, file).CombinedOutput(); err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	group, _ := os.ReadFile(filepath.Join(root, "etc", "group"))
	if !strings.HasPrefix(string(passwd), "tollgate:x:") || !strings.Contains(string(passwd), ":/var/lib/tollgate:/usr/sbin/nologin") {
		t.Errorf("no system user tollgate with home /var/lib/tollgate and no shell: %q", passwd)
	}
	if !strings.HasPrefix(string(group), "tollgate:x:") {
		t.Errorf("no group tollgate: %q", group)
	}
}

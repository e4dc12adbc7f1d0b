package config

import (
	"encoding"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tollgate.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsValidate(t *testing.T) {
	c := Default()
	c.DataDir = t.TempDir()
	if err := c.Finish(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	d := Default()
	d.ApplyDev()
	d.DataDir = t.TempDir()
	if err := d.Finish(); err != nil {
		t.Fatalf("dev defaults do not validate: %v", err)
	}
	if d.Listen.Relay != "127.0.0.1:2525" || d.Listen.Admin != "127.0.0.1:8025" {
		t.Fatalf("dev listeners: %+v", d.Listen)
	}
}

func TestLoadOverridesDefaults(t *testing.T) {
	p := writeFile(t, `
hostname = "gw.example.net"
[smtp]
max_recipients = 100
command_timeout = "2m"
[queue]
retry_schedule = ["1s", "2s"]
[delivery.pools.high-risk]
source_addresses = ["127.0.0.2"]
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hostname != "gw.example.net" || c.SMTP.MaxRecipients != 100 || c.SMTP.CommandTimeout.Minutes() != 2 {
		t.Fatalf("file values not applied: %+v", c)
	}
	if c.SMTP.MaxMessageBytes != 35<<20 {
		t.Fatalf("default lost: max_message_bytes = %d", c.SMTP.MaxMessageBytes)
	}
	if len(c.Queue.RetrySchedule) != 2 || c.Delivery.Pools["high-risk"].SourceAddresses[0] != netip.MustParseAddr("127.0.0.2") {
		t.Fatalf("lists not applied: %+v %+v", c.Queue.RetrySchedule, c.Delivery.Pools)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	cases := []struct{ body, want string }{
		{`[smtp]
max_recipient = 5`, "unknown key smtp.max_recipient"},
		{`bogus = 1`, "unknown key bogus"},
		{`[smtp]
max_recipients = 5000`, "smtp.max_recipients: must be at most 1000"},
		{`[smtp]
max_recipients = 0`, "smtp.max_recipients: must be greater than 0"},
		{`[smtp]
command_timeout = "soon"`, "not a duration"},
		{`[listen]
relay = "nonsense"`, `listen.relay: "nonsense" is not HOST:PORT`},
		{`[postfix]
policy_listen = "10040"`, `postfix.policy_listen: "10040" is not HOST:PORT`},
		{`[postfix]
milter_listen = "unix:milter.sock"`, `postfix.milter_listen: "unix:milter.sock" is neither HOST:PORT nor unix:/absolute/path`},
		{`[delivery]
smarthost = "mx.example.net"`, "delivery.smarthost"},
		{`[delivery.pools.high-risk]
source_addresses = ["not-an-ip"]`, `delivery.pools.high-risk.source_addresses: entry 0: "not-an-ip" is not an IP address`},
		{`[delivery.pools.fast]
source_addresses = []`, "delivery.pools.fast.source_addresses: a dedicated pool needs at least one source address"},
		{`[delivery.pools.Acme_Pool]
source_addresses = ["127.0.0.2"]`, "delivery.pools.Acme_Pool: pool name must be 1 to 32 lowercase letters"},
		{`[delivery.pools.acme]
source_addresses = ["127.0.0.2"]
max_per_destination = -1`, "delivery.pools.acme.max_per_destination: must not be negative"},
		{`[delivery]
allowed_internal_next_hops = ["10.0.0.0/8", "internal"]`, `delivery.allowed_internal_next_hops: entry 1: "internal" is not an IP address or CIDR`},
		{`[log]
level = "loud"`, "log.level"},
		{`[queue]
retry_schedule = []`, "queue.retry_schedule: needs at least one interval"},
		{`[tls]
cert_file = "x.pem"`, "tls: cert_file and key_file go together"},
		{`[[events.webhook]]
tenant = "acme"
url = "ftp://hooks.example"
secret = "sixteen characters!"`, `events.webhook[0].url: "ftp://hooks.example" is not an http(s) URL`},
		{`[[events.webhook]]
tenant = "acme"
url = "https://hooks.example"
secret = "short"`, "events.webhook[0].secret: must be at least 16 characters"},
		{`[events]
queue_size = 0`, "events.queue_size: must be at least 1"},
		{`[policy]
suppression_action = "bounce"`, `policy.suppression_action: must be "refuse" or "drop"`},
		{`[policy]
tenant_window = "soon"`, `policy.tenant_window: invalid duration: "soon"`},
		{`[policy]
tenant_window = "30s"`, `policy.tenant_window: must be at least 1m`},
		{`[smtp]
command_timeout = "soon"`, `line 2: smtp.command_timeout: not a duration`},
		{`[reputation]
trusted_ranges = ["10.0.0.0/8", "10.1.2.3/8"]`, `reputation.trusted_ranges: entry 1: 10.1.2.3/8 has host bits set; did you mean 10.0.0.0/8?`},
		{`[reputation]
trusted_ranges = "10.0.0.0/8"`, `reputation.trusted_ranges: must be a list of strings`},
		{`[events]
allowed_internal_webhooks = [10]`, `events.allowed_internal_webhooks: entry 0: must be a string`},
	}
	for _, tc := range cases {
		c, err := Load(writeFile(t, tc.body))
		if err == nil {
			c.DataDir = t.TempDir()
			err = c.Finish()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: error %v, want one containing %q", tc.body, err, tc.want)
		}
	}
}

// TestEveryKeyDocumented keeps docs/configuration.md in step with the code.
func TestEveryKeyDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := strings.Split(f.Tag.Get("toml"), ",")[0]
			if f.Anonymous && tag == "" {
				walk(prefix, f.Type) // policy.Settings: its keys are the section's
				continue
			}
			if tag == "" || tag == "-" {
				continue
			}
			key := prefix + tag
			switch {
			case f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()):
				walk(key+".", f.Type)
			case f.Type.Kind() == reflect.Map:
				for _, pool := range []string{"normal", "high-risk"} {
					walk(key+"."+pool+".", f.Type.Elem())
				}
			default:
				if !strings.Contains(string(doc), "`"+key+"`") {
					t.Errorf("key %s is not documented in docs/configuration.md", key)
				}
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
}

// TestTypedValuesParsedOnce checks that the file's addresses, ranges and
// durations arrive typed, as the gateway takes them.
func TestTypedValuesParsedOnce(t *testing.T) {
	c, err := Load(writeFile(t, `
[policy]
tenant_window = "2h"
user_messages_per_minute = 7
[reputation]
trusted_ranges = ["192.0.2.7", "10.0.0.0/8", "::ffff:198.51.100.0/120"]
[delivery]
allowed_internal_next_hops = ["127.0.0.1"]
[events]
allowed_internal_webhooks = ["fd00::/8"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.TenantWindow != 2*time.Hour || c.Policy.Settings.UserMessagesPerMinute != 7 {
		t.Fatalf("policy: %+v", c.Policy.Settings)
	}
	if def := Default().Policy.Settings; c.Policy.ProbationQuota != def.ProbationQuota || c.Policy.RestrictAction != def.RestrictAction {
		t.Fatalf("policy defaults lost: %+v", c.Policy.Settings)
	}
	want := Prefixes{netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("198.51.100.0/24")}
	if !reflect.DeepEqual(c.Reputation.TrustedRanges, want) {
		t.Fatalf("trusted_ranges = %v, want %v", c.Reputation.TrustedRanges, want)
	}
	if got := c.Delivery.AllowedInternalNextHops; len(got) != 1 || got[0] != netip.MustParsePrefix("127.0.0.1/32") {
		t.Fatalf("allowed_internal_next_hops = %v", got)
	}
	if got := c.Events.AllowedInternalWebhooks; len(got) != 1 || got[0] != netip.MustParsePrefix("fd00::/8") {
		t.Fatalf("allowed_internal_webhooks = %v", got)
	}
	// A file's list replaces the dev default rather than adding to it.
	d := Default()
	d.ApplyDev()
	if err := d.LoadFile(writeFile(t, "[reputation]\ntrusted_ranges = [\"192.0.2.0/24\"]\n")); err != nil {
		t.Fatal(err)
	}
	if len(d.Reputation.TrustedRanges) != 1 {
		t.Fatalf("dev trusted_ranges not replaced: %v", d.Reputation.TrustedRanges)
	}
}

// Package config holds Tollgate's configuration: the TOML file, its documented
// defaults, and the validation that runs before anything listens.
//
// Every key is described in docs/configuration.md. Unknown keys are errors, so
// a typo never silently falls back to a default.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-mail/tollgate/nexthop"
	"github.com/tollgate-mail/tollgate/policy"

	"github.com/BurntSushi/toml"
)

// Config is the whole configuration of one Tollgate node.
type Config struct {
	// DataDir holds the SQLite database, the spool, the TLS certificate made
	// on first start and, in dev mode, the capture sink.
	DataDir string `toml:"data_dir"`
	// Hostname is the name this node gives in its greeting, EHLO, Received
	// headers, Message-IDs and DSNs.
	Hostname string `toml:"hostname"`
	// Dev is set by `serve --dev`, never by the file: it seeds a demo tenant
	// and delivers into the capture sink unless a smarthost is given.
	Dev bool `toml:"-"`

	Store      Store      `toml:"store"`
	Policy     Policy     `toml:"policy"`
	Counters   Counters   `toml:"counters"`
	Reputation Reputation `toml:"reputation"`
	Classify   Classify   `toml:"classify"`
	Trace      Trace      `toml:"trace"`
	Feedback   Feedback   `toml:"feedback"`
	DKIM       DKIM       `toml:"dkim"`
	Alerts     Alerts     `toml:"alerts"`
	Events     Events     `toml:"events"`
	Listen     Listen     `toml:"listen"`
	Postfix    Postfix    `toml:"postfix"`
	TLS        TLS        `toml:"tls"`
	SMTP       SMTP       `toml:"smtp"`
	Queue      Queue      `toml:"queue"`
	Delivery   Delivery   `toml:"delivery"`
	Admin      Admin      `toml:"admin"`
	Log        Log        `toml:"log"`
}

// Store selects where the directory and the audit log live. Each node's
// spool stays on its own disk either way.
type Store struct {
	// PostgresDSN, when set, puts them in PostgreSQL, shared by every node
	// of a fleet (e.g. "postgres://tollgate@db.internal:5432/tollgate");
	// empty keeps them in SQLite under data_dir.
	PostgresDSN string `toml:"postgres_dsn"`
}

// Policy holds the protection checks' settings: the defaults for every
// tenant. Tenants' overrides (the API's PUT /tenants/{id}/policy) replace
// single keys of them. docs/configuration.md explains each one.
type Policy struct {
	// ConnectorProbationQuota is how many messages per UTC day a new
	// connector may relay until an admin confirms it with a TOTP step-up.
	ConnectorProbationQuota int64 `toml:"connector_probation_quota"`

	TenantWindow          Duration `toml:"tenant_window"`
	TenantSpamCount       int64    `toml:"tenant_spam_count"`
	TenantSpamRatio       float64  `toml:"tenant_spam_ratio"`
	UnregisteredPerDay    int64    `toml:"unregistered_per_day"`
	DSNPerDay             int64    `toml:"dsn_per_day"`
	UserMessagesPerMinute int64    `toml:"user_messages_per_minute"`
	UserRecipientsPerDay  int64    `toml:"user_recipients_per_day"`
	RecipientsPerMessage  int64    `toml:"recipients_per_message"`
	TenantExternalPerDay  int64    `toml:"tenant_external_per_day"`
	UserExternalPerHour   int64    `toml:"user_external_per_hour"`
	UserInternalPerHour   int64    `toml:"user_internal_per_hour"`
	UserDailyRecipients   int64    `toml:"user_daily_recipients"`
	UserSpamPerHour       int64    `toml:"user_spam_per_hour"`
	RestrictAction        string   `toml:"restrict_action"`
	SuppressionAction     string   `toml:"suppression_action"`
	ProbationQuota        int64    `toml:"probation_quota"`
	ProbationDays         int      `toml:"probation_days"`
	// The connector address space cap per tenant (policy.Settings).
	ConnectorIPv4Addresses int64   `toml:"connector_ipv4_addresses"`
	ConnectorIPv6Nets64    int64   `toml:"connector_ipv6_64s"`
	BulkCounts             bool    `toml:"bulk_counts"`
	BaselineMinMessages    int64   `toml:"baseline_min_messages"`
	BaselineDeparture      float64 `toml:"baseline_departure"`
	NoveltyRatio           float64 `toml:"novelty_ratio"`
	CampaignNewRecipients  int64   `toml:"campaign_new_recipients"`
	FeedbackMinVolume      int64   `toml:"feedback_min_volume"`
	BounceReviewRate       float64 `toml:"bounce_review_rate"`
	BouncePauseRate        float64 `toml:"bounce_pause_rate"`
	ComplaintReviewRate    float64 `toml:"complaint_review_rate"`
	ComplaintPauseRate     float64 `toml:"complaint_pause_rate"`
}

// Settings are the [policy] values as the checks take them.
func (p Policy) Settings() policy.Settings {
	return policy.Settings{
		TenantWindow: p.TenantWindow.Duration, TenantSpamCount: p.TenantSpamCount, TenantSpamRatio: p.TenantSpamRatio,
		UnregisteredPerDay: p.UnregisteredPerDay, DSNPerDay: p.DSNPerDay, UserMessagesPerMinute: p.UserMessagesPerMinute,
		UserRecipientsPerDay: p.UserRecipientsPerDay, RecipientsPerMessage: p.RecipientsPerMessage,
		TenantExternalPerDay: p.TenantExternalPerDay, UserExternalPerHour: p.UserExternalPerHour,
		UserInternalPerHour: p.UserInternalPerHour, UserDailyRecipients: p.UserDailyRecipients,
		UserSpamPerHour: p.UserSpamPerHour, RestrictAction: p.RestrictAction, SuppressionAction: p.SuppressionAction,
		ProbationQuota: p.ProbationQuota, ProbationDays: p.ProbationDays,
		ConnectorIPv4Addresses: p.ConnectorIPv4Addresses, ConnectorIPv6Nets64: p.ConnectorIPv6Nets64,
		BulkCounts: p.BulkCounts, BaselineMinMessages: p.BaselineMinMessages, BaselineDeparture: p.BaselineDeparture,
		NoveltyRatio: p.NoveltyRatio, CampaignNewRecipients: p.CampaignNewRecipients, FeedbackMinVolume: p.FeedbackMinVolume,
		BounceReviewRate: p.BounceReviewRate, BouncePauseRate: p.BouncePauseRate,
		ComplaintReviewRate: p.ComplaintReviewRate, ComplaintPauseRate: p.ComplaintPauseRate,
	}
}

// Reputation tunes the source-IP reputation behind 5.7.708.
type Reputation struct {
	// TrustedRanges are always of good reputation (the operator's own
	// networks; loopback in dev mode).
	TrustedRanges []string `toml:"trusted_ranges"`
	NewIPAge      Duration `toml:"new_ip_age"`
	MinMessages   int64    `toml:"min_messages"`
	PoorRatio     float64  `toml:"poor_ratio"`
	DNSBLZones    []string `toml:"dnsbl_zones"`
	DNSBLServer   string   `toml:"dnsbl_server"`
	DNSBLTimeout  Duration `toml:"dnsbl_timeout"`
}

// Classify selects the content classifier (docs/classifier.md).
type Classify struct {
	// Engine is "builtin" (the trained model shipped in the binary),
	// "rspamd", "fallback" (rspamd, the built-in engine when rspamd fails),
	// "both" (the worse of the two verdicts) or "off" (no verdicts: the
	// tenant threshold and spam limits never fire).
	Engine string `toml:"engine"`
	// Model is a model file from `tollgate classify train`; empty uses the
	// built-in model.
	Model string `toml:"model"`
	// MaxBytes is how much of each message the front end hands over.
	MaxBytes           int      `toml:"max_bytes"`
	SpamThreshold      float64  `toml:"spam_threshold"`
	BulkThreshold      int      `toml:"bulk_threshold"`
	CampaignWindow     Duration `toml:"campaign_window"`
	CampaignRecipients int64    `toml:"campaign_recipients"`
	MaxMIMEDepth       int      `toml:"max_mime_depth"`
	MaxMIMEParts       int      `toml:"max_mime_parts"`
	MaxDecodedBytes    int      `toml:"max_decoded_bytes"`
	RspamdURL          string   `toml:"rspamd_url"`
	RspamdPassword     string   `toml:"rspamd_password"`
	RspamdTimeout      Duration `toml:"rspamd_timeout"`
}

// Alerts says where alerts go (user restricted, limit exceeded, tenant
// blocked, connector created, suspicious connector activity).
type Alerts struct {
	// Email mails each alert to the tenant's admins and to OperatorEmails,
	// through Tollgate's own queue.
	Email          bool     `toml:"email"`
	From           string   `toml:"from"`
	OperatorEmails []string `toml:"operator_emails"`
	// WebhookURL receives each alert as signed JSON (docs/alerts.md).
	WebhookURL    string   `toml:"webhook_url"`
	WebhookSecret string   `toml:"webhook_secret"`
	DedupeWindow  Duration `toml:"dedupe_window"`
}

// Events sends each tenant's delivery events (delivered, deferred,
// bounced, complained, suppressed) to the tenant's webhook
// (docs/deliverability.md).
type Events struct {
	// QueueSize bounds each tenant's queue of unsent events; when its
	// receiver is down for long the oldest are dropped.
	QueueSize int `toml:"queue_size"`
	// AllowedInternalWebhooks are the reserved ranges (CIDRs) a webhook may
	// connect to; every other internal address is refused, so a tenant's
	// URL cannot probe the operator's network.
	AllowedInternalWebhooks []string `toml:"allowed_internal_webhooks"`
	// Webhooks are the tenants' receivers, one per tenant.
	Webhooks []EventWebhook `toml:"webhook"`
}

// EventWebhook is one tenant's delivery-event receiver.
type EventWebhook struct {
	Tenant string `toml:"tenant"` // the tenant's name
	URL    string `toml:"url"`
	Secret string `toml:"secret"` // signs each request; at least 16 characters
}

// Trace configures the stored message trace.
type Trace struct {
	// Retention is how long trace events are kept.
	Retention Duration `toml:"retention"`
	// UnattributedPerMinute is how many events of connections no tenant
	// is attributed to are kept whole per client address per minute;
	// the rest are counted in one summary event.
	UnattributedPerMinute int `toml:"unattributed_per_minute"`
	// UnattributedPerSecond bounds the same across all addresses.
	UnattributedPerSecond int `toml:"unattributed_per_second"`
}

// Feedback configures the delivery feedback and complaints evidence
// (docs/protection.md, "Delivery feedback and complaints").
type Feedback struct {
	// Address takes ARF complaint reports on the relay port from anyone,
	// for exactly this recipient (the address an operator registers with
	// mailbox providers' feedback loops); empty turns it off.
	Address string `toml:"address"`
	// MaxReportBytes bounds one report; larger ones get 552 5.3.4.
	MaxReportBytes int64 `toml:"max_report_bytes"`
	// ReportsPerHour bounds reports per source IP on the relay port.
	ReportsPerHour int64 `toml:"reports_per_hour"`
	// Window is how far back a tenant's feedback counts reach.
	Window Duration `toml:"window"`
}

// DKIM configures signing of tenants' mail for their verified domains
// (docs/deliverability.md).
type DKIM struct {
	// Enabled signs outbound mail and gives verified domains keys; it
	// needs the installation's DKIM key (KeyFile or TOLLGATE_DKIM_KEY).
	Enabled bool `toml:"enabled"`
	// KeyFile holds the 32-byte key (hex or base64) the private keys are
	// sealed with in the store; the environment variable TOLLGATE_DKIM_KEY
	// takes precedence. In dev mode one is made in data_dir/dkim-key.
	KeyFile string `toml:"key_file"`
	// CheckInterval is how often a node gives new verified domains keys
	// and looks up the records of keys not yet seen in DNS.
	CheckInterval Duration `toml:"check_interval"`
	// Refresh is how long a node signs with the keys it read before
	// reading them again (another node may have rotated them).
	Refresh Duration `toml:"refresh"`
}

// Counters selects where the sliding-window counts behind the limits live.
type Counters struct {
	// RedisURL shares the counts across a fleet
	// (redis://[:password@]host:port/db); empty keeps them in this node,
	// saved to data_dir/counters.
	RedisURL string `toml:"redis_url"`
	// Prefix namespaces Tollgate's Redis keys.
	Prefix string `toml:"prefix"`
	// SaveInterval is how often the embedded counts are written to disk.
	SaveInterval Duration `toml:"save_interval"`
}

// Listen names the addresses of the four listeners; an empty address turns a
// listener off.
type Listen struct {
	Relay       string `toml:"relay"`       // connectors (port 25 in production)
	Submission  string `toml:"submission"`  // STARTTLS + AUTH (587)
	Submissions string `toml:"submissions"` // implicit TLS + AUTH (465)
	Admin       string `toml:"admin"`       // admin HTTP: API, /metrics, /healthz, help pages
}

// Postfix turns on the front ends for a Postfix (or any MTA speaking
// these protocols) in front of Tollgate's policy: the policy-delegation
// service and the milter (docs/postfix.md). Empty addresses keep them off.
type Postfix struct {
	// PolicyListen is where check_policy_service connects (HOST:PORT).
	PolicyListen string `toml:"policy_listen"`
	// MilterListen is where smtpd_milters connects: HOST:PORT, or
	// unix:/path for a Unix socket (Postfix's milter client over TCP waits
	// about 40 ms a message on Nagle and delayed ACKs; a socket does not).
	MilterListen string `toml:"milter_listen"`
}

// TLS configures the server certificate. Empty files mean a self-signed
// certificate kept in the data directory, made on first start.
type TLS struct {
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// ClientCAFile holds the CA certificates (PEM) that sign tenants'
	// servers' client certificates, for certificate connectors. Empty
	// turns certificate connectors off.
	ClientCAFile string `toml:"client_ca_file"`
}

// SMTP holds the front end's limits. The defaults follow the hosted service
// and RFC 5321.
type SMTP struct {
	MaxMessageBytes     int64    `toml:"max_message_bytes"`
	MaxRecipients       int      `toml:"max_recipients"`
	MaxLineLength       int      `toml:"max_line_length"`
	MaxHeaderBytes      int      `toml:"max_header_bytes"`
	CommandTimeout      Duration `toml:"command_timeout"`
	WriteTimeout        Duration `toml:"write_timeout"`
	DataTimeout         Duration `toml:"data_timeout"`
	MinDataRate         int      `toml:"min_data_rate"`
	MaxSessionDuration  Duration `toml:"max_session_duration"`
	MaxConnections      int      `toml:"max_connections"`
	MaxConnectionsPerIP int      `toml:"max_connections_per_ip"`
	AuthFailureDelay    Duration `toml:"auth_failure_delay"`
	AuthMaxFailures     int      `toml:"auth_max_failures"`
	AuthFailureWindow   Duration `toml:"auth_failure_window"`
	// MaxConnectionsPerNetwork caps the connections of one IPv4 /24 or
	// IPv6 /48 (max_connections_per_ip counts an IPv4 address or an IPv6
	// /64).
	MaxConnectionsPerNetwork int `toml:"max_connections_per_network"`
	// UnattributedTimeout bounds every read of a connection no connector
	// or login has tied to a tenant yet: before the first command and
	// until AUTH.
	UnattributedTimeout Duration `toml:"unattributed_timeout"`
	// StressPercent of max_connections open puts the front end under
	// stress: every read deadline shrinks to StressTimeout and the error
	// limit to StressErrorLimit (Postfix's stress mode).
	StressPercent    int      `toml:"stress_percent"`
	StressTimeout    Duration `toml:"stress_timeout"`
	HardErrorLimit   int      `toml:"hard_error_limit"`
	StressErrorLimit int      `toml:"stress_error_limit"`
	// DataRateGrace is the head start before min_data_rate counts.
	DataRateGrace Duration `toml:"data_rate_grace"`
}

// Queue configures the durable spool and the retry schedule.
type Queue struct {
	// Dir defaults to <data_dir>/spool.
	Dir string `toml:"dir"`
	// RetrySchedule is the wait before each further attempt; the last entry
	// repeats until MaxAge.
	RetrySchedule []Duration `toml:"retry_schedule"`
	MaxAge        Duration   `toml:"max_age"`
	Workers       int        `toml:"workers"`
	// MinFreeBytes and MinFreePercent are the spool disk's floor: below
	// either, MAIL gets 452 4.3.1 and /healthz answers 503. Zero turns
	// that floor off.
	MinFreeBytes   int64   `toml:"min_free_bytes"`
	MinFreePercent float64 `toml:"min_free_percent"`
}

// Delivery configures the SMTP client side.
type Delivery struct {
	// Smarthost, when set (HOST:PORT), receives all mail instead of MX lookup.
	Smarthost string `toml:"smarthost"`
	// Resolver is the DNS server (HOST:PORT) for MX lookups; empty uses the
	// system resolver.
	Resolver string `toml:"resolver"`
	// Port is the port dialled on MX hosts (25; tests point it elsewhere).
	Port               int             `toml:"port"`
	ConnectTimeout     Duration        `toml:"connect_timeout"`
	CommandTimeout     Duration        `toml:"command_timeout"`
	DataTimeout        Duration        `toml:"data_timeout"`
	MaxPerDestination  int             `toml:"max_per_destination"`
	IdleTimeout        Duration        `toml:"idle_timeout"`
	MaxMessagesPerConn int             `toml:"max_messages_per_connection"`
	RequireTLS         bool            `toml:"require_tls"`
	VerifyTLS          bool            `toml:"verify_tls"`
	Pools              map[string]Pool `toml:"pools"`
	// AllowedInternalNextHops are the internal or reserved ranges (CIDRs
	// or single addresses) MX and A results may point at: loopback,
	// private, link-local, CGNAT and metadata addresses are refused
	// otherwise. The smarthost is always allowed.
	AllowedInternalNextHops []string `toml:"allowed_internal_next_hops"`
}

// Pool is a set of source addresses that outbound connections bind to. The
// "normal" pool carries clean mail; "high-risk" carries DSNs and mail the
// classifier flags, so that its reputation never touches the normal pool's.
type Pool struct {
	SourceAddresses []string `toml:"source_addresses"`
}

// Admin configures the admin HTTP port.
type Admin struct {
	// TokenFile holds the bearer token the API accepts until the directory's
	// admin accounts take over; defaults to <data_dir>/admin-token.
	TokenFile string `toml:"token_file"`
	// PublicURL is the base of links in replies and DSNs (help pages).
	PublicURL string `toml:"public_url"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Duration is a time.Duration written as "30s", "5m" or "1h30m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (use e.g. 30s, 5m, 1h): %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// D is shorthand for a Duration literal.
func D(v time.Duration) Duration { return Duration{v} }

// Load reads a TOML file over the defaults.
func Load(path string) (*Config, error) {
	c := Default()
	if err := c.LoadFile(path); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadFile reads a TOML file over c. Unknown keys are an error that names
// them, so a typo never silently leaves a default in force.
func (c *Config) LoadFile(path string) error {
	md, err := toml.DecodeFile(path, c)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("config %s: unknown key %s", path, strings.Join(keys, ", "))
	}
	return nil
}

// Finish fills the values that derive from others (paths under the data
// directory) and validates the result.
func (c *Config) Finish() error {
	if c.DataDir == "" {
		return errors.New("config: data_dir: must not be empty")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("config: data_dir: %w", err)
	}
	c.DataDir = abs
	if c.Queue.Dir == "" {
		c.Queue.Dir = filepath.Join(c.DataDir, "spool")
	}
	if c.Admin.TokenFile == "" {
		c.Admin.TokenFile = filepath.Join(c.DataDir, "admin-token")
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		c.Hostname = h
	}
	if c.Admin.PublicURL == "" && c.Listen.Admin != "" {
		c.Admin.PublicURL = "http://" + c.Listen.Admin
	}
	return c.Validate()
}

// Validate checks every key and names the first bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key string, format string, a ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, a...)))
	}
	for key, addr := range map[string]string{
		"listen.relay": c.Listen.Relay, "listen.submission": c.Listen.Submission,
		"listen.submissions": c.Listen.Submissions, "listen.admin": c.Listen.Admin,
		"postfix.policy_listen": c.Postfix.PolicyListen,
	} {
		if addr != "" && !validHostPort(addr) {
			bad(key, "%q is not HOST:PORT", addr)
		}
	}
	if m := c.Postfix.MilterListen; m != "" && !validHostPort(m) && !(strings.HasPrefix(m, "unix:/") && len(m) > len("unix:/")) {
		bad("postfix.milter_listen", "%q is neither HOST:PORT nor unix:/absolute/path", m)
	}
	if c.Listen.Relay == "" && c.Listen.Submission == "" && c.Listen.Submissions == "" {
		bad("listen", "no SMTP listener: set listen.relay, listen.submission or listen.submissions")
	}
	if d := c.Store.PostgresDSN; d != "" && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
		bad("store.postgres_dsn", "must be a postgres:// or postgresql:// URL")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls", "cert_file and key_file go together")
	}
	if c.Hostname != "" && strings.ContainsAny(c.Hostname, " \t\r\n<>") {
		bad("hostname", "%q is not a host name", c.Hostname)
	}
	positive := []struct {
		key string
		v   int64
	}{
		{"smtp.max_message_bytes", c.SMTP.MaxMessageBytes},
		{"smtp.max_recipients", int64(c.SMTP.MaxRecipients)},
		{"smtp.max_header_bytes", int64(c.SMTP.MaxHeaderBytes)},
		{"smtp.min_data_rate", int64(c.SMTP.MinDataRate)},
		{"smtp.max_connections", int64(c.SMTP.MaxConnections)},
		{"smtp.max_connections_per_ip", int64(c.SMTP.MaxConnectionsPerIP)},
		{"smtp.auth_max_failures", int64(c.SMTP.AuthMaxFailures)},
		{"smtp.max_connections_per_network", int64(c.SMTP.MaxConnectionsPerNetwork)},
		{"smtp.hard_error_limit", int64(c.SMTP.HardErrorLimit)},
		{"smtp.stress_error_limit", int64(c.SMTP.StressErrorLimit)},
		{"trace.unattributed_per_minute", int64(c.Trace.UnattributedPerMinute)},
		{"trace.unattributed_per_second", int64(c.Trace.UnattributedPerSecond)},
		{"queue.workers", int64(c.Queue.Workers)},
		{"delivery.port", int64(c.Delivery.Port)},
		{"delivery.max_per_destination", int64(c.Delivery.MaxPerDestination)},
		{"delivery.max_messages_per_connection", int64(c.Delivery.MaxMessagesPerConn)},
	}
	for _, p := range positive {
		if p.v <= 0 {
			bad(p.key, "must be greater than 0, got %d", p.v)
		}
	}
	if err := c.Policy.Settings().Validate(); err != nil {
		bad("policy."+strings.SplitN(err.Error(), " ", 2)[0], "%s", strings.SplitN(err.Error(), " ", 2)[1])
	}
	if c.Counters.RedisURL != "" {
		if _, err := redis.ParseURL(c.Counters.RedisURL); err != nil {
			bad("counters.redis_url", "%v", err)
		}
	}
	for i, r := range c.Reputation.TrustedRanges {
		if _, err := netip.ParsePrefix(r); err != nil {
			if _, err := netip.ParseAddr(r); err != nil {
				bad(fmt.Sprintf("reputation.trusted_ranges[%d]", i), "%q is not an IP address or CIDR range", r)
			}
		}
	}
	if c.Reputation.NewIPAge.Duration < 0 {
		bad("reputation.new_ip_age", "must not be negative")
	}
	if c.Reputation.MinMessages < 0 {
		bad("reputation.min_messages", "must not be negative")
	}
	if c.Reputation.PoorRatio < 0 || c.Reputation.PoorRatio > 1 {
		bad("reputation.poor_ratio", "must be in [0, 1], got %v", c.Reputation.PoorRatio)
	}
	if c.Reputation.DNSBLServer != "" && !validHostPort(c.Reputation.DNSBLServer) {
		bad("reputation.dnsbl_server", "%q is not HOST:PORT", c.Reputation.DNSBLServer)
	}
	if c.Reputation.DNSBLTimeout.Duration <= 0 {
		bad("reputation.dnsbl_timeout", "must be a positive duration, got %s", c.Reputation.DNSBLTimeout)
	}
	switch c.Classify.Engine {
	case "builtin", "off":
	case "rspamd", "fallback", "both":
		if u, err := url.Parse(c.Classify.RspamdURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("classify.rspamd_url", "%q is not an http(s) URL (needed by engine %q)", c.Classify.RspamdURL, c.Classify.Engine)
		}
	default:
		bad("classify.engine", "must be builtin, rspamd, fallback, both or off, got %q", c.Classify.Engine)
	}
	if c.Classify.RspamdTimeout.Duration <= 0 {
		bad("classify.rspamd_timeout", "must be a positive duration, got %s", c.Classify.RspamdTimeout)
	}
	if c.Classify.BulkThreshold < 1 || c.Classify.BulkThreshold > 9 {
		bad("classify.bulk_threshold", "must be in 1..9, got %d", c.Classify.BulkThreshold)
	}
	if c.Classify.CampaignWindow.Duration <= 0 {
		bad("classify.campaign_window", "must be a positive duration, got %s", c.Classify.CampaignWindow)
	}
	if c.Classify.CampaignRecipients < 1 {
		bad("classify.campaign_recipients", "must be at least 1, got %d", c.Classify.CampaignRecipients)
	}
	if c.Classify.MaxMIMEDepth < 1 || c.Classify.MaxMIMEParts < 1 || c.Classify.MaxDecodedBytes < 4096 {
		bad("classify.max_mime_depth", "max_mime_depth and max_mime_parts must be at least 1 and max_decoded_bytes at least 4096")
	}
	if c.Classify.MaxBytes < 4096 || c.Classify.MaxBytes > 4<<20 {
		bad("classify.max_bytes", "must be in 4096..4194304 (the classifier's time and memory grow with it), got %d", c.Classify.MaxBytes)
	}
	if c.Events.QueueSize < 1 {
		bad("events.queue_size", "must be at least 1, got %d", c.Events.QueueSize)
	}
	if _, err := nexthop.ParsePrefixes(c.Events.AllowedInternalWebhooks); err != nil {
		bad("events.allowed_internal_webhooks", "%v", err)
	}
	seenHook := map[string]bool{}
	for i, h := range c.Events.Webhooks {
		switch {
		case strings.TrimSpace(h.Tenant) == "":
			bad(fmt.Sprintf("events.webhook[%d].tenant", i), "must name the tenant")
		case seenHook[h.Tenant]:
			bad(fmt.Sprintf("events.webhook[%d].tenant", i), "tenant %q has a webhook already", h.Tenant)
		case len(h.Secret) < 16:
			bad(fmt.Sprintf("events.webhook[%d].secret", i), "must be at least 16 characters")
		}
		if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(fmt.Sprintf("events.webhook[%d].url", i), "%q is not an http(s) URL", h.URL)
		}
		seenHook[h.Tenant] = true
	}
	if c.Alerts.WebhookURL != "" && len(c.Alerts.WebhookSecret) < 16 {
		bad("alerts.webhook_secret", "must be at least 16 characters when alerts.webhook_url is set")
	}
	if c.Alerts.DedupeWindow.Duration <= 0 {
		bad("alerts.dedupe_window", "must be a positive duration, got %s", c.Alerts.DedupeWindow)
	}
	if c.Trace.Retention.Duration < time.Hour {
		bad("trace.retention", "must be at least 1h, got %s", c.Trace.Retention)
	}
	if a := c.Feedback.Address; a != "" {
		at := strings.LastIndexByte(a, '@')
		if at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " \t<>\"(),;:\\[]") {
			bad("feedback.address", "%q is not a plain local@domain address", a)
		}
	}
	if c.Feedback.MaxReportBytes < 4096 || c.Feedback.MaxReportBytes > 64<<20 {
		bad("feedback.max_report_bytes", "must be in 4096..67108864 (a report is read into memory), got %d", c.Feedback.MaxReportBytes)
	}
	if c.Feedback.ReportsPerHour < 1 {
		bad("feedback.reports_per_hour", "must be at least 1, got %d", c.Feedback.ReportsPerHour)
	}
	if c.Feedback.Window.Duration < time.Hour {
		bad("feedback.window", "must be at least 1h, got %s", c.Feedback.Window)
	}
	if c.DKIM.CheckInterval.Duration < time.Second {
		bad("dkim.check_interval", "must be at least 1s, got %s", c.DKIM.CheckInterval)
	}
	if c.DKIM.Refresh.Duration < 0 || c.DKIM.Refresh.Duration > time.Hour {
		bad("dkim.refresh", "must be in 0s..1h, got %s", c.DKIM.Refresh)
	}
	if c.Counters.SaveInterval.Duration <= 0 {
		bad("counters.save_interval", "must be a positive duration, got %s", c.Counters.SaveInterval)
	}
	if c.Policy.ConnectorProbationQuota < 0 {
		bad("policy.connector_probation_quota", "must not be negative, got %d", c.Policy.ConnectorProbationQuota)
	}
	if c.SMTP.MaxRecipients > 1000 {
		bad("smtp.max_recipients", "must be at most 1000, got %d", c.SMTP.MaxRecipients)
	}
	if c.SMTP.MaxLineLength < 1000 {
		bad("smtp.max_line_length", "must be at least 1000 (RFC 5321 text lines), got %d", c.SMTP.MaxLineLength)
	}
	if c.Delivery.Port > 65535 {
		bad("delivery.port", "must be a port number, got %d", c.Delivery.Port)
	}
	durations := []struct {
		key string
		v   Duration
	}{
		{"smtp.command_timeout", c.SMTP.CommandTimeout},
		{"smtp.write_timeout", c.SMTP.WriteTimeout},
		{"smtp.data_timeout", c.SMTP.DataTimeout},
		{"smtp.max_session_duration", c.SMTP.MaxSessionDuration},
		{"smtp.auth_failure_window", c.SMTP.AuthFailureWindow},
		{"smtp.unattributed_timeout", c.SMTP.UnattributedTimeout},
		{"smtp.stress_timeout", c.SMTP.StressTimeout},
		{"queue.max_age", c.Queue.MaxAge},
		{"delivery.connect_timeout", c.Delivery.ConnectTimeout},
		{"delivery.command_timeout", c.Delivery.CommandTimeout},
		{"delivery.data_timeout", c.Delivery.DataTimeout},
		{"delivery.idle_timeout", c.Delivery.IdleTimeout},
	}
	for _, d := range durations {
		if d.v.Duration <= 0 {
			bad(d.key, "must be a positive duration, got %s", d.v)
		}
	}
	if c.SMTP.StressPercent < 1 || c.SMTP.StressPercent > 100 {
		bad("smtp.stress_percent", "must be in 1..100, got %d", c.SMTP.StressPercent)
	}
	if c.SMTP.DataRateGrace.Duration < 0 {
		bad("smtp.data_rate_grace", "must not be negative")
	}
	if c.Queue.MinFreeBytes < 0 {
		bad("queue.min_free_bytes", "must not be negative, got %d", c.Queue.MinFreeBytes)
	}
	if c.Queue.MinFreePercent < 0 || c.Queue.MinFreePercent >= 100 {
		bad("queue.min_free_percent", "must be in [0, 100), got %v", c.Queue.MinFreePercent)
	}
	if c.SMTP.AuthFailureDelay.Duration < 0 {
		bad("smtp.auth_failure_delay", "must not be negative")
	}
	if len(c.Queue.RetrySchedule) == 0 {
		bad("queue.retry_schedule", "needs at least one interval")
	}
	for i, d := range c.Queue.RetrySchedule {
		if d.Duration <= 0 {
			bad(fmt.Sprintf("queue.retry_schedule[%d]", i), "must be a positive duration, got %s", d)
		}
	}
	if c.Delivery.Smarthost != "" && !validHostPort(c.Delivery.Smarthost) {
		bad("delivery.smarthost", "%q is not HOST:PORT", c.Delivery.Smarthost)
	}
	if c.Delivery.Resolver != "" && !validHostPort(c.Delivery.Resolver) {
		bad("delivery.resolver", "%q is not HOST:PORT", c.Delivery.Resolver)
	}
	if _, err := nexthop.ParsePrefixes(c.Delivery.AllowedInternalNextHops); err != nil {
		bad("delivery.allowed_internal_next_hops", "%v", err)
	}
	for name, p := range c.Delivery.Pools {
		if pool := policy.Pool(name); pool != policy.PoolNormal && pool != policy.PoolHighRisk {
			bad("delivery.pools."+name, "unknown pool (known: normal, high-risk)")
		}
		for i, a := range p.SourceAddresses {
			if _, err := netip.ParseAddr(a); err != nil {
				bad(fmt.Sprintf("delivery.pools.%s.source_addresses[%d]", name, i), "%q is not an IP address", a)
			}
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not one of text, json", c.Log.Format)
	}
	return errors.Join(errs...)
}

func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return false
	}
	return !strings.ContainsAny(host, " \t/")
}

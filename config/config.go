// Package config holds Tollgate's configuration: the TOML file, its documented
// defaults, and the validation that runs before anything listens.
//
// Every key is described in docs/configuration.md. Unknown keys are errors, so
// a typo never silently falls back to a default.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
//
// The thresholds are policy.Settings itself, embedded: its toml tags are
// the [policy] keys, so the checks take exactly what the file said, with no
// second list of fields to keep in step.
type Policy struct {
	// ConnectorProbationQuota is how many messages per UTC day a new
	// connector may relay until an admin confirms it with a TOTP step-up.
	ConnectorProbationQuota int64 `toml:"connector_probation_quota"`

	policy.Settings
}

// Reputation tunes the source-IP reputation behind 5.7.708.
type Reputation struct {
	// TrustedRanges are always of good reputation (the operator's own
	// networks; loopback in dev mode).
	TrustedRanges Prefixes `toml:"trusted_ranges"`
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
	// FailedRetention is how long an event whose sends all failed is kept
	// for a tenant admin to redeliver.
	FailedRetention Duration `toml:"failed_retention"`
	// FailedPerTenant bounds the failed events kept per tenant; beyond it
	// the oldest go.
	FailedPerTenant int `toml:"failed_per_tenant"`
	// AllowedInternalWebhooks are the reserved ranges (CIDRs) a webhook may
	// connect to; every other internal address is refused, so a tenant's
	// URL cannot probe the operator's network.
	AllowedInternalWebhooks Prefixes `toml:"allowed_internal_webhooks"`
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
	AllowedInternalNextHops Prefixes `toml:"allowed_internal_next_hops"`
}

// Pool is a set of source addresses that outbound connections bind to. The
// "normal" pool carries clean mail; "high-risk" carries DSNs and mail the
// classifier flags, so that its reputation never touches the normal pool's.
// Other names are dedicated pools an operator gives a tenant or connector.
type Pool struct {
	SourceAddresses Addrs `toml:"source_addresses"`
	// MaxPerDestination caps this pool's concurrent transactions per
	// destination; 0 takes delivery.max_per_destination. A new address
	// being warmed up wants a lower cap than the shared pools.
	MaxPerDestination int `toml:"max_per_destination"`
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
	var perr toml.ParseError
	if errors.As(err, &perr) && perr.LastKey != "" {
		// A value of the wrong type or form (a duration, an address):
		// name the key and the line, as Validate names its keys.
		return fmt.Errorf("config %s: line %d: %s: %s", path, perr.Position.Line, perr.LastKey, perr.Message)
	}
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

package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-mail/tollgate/policy"
)

// problems gathers the bad keys of one validation, each named in full
// ("smtp.max_recipients: must be at most 1000").
type problems struct{ errs []error }

func (p *problems) bad(key string, format string, a ...any) {
	p.errs = append(p.errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, a...)))
}

// positive reports key unless v > 0.
func (p *problems) positive(key string, v int64) {
	if v <= 0 {
		p.bad(key, "must be greater than 0, got %d", v)
	}
}

// duration reports key unless d > 0.
func (p *problems) duration(key string, d Duration) {
	if d.Duration <= 0 {
		p.bad(key, "must be a positive duration, got %s", d)
	}
}

// hostPort reports key unless addr is empty or HOST:PORT.
func (p *problems) hostPort(key, addr string) {
	if addr != "" && !validHostPort(addr) {
		p.bad(key, "%q is not HOST:PORT", addr)
	}
}

// Validate checks every key, section by section, and names each bad one.
// The typed values (durations, addresses, ranges) were parsed when the
// file was read; what is left are ranges and relations between keys.
func (c *Config) Validate() error {
	p := &problems{}
	if c.Hostname != "" && strings.ContainsAny(c.Hostname, " \t\r\n<>") {
		p.bad("hostname", "%q is not a host name", c.Hostname)
	}
	c.Store.validate(p)
	c.Policy.validate(p)
	c.Counters.validate(p)
	c.Reputation.validate(p)
	c.Classify.validate(p)
	c.Trace.validate(p)
	c.Feedback.validate(p)
	c.DKIM.validate(p)
	c.Alerts.validate(p)
	c.Events.validate(p)
	c.Listen.validate(p)
	c.Postfix.validate(p)
	c.TLS.validate(p)
	c.SMTP.validate(p)
	c.Queue.validate(p)
	c.Delivery.validate(p)
	c.Log.validate(p)
	return errors.Join(p.errs...)
}

func (s Store) validate(p *problems) {
	if d := s.PostgresDSN; d != "" && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
		p.bad("store.postgres_dsn", "must be a postgres:// or postgresql:// URL")
	}
}

func (s Policy) validate(p *problems) {
	if err := s.Settings.Validate(); err != nil {
		// policy.Settings names its field by its key first.
		key, msg, _ := strings.Cut(err.Error(), " ")
		p.bad("policy."+key, "%s", msg)
	}
	if s.ConnectorProbationQuota < 0 {
		p.bad("policy.connector_probation_quota", "must not be negative, got %d", s.ConnectorProbationQuota)
	}
}

func (s Counters) validate(p *problems) {
	if s.RedisURL != "" {
		if _, err := redis.ParseURL(s.RedisURL); err != nil {
			p.bad("counters.redis_url", "%v", err)
		}
	}
	p.duration("counters.save_interval", s.SaveInterval)
}

func (s Reputation) validate(p *problems) {
	if s.NewIPAge.Duration < 0 {
		p.bad("reputation.new_ip_age", "must not be negative")
	}
	if s.MinMessages < 0 {
		p.bad("reputation.min_messages", "must not be negative")
	}
	if s.PoorRatio < 0 || s.PoorRatio > 1 {
		p.bad("reputation.poor_ratio", "must be in [0, 1], got %v", s.PoorRatio)
	}
	p.hostPort("reputation.dnsbl_server", s.DNSBLServer)
	p.duration("reputation.dnsbl_timeout", s.DNSBLTimeout)
}

func (s Classify) validate(p *problems) {
	switch s.Engine {
	case "builtin", "off":
	case "rspamd", "fallback", "both":
		if u, err := url.Parse(s.RspamdURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.bad("classify.rspamd_url", "%q is not an http(s) URL (needed by engine %q)", s.RspamdURL, s.Engine)
		}
	default:
		p.bad("classify.engine", "must be builtin, rspamd, fallback, both or off, got %q", s.Engine)
	}
	p.duration("classify.rspamd_timeout", s.RspamdTimeout)
	if s.BulkThreshold < 1 || s.BulkThreshold > 9 {
		p.bad("classify.bulk_threshold", "must be in 1..9, got %d", s.BulkThreshold)
	}
	p.duration("classify.campaign_window", s.CampaignWindow)
	if s.CampaignRecipients < 1 {
		p.bad("classify.campaign_recipients", "must be at least 1, got %d", s.CampaignRecipients)
	}
	if s.MaxMIMEDepth < 1 || s.MaxMIMEParts < 1 || s.MaxDecodedBytes < 4096 {
		p.bad("classify.max_mime_depth", "max_mime_depth and max_mime_parts must be at least 1 and max_decoded_bytes at least 4096")
	}
	if s.MaxBytes < 4096 || s.MaxBytes > 4<<20 {
		p.bad("classify.max_bytes", "must be in 4096..4194304 (the classifier's time and memory grow with it), got %d", s.MaxBytes)
	}
}

func (s Trace) validate(p *problems) {
	if s.Retention.Duration < time.Hour {
		p.bad("trace.retention", "must be at least 1h, got %s", s.Retention)
	}
	p.positive("trace.unattributed_per_minute", int64(s.UnattributedPerMinute))
	p.positive("trace.unattributed_per_second", int64(s.UnattributedPerSecond))
}

func (s Feedback) validate(p *problems) {
	if a := s.Address; a != "" {
		at := strings.LastIndexByte(a, '@')
		if at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " \t<>\"(),;:\\[]") {
			p.bad("feedback.address", "%q is not a plain local@domain address", a)
		}
	}
	if s.MaxReportBytes < 4096 || s.MaxReportBytes > 64<<20 {
		p.bad("feedback.max_report_bytes", "must be in 4096..67108864 (a report is read into memory), got %d", s.MaxReportBytes)
	}
	if s.ReportsPerHour < 1 {
		p.bad("feedback.reports_per_hour", "must be at least 1, got %d", s.ReportsPerHour)
	}
	if s.Window.Duration < time.Hour {
		p.bad("feedback.window", "must be at least 1h, got %s", s.Window)
	}
}

func (s DKIM) validate(p *problems) {
	if s.CheckInterval.Duration < time.Second {
		p.bad("dkim.check_interval", "must be at least 1s, got %s", s.CheckInterval)
	}
	if s.Refresh.Duration < 0 || s.Refresh.Duration > time.Hour {
		p.bad("dkim.refresh", "must be in 0s..1h, got %s", s.Refresh)
	}
}

func (s Alerts) validate(p *problems) {
	if s.WebhookURL != "" && len(s.WebhookSecret) < 16 {
		p.bad("alerts.webhook_secret", "must be at least 16 characters when alerts.webhook_url is set")
	}
	p.duration("alerts.dedupe_window", s.DedupeWindow)
}

func (s Events) validate(p *problems) {
	if s.QueueSize < 1 {
		p.bad("events.queue_size", "must be at least 1, got %d", s.QueueSize)
	}
	p.duration("events.failed_retention", s.FailedRetention)
	if s.FailedPerTenant < 1 {
		p.bad("events.failed_per_tenant", "must be at least 1, got %d", s.FailedPerTenant)
	}
	seen := map[string]bool{}
	for i, h := range s.Webhooks {
		switch {
		case strings.TrimSpace(h.Tenant) == "":
			p.bad(fmt.Sprintf("events.webhook[%d].tenant", i), "must name the tenant")
		case seen[h.Tenant]:
			p.bad(fmt.Sprintf("events.webhook[%d].tenant", i), "tenant %q has a webhook already", h.Tenant)
		case len(h.Secret) < 16:
			p.bad(fmt.Sprintf("events.webhook[%d].secret", i), "must be at least 16 characters")
		}
		if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.bad(fmt.Sprintf("events.webhook[%d].url", i), "%q is not an http(s) URL", h.URL)
		}
		seen[h.Tenant] = true
	}
}

func (s Listen) validate(p *problems) {
	p.hostPort("listen.relay", s.Relay)
	p.hostPort("listen.submission", s.Submission)
	p.hostPort("listen.submissions", s.Submissions)
	p.hostPort("listen.admin", s.Admin)
	if s.Relay == "" && s.Submission == "" && s.Submissions == "" {
		p.bad("listen", "no SMTP listener: set listen.relay, listen.submission or listen.submissions")
	}
}

func (s Postfix) validate(p *problems) {
	p.hostPort("postfix.policy_listen", s.PolicyListen)
	if m := s.MilterListen; m != "" && !validHostPort(m) && !(strings.HasPrefix(m, "unix:/") && len(m) > len("unix:/")) {
		p.bad("postfix.milter_listen", "%q is neither HOST:PORT nor unix:/absolute/path", m)
	}
}

func (s TLS) validate(p *problems) {
	if (s.CertFile == "") != (s.KeyFile == "") {
		p.bad("tls", "cert_file and key_file go together")
	}
}

func (s SMTP) validate(p *problems) {
	p.positive("smtp.max_message_bytes", s.MaxMessageBytes)
	p.positive("smtp.max_recipients", int64(s.MaxRecipients))
	if s.MaxRecipients > 1000 {
		p.bad("smtp.max_recipients", "must be at most 1000, got %d", s.MaxRecipients)
	}
	if s.MaxLineLength < 1000 {
		p.bad("smtp.max_line_length", "must be at least 1000 (RFC 5321 text lines), got %d", s.MaxLineLength)
	}
	p.positive("smtp.max_header_bytes", int64(s.MaxHeaderBytes))
	p.positive("smtp.min_data_rate", int64(s.MinDataRate))
	p.positive("smtp.max_connections", int64(s.MaxConnections))
	p.positive("smtp.max_connections_per_ip", int64(s.MaxConnectionsPerIP))
	p.positive("smtp.auth_max_failures", int64(s.AuthMaxFailures))
	p.positive("smtp.max_connections_per_network", int64(s.MaxConnectionsPerNetwork))
	p.positive("smtp.hard_error_limit", int64(s.HardErrorLimit))
	p.positive("smtp.stress_error_limit", int64(s.StressErrorLimit))
	p.duration("smtp.command_timeout", s.CommandTimeout)
	p.duration("smtp.write_timeout", s.WriteTimeout)
	p.duration("smtp.data_timeout", s.DataTimeout)
	p.duration("smtp.max_session_duration", s.MaxSessionDuration)
	p.duration("smtp.auth_failure_window", s.AuthFailureWindow)
	p.duration("smtp.unattributed_timeout", s.UnattributedTimeout)
	p.duration("smtp.stress_timeout", s.StressTimeout)
	if s.StressPercent < 1 || s.StressPercent > 100 {
		p.bad("smtp.stress_percent", "must be in 1..100, got %d", s.StressPercent)
	}
	if s.DataRateGrace.Duration < 0 {
		p.bad("smtp.data_rate_grace", "must not be negative")
	}
	if s.AuthFailureDelay.Duration < 0 {
		p.bad("smtp.auth_failure_delay", "must not be negative")
	}
}

func (s Queue) validate(p *problems) {
	p.positive("queue.workers", int64(s.Workers))
	p.duration("queue.max_age", s.MaxAge)
	if s.MinFreeBytes < 0 {
		p.bad("queue.min_free_bytes", "must not be negative, got %d", s.MinFreeBytes)
	}
	if s.MinFreePercent < 0 || s.MinFreePercent >= 100 {
		p.bad("queue.min_free_percent", "must be in [0, 100), got %v", s.MinFreePercent)
	}
	if len(s.RetrySchedule) == 0 {
		p.bad("queue.retry_schedule", "needs at least one interval")
	}
	for i, d := range s.RetrySchedule {
		p.duration(fmt.Sprintf("queue.retry_schedule[%d]", i), d)
	}
}

func (s Delivery) validate(p *problems) {
	p.positive("delivery.port", int64(s.Port))
	if s.Port > 65535 {
		p.bad("delivery.port", "must be a port number, got %d", s.Port)
	}
	p.positive("delivery.max_per_destination", int64(s.MaxPerDestination))
	p.positive("delivery.max_messages_per_connection", int64(s.MaxMessagesPerConn))
	p.duration("delivery.connect_timeout", s.ConnectTimeout)
	p.duration("delivery.command_timeout", s.CommandTimeout)
	p.duration("delivery.data_timeout", s.DataTimeout)
	p.duration("delivery.idle_timeout", s.IdleTimeout)
	p.hostPort("delivery.smarthost", s.Smarthost)
	p.hostPort("delivery.resolver", s.Resolver)
	for name, pool := range s.Pools {
		key := "delivery.pools." + name
		shared := policy.Pool(name) == policy.PoolNormal || policy.Pool(name) == policy.PoolHighRisk
		switch {
		case !policy.ValidPoolName(name):
			p.bad(key, "pool name must be 1 to 32 lowercase letters, digits or '-'")
		case !shared && len(pool.SourceAddresses) == 0:
			p.bad(key+".source_addresses", "a dedicated pool needs at least one source address")
		}
		if pool.MaxPerDestination < 0 {
			p.bad(key+".max_per_destination", "must not be negative (0 takes delivery.max_per_destination)")
		}
		for i, a := range pool.SourceAddresses {
			if !a.IsValid() {
				p.bad(fmt.Sprintf("delivery.pools.%s.source_addresses[%d]", name, i), "is not an IP address")
			}
		}
	}
}

func (s Log) validate(p *problems) {
	switch s.Level {
	case "debug", "info", "warn", "error":
	default:
		p.bad("log.level", "%q is not one of debug, info, warn, error", s.Level)
	}
	switch s.Format {
	case "text", "json":
	default:
		p.bad("log.format", "%q is not one of text, json", s.Format)
	}
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

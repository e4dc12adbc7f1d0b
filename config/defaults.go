package config

import (
	"net/netip"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// Default returns the production defaults. docs/configuration.md lists each
// one; keep the two in step (a test checks that every key is documented).
func Default() *Config {
	return &Config{
		DataDir: "/var/lib/tollgate",
		Listen: Listen{
			Relay:       ":25",
			Submission:  ":587",
			Submissions: ":465",
			Admin:       "127.0.0.1:8025",
		},
		SMTP: SMTP{
			MaxMessageBytes:     35 << 20, // the hosted service's default
			MaxRecipients:       500,
			MaxLineLength:       2000, // RFC 5321's 1000, doubled as go-smtp and Postfix (2048) allow
			MaxHeaderBytes:      1 << 20,
			CommandTimeout:      D(5 * time.Minute), // RFC 5321 4.5.3.2.7
			WriteTimeout:        D(1 * time.Minute),
			DataTimeout:         D(10 * time.Minute),
			MinDataRate:         1024, // bytes/s once DATA starts; slower senders are cut off
			MaxSessionDuration:  D(30 * time.Minute),
			MaxConnections:      1000,
			MaxConnectionsPerIP: 50,
			AuthFailureDelay:    D(2 * time.Second),
			AuthMaxFailures:     5,
			AuthFailureWindow:   D(15 * time.Minute),
			// The defences against floods and idle connections
			// (docs/operations.md, Security).
			MaxConnectionsPerNetwork: 200,
			UnattributedTimeout:      D(30 * time.Second),
			StressPercent:            80,
			StressTimeout:            D(10 * time.Second), // Postfix's ${stress?10}
			HardErrorLimit:           20,                  // Postfix's smtpd_hard_error_limit
			StressErrorLimit:         1,
			DataRateGrace:            D(30 * time.Second),
		},
		Queue: Queue{
			RetrySchedule: []Duration{D(time.Minute), D(5 * time.Minute), D(15 * time.Minute),
				D(30 * time.Minute), D(time.Hour), D(2 * time.Hour), D(4 * time.Hour)},
			MaxAge:         D(5 * 24 * time.Hour), // Postfix's maximal_queue_lifetime
			Workers:        64,
			MinFreeBytes:   512 << 20,
			MinFreePercent: 1,
		},
		Delivery: Delivery{
			Port:               25,
			ConnectTimeout:     D(30 * time.Second),
			CommandTimeout:     D(5 * time.Minute),
			DataTimeout:        D(10 * time.Minute),
			MaxPerDestination:  20,
			IdleTimeout:        D(30 * time.Second),
			MaxMessagesPerConn: 100,
			Pools:              map[string]Pool{},
		},
		Policy:   defaultPolicy(),
		Counters: Counters{Prefix: "tollgate:", SaveInterval: D(10 * time.Second)},
		Reputation: Reputation{NewIPAge: D(24 * time.Hour), MinMessages: 100, PoorRatio: 0.3,
			DNSBLTimeout: D(time.Second)},
		Classify: Classify{Engine: "builtin", MaxBytes: 512 << 10, BulkThreshold: 5,
			CampaignWindow: D(time.Hour), CampaignRecipients: 200, MaxMIMEDepth: 10, MaxMIMEParts: 100,
			MaxDecodedBytes: 256 << 10, RspamdURL: "http://127.0.0.1:11333", RspamdTimeout: D(2 * time.Second)},
		Trace:    Trace{Retention: D(30 * 24 * time.Hour), UnattributedPerMinute: 30, UnattributedPerSecond: 100},
		Feedback: Feedback{MaxReportBytes: 4 << 20, ReportsPerHour: 1000, Window: D(24 * time.Hour)},
		DKIM:     DKIM{CheckInterval: D(10 * time.Minute), Refresh: D(30 * time.Second)},
		Alerts:   Alerts{Email: true, DedupeWindow: D(time.Hour)},
		Events:   Events{QueueSize: 10000, FailedRetention: D(7 * 24 * time.Hour), FailedPerTenant: 1000},
		Log:      Log{Level: "info", Format: "text"},
	}
}

// ApplyDev switches the defaults that `serve --dev` changes: everything under
// ./tollgate-data, loopback listeners on unprivileged ports, short retries.
// Flags given on the command line are applied after this.
func (c *Config) ApplyDev() {
	c.Dev = true
	c.DataDir = "tollgate-data"
	c.Hostname = "localhost"
	c.Listen = Listen{
		Relay:       "127.0.0.1:2525",
		Submission:  "127.0.0.1:2587",
		Submissions: "127.0.0.1:2465",
		Admin:       "127.0.0.1:8025",
	}
	c.Queue.RetrySchedule = []Duration{D(10 * time.Second), D(30 * time.Second), D(time.Minute)}
	c.Queue.MaxAge = D(time.Hour)
	// The demo tenant is a trial tenant relaying from loopback: trust it,
	// or its first message would get 5.7.708 (a new IP).
	c.Reputation.TrustedRanges = Prefixes{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// defaultPolicy is policy.DefaultSettings with the connector probation
// quota, which is not a per-tenant setting.
func defaultPolicy() Policy {
	return Policy{ConnectorProbationQuota: 100, Settings: policy.DefaultSettings()}
}

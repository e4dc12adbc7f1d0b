package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Restriction actions: what the per-user outbound spam policy does when a
// sender crosses one of its limits.
const (
	// RestrictUntilTomorrow stops the sender until the next UTC midnight
	// (the hosted service's default) or an earlier release by an admin.
	RestrictUntilTomorrow = "restrict-until-tomorrow"
	// RestrictUntilReleased stops the sender until an admin releases it.
	RestrictUntilReleased = "restrict"
	// AlertOnly lets the mail through and alerts the tenant's admins.
	AlertOnly = "alert"
)

// Suppression actions: what happens to a recipient on the suppression list.
const (
	// SuppressRefuse refuses it at RCPT with 5.1.92, so the sender hears.
	SuppressRefuse = "refuse"
	// SuppressDrop accepts it at RCPT and leaves it out of the message: the
	// sender's software sees success, the trace and the delivery events
	// say it was dropped.
	SuppressDrop = "drop"
)

// Settings are the protection thresholds. The config file's [policy]
// section gives the defaults for every tenant (config.Policy embeds this
// struct, so the toml tags are the file's keys and the only list of them);
// a tenant's Overrides replace single fields of them.
type Settings struct {
	// Tenant threshold (5.7.705): a tenant is blocked when, within
	// TenantWindow, its spam+bulk verdicts reach TenantSpamCount AND they
	// are at least TenantSpamRatio of its verdicts. Both must hold, so a
	// false positive never blocks a large tenant and a small tenant that
	// sprays spam is stopped after TenantSpamCount messages.
	TenantWindow    time.Duration `toml:"tenant_window"`
	TenantSpamCount int64         `toml:"tenant_spam_count"`
	TenantSpamRatio float64       `toml:"tenant_spam_ratio"`

	// UnregisteredPerDay is how many messages a day a tenant may send from
	// domains that are not its verified accepted domains (5.7.750).
	UnregisteredPerDay int64 `toml:"unregistered_per_day"`

	// DSNPerDay caps the delivery status notifications (bounces) sent for
	// a tenant's mail per rolling 24 h. Beyond it DSNs are dropped (with a
	// trace event): a tenant whose mail bounces by the thousand is either
	// compromised or mailing a bad list, and its bounces to forged senders
	// are backscatter. Zero sends none.
	DSNPerDay int64 `toml:"dsn_per_day"`

	// Sending limits per sender (a user, or the envelope sender of
	// connector mail).
	UserMessagesPerMinute int64 `toml:"user_messages_per_minute"` // deferred with 4.7.500 beyond it
	UserRecipientsPerDay  int64 `toml:"user_recipients_per_day"`  // rolling 24 h; 5.1.90 beyond it
	RecipientsPerMessage  int64 `toml:"recipients_per_message"`   // 5.5.3 beyond it
	// TenantExternalPerDay caps a tenant's external recipients per rolling
	// 24 h (5.7.233). Zero means the hosted service's formula,
	// 500 × licences^0.7 + 9500.
	TenantExternalPerDay int64 `toml:"tenant_external_per_day"`

	// Per-user outbound spam policy (5.1.8). Zero turns a limit off.
	UserExternalPerHour int64 `toml:"user_external_per_hour"`
	UserInternalPerHour int64 `toml:"user_internal_per_hour"`
	UserDailyRecipients int64 `toml:"user_daily_recipients"`
	// UserSpamPerHour restricts the credential (user password, app
	// password or connector) that sent this many spam verdicts in an hour.
	UserSpamPerHour int64  `toml:"user_spam_per_hour"`
	RestrictAction  string `toml:"restrict_action"`
	// SuppressionAction is SuppressRefuse or SuppressDrop.
	SuppressionAction string `toml:"suppression_action"`

	// ProbationQuota is a released tenant's first-day quota (messages per
	// rolling 24 h); it doubles with every clean day until ProbationDays.
	ProbationQuota int64 `toml:"probation_quota"`
	ProbationDays  int   `toml:"probation_days"`

	// ConnectorIPv4Addresses and ConnectorIPv6Nets64 cap the address
	// space a tenant admin may give the tenant's connectors, all of them
	// together: IPv4 addresses, and IPv6 /64 networks. Beyond it only an
	// operator can create a connector. Zero lets tenant admins add no
	// ranges of that family.
	ConnectorIPv4Addresses int64 `toml:"connector_ipv4_addresses"`
	ConnectorIPv6Nets64    int64 `toml:"connector_ipv6_64s"`
	// BulkCounts makes bulk and list mail (a bulk verdict, List-Id or
	// List-Unsubscribe) count towards the tenant threshold and the
	// per-credential spam limit like spam: the hosted service's terms,
	// which forbid bulk. Off by default: bulk is not abuse, and list mail
	// counts only when the tenant's delivery feedback says it is unwanted.
	BulkCounts bool `toml:"bulk_counts"`

	// Evidence beyond the verdicts (see docs/protection.md). A tenant whose
	// baseline (its counted share over the past 7 days) rests on at least
	// BaselineMinMessages messages is established: a block or restriction
	// then needs the hour to depart from the baseline by BaselineDeparture
	// (in counted share or in recipient novelty). Every block or
	// restriction needs one sign the mail is unwanted: at least
	// NoveltyRatio of the counted mail's recipients new to the tenant, the
	// same content to CampaignNewRecipients new recipients in the window,
	// or delivery feedback at the review rate.
	BaselineMinMessages   int64   `toml:"baseline_min_messages"`
	BaselineDeparture     float64 `toml:"baseline_departure"`
	NoveltyRatio          float64 `toml:"novelty_ratio"`
	CampaignNewRecipients int64   `toml:"campaign_new_recipients"`

	// Delivery feedback (bounces, spam refusals, complaints): at the review
	// rates the admins are alerted and bulk counts; at the pause rates the
	// tenant is blocked. Rates count once FeedbackMinVolume messages were
	// delivered or bounced.
	FeedbackMinVolume   int64   `toml:"feedback_min_volume"`
	BounceReviewRate    float64 `toml:"bounce_review_rate"`
	BouncePauseRate     float64 `toml:"bounce_pause_rate"`
	ComplaintReviewRate float64 `toml:"complaint_review_rate"`
	ComplaintPauseRate  float64 `toml:"complaint_pause_rate"`
}

// DefaultSettings are the built-in defaults, the hosted service's where it
// publishes them.
func DefaultSettings() Settings {
	return Settings{
		TenantWindow: time.Hour, TenantSpamCount: 20, TenantSpamRatio: 0.3,
		UnregisteredPerDay:    100,
		DSNPerDay:             1000,
		UserMessagesPerMinute: 30, UserRecipientsPerDay: 10000, RecipientsPerMessage: 500,
		UserExternalPerHour: 500, UserInternalPerHour: 1000, UserDailyRecipients: 0,
		UserSpamPerHour: 10, RestrictAction: RestrictUntilTomorrow, SuppressionAction: SuppressRefuse,
		ProbationQuota: 200, ProbationDays: 5,
		// A /20 and a /48: room for a site's mail servers many times over,
		// a vanishing share of the internet.
		ConnectorIPv4Addresses: 4096, ConnectorIPv6Nets64: 65536,
		BaselineMinMessages: 200, BaselineDeparture: 0.3, NoveltyRatio: 0.5, CampaignNewRecipients: 50,
		FeedbackMinVolume: 200, BounceReviewRate: 0.05, BouncePauseRate: 0.10,
		ComplaintReviewRate: 0.001, ComplaintPauseRate: 0.005,
	}
}

// ExternalPerDay is the tenant external recipient limit for a tenant with
// this many licences.
func (s Settings) ExternalPerDay(licences int) int64 {
	if s.TenantExternalPerDay > 0 {
		return s.TenantExternalPerDay
	}
	return int64(500*math.Pow(float64(max(licences, 0)), 0.7)) + 9500
}

// Validate names the first bad field.
func (s Settings) Validate() error {
	switch {
	case s.TenantWindow < time.Minute:
		return fmt.Errorf("tenant_window must be at least 1m, got %v", s.TenantWindow)
	case s.TenantSpamCount < 1:
		return fmt.Errorf("tenant_spam_count must be at least 1, got %d", s.TenantSpamCount)
	case s.TenantSpamRatio <= 0 || s.TenantSpamRatio > 1:
		return fmt.Errorf("tenant_spam_ratio must be in (0, 1], got %v", s.TenantSpamRatio)
	case s.UnregisteredPerDay < 0:
		return fmt.Errorf("unregistered_per_day must not be negative, got %d", s.UnregisteredPerDay)
	case s.DSNPerDay < 0:
		return fmt.Errorf("dsn_per_day must not be negative, got %d", s.DSNPerDay)
	case s.UserMessagesPerMinute < 1:
		return fmt.Errorf("user_messages_per_minute must be at least 1, got %d", s.UserMessagesPerMinute)
	case s.UserRecipientsPerDay < 1:
		return fmt.Errorf("user_recipients_per_day must be at least 1, got %d", s.UserRecipientsPerDay)
	case s.RecipientsPerMessage < 1 || s.RecipientsPerMessage > 1000:
		return fmt.Errorf("recipients_per_message must be in 1..1000, got %d", s.RecipientsPerMessage)
	case s.TenantExternalPerDay < 0:
		return fmt.Errorf("tenant_external_per_day must not be negative, got %d", s.TenantExternalPerDay)
	case s.UserExternalPerHour < 0 || s.UserInternalPerHour < 0 || s.UserDailyRecipients < 0 || s.UserSpamPerHour < 0:
		return fmt.Errorf("user_external_per_hour, user_internal_per_hour, user_daily_recipients and user_spam_per_hour must not be negative")
	case s.RestrictAction != RestrictUntilTomorrow && s.RestrictAction != RestrictUntilReleased && s.RestrictAction != AlertOnly:
		return fmt.Errorf("restrict_action must be %q, %q or %q, got %q", RestrictUntilTomorrow, RestrictUntilReleased, AlertOnly, s.RestrictAction)
	case s.SuppressionAction != SuppressRefuse && s.SuppressionAction != SuppressDrop:
		return fmt.Errorf("suppression_action must be %q or %q, got %q", SuppressRefuse, SuppressDrop, s.SuppressionAction)
	case s.ProbationQuota < 1:
		return fmt.Errorf("probation_quota must be at least 1, got %d", s.ProbationQuota)
	case s.ProbationDays < 0 || s.ProbationDays > 30:
		return fmt.Errorf("probation_days must be in 0..30, got %d", s.ProbationDays)
	case s.ConnectorIPv4Addresses < 0 || s.ConnectorIPv4Addresses > 1<<32:
		return fmt.Errorf("connector_ipv4_addresses must be in 0..%d, got %d", int64(1)<<32, s.ConnectorIPv4Addresses)
	case s.ConnectorIPv6Nets64 < 0:
		return fmt.Errorf("connector_ipv6_64s must not be negative, got %d", s.ConnectorIPv6Nets64)
	case s.BaselineMinMessages < 1:
		return fmt.Errorf("baseline_min_messages must be at least 1, got %d", s.BaselineMinMessages)
	case s.BaselineDeparture < 0 || s.BaselineDeparture > 1:
		return fmt.Errorf("baseline_departure must be in 0..1, got %v", s.BaselineDeparture)
	case s.NoveltyRatio < 0 || s.NoveltyRatio > 1:
		return fmt.Errorf("novelty_ratio must be in 0..1, got %v", s.NoveltyRatio)
	case s.CampaignNewRecipients < 1:
		return fmt.Errorf("campaign_new_recipients must be at least 1, got %d", s.CampaignNewRecipients)
	case s.FeedbackMinVolume < 1:
		return fmt.Errorf("feedback_min_volume must be at least 1, got %d", s.FeedbackMinVolume)
	case !(s.BounceReviewRate > 0 && s.BounceReviewRate <= s.BouncePauseRate && s.BouncePauseRate <= 1):
		return fmt.Errorf("bounce_review_rate and bounce_pause_rate must satisfy 0 < review <= pause <= 1, got %v and %v", s.BounceReviewRate, s.BouncePauseRate)
	case !(s.ComplaintReviewRate > 0 && s.ComplaintReviewRate <= s.ComplaintPauseRate && s.ComplaintPauseRate <= 1):
		return fmt.Errorf("complaint_review_rate and complaint_pause_rate must satisfy 0 < review <= pause <= 1, got %v and %v", s.ComplaintReviewRate, s.ComplaintPauseRate)
	}
	return nil
}

// Overrides are a tenant's own values for the settings that make sense per
// tenant. A nil field keeps the default. The JSON names are the config
// file's keys.
type Overrides struct {
	TenantSpamCount       *int64   `json:"tenant_spam_count,omitempty"`
	TenantSpamRatio       *float64 `json:"tenant_spam_ratio,omitempty"`
	UnregisteredPerDay    *int64   `json:"unregistered_per_day,omitempty"`
	DSNPerDay             *int64   `json:"dsn_per_day,omitempty"`
	UserMessagesPerMinute *int64   `json:"user_messages_per_minute,omitempty"`
	UserRecipientsPerDay  *int64   `json:"user_recipients_per_day,omitempty"`
	RecipientsPerMessage  *int64   `json:"recipients_per_message,omitempty"`
	TenantExternalPerDay  *int64   `json:"tenant_external_per_day,omitempty"`
	UserExternalPerHour   *int64   `json:"user_external_per_hour,omitempty"`
	UserInternalPerHour   *int64   `json:"user_internal_per_hour,omitempty"`
	UserDailyRecipients   *int64   `json:"user_daily_recipients,omitempty"`
	UserSpamPerHour       *int64   `json:"user_spam_per_hour,omitempty"`
	RestrictAction        *string  `json:"restrict_action,omitempty"`
	SuppressionAction     *string  `json:"suppression_action,omitempty"`
	// Operators raise (or lower) one tenant's connector address space.
	ConnectorIPv4Addresses *int64   `json:"connector_ipv4_addresses,omitempty"`
	ConnectorIPv6Nets64    *int64   `json:"connector_ipv6_64s,omitempty"`
	BulkCounts             *bool    `json:"bulk_counts,omitempty"`
	BaselineMinMessages    *int64   `json:"baseline_min_messages,omitempty"`
	BaselineDeparture      *float64 `json:"baseline_departure,omitempty"`
	NoveltyRatio           *float64 `json:"novelty_ratio,omitempty"`
}

// Apply returns s with o's fields in place.
func (o Overrides) Apply(s Settings) Settings {
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.TenantSpamCount, o.TenantSpamCount)
	set(&s.UnregisteredPerDay, o.UnregisteredPerDay)
	set(&s.DSNPerDay, o.DSNPerDay)
	set(&s.UserMessagesPerMinute, o.UserMessagesPerMinute)
	set(&s.UserRecipientsPerDay, o.UserRecipientsPerDay)
	set(&s.RecipientsPerMessage, o.RecipientsPerMessage)
	set(&s.TenantExternalPerDay, o.TenantExternalPerDay)
	set(&s.UserExternalPerHour, o.UserExternalPerHour)
	set(&s.UserInternalPerHour, o.UserInternalPerHour)
	set(&s.UserDailyRecipients, o.UserDailyRecipients)
	set(&s.UserSpamPerHour, o.UserSpamPerHour)
	set(&s.ConnectorIPv4Addresses, o.ConnectorIPv4Addresses)
	set(&s.ConnectorIPv6Nets64, o.ConnectorIPv6Nets64)
	if o.TenantSpamRatio != nil {
		s.TenantSpamRatio = *o.TenantSpamRatio
	}
	if o.RestrictAction != nil {
		s.RestrictAction = *o.RestrictAction
	}
	if o.SuppressionAction != nil {
		s.SuppressionAction = *o.SuppressionAction
	}
	if o.BulkCounts != nil {
		s.BulkCounts = *o.BulkCounts
	}
	set(&s.BaselineMinMessages, o.BaselineMinMessages)
	if o.BaselineDeparture != nil {
		s.BaselineDeparture = *o.BaselineDeparture
	}
	if o.NoveltyRatio != nil {
		s.NoveltyRatio = *o.NoveltyRatio
	}
	return s
}

// ParseOverrides reads overrides from JSON, refusing unknown keys and
// values that would make the settings invalid.
func ParseOverrides(data []byte, defaults Settings) (Overrides, error) {
	var o Overrides
	if len(data) == 0 {
		return o, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return Overrides{}, fmt.Errorf("policy overrides: %w", err)
	}
	if err := o.Apply(defaults).Validate(); err != nil {
		return Overrides{}, fmt.Errorf("policy overrides: %w", err)
	}
	return o, nil
}

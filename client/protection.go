package client

import "time"

// The protection state's wire types: blocks, restrictions, daily figures,
// unblock requests and a tenant's standing.

// Figure is one named figure behind a decision ("ratio" = "0.31").
type Figure struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Block stops all of a tenant's outbound mail until it is released.
type Block struct {
	ID         int64     `json:"id"`
	TenantID   int64     `json:"tenant_id"`
	Tenant     string    `json:"tenant,omitempty"` // the tenant's name, in lists
	Reason     string    `json:"reason"`
	Rule       string    `json:"rule"`
	Figures    []Figure  `json:"figures"`
	Evidence   Evidence  `json:"evidence"`
	CreatedAt  time.Time `json:"created_at"`
	ReleasedAt time.Time `json:"released_at,omitzero"`
	ReleasedBy string    `json:"released_by,omitempty"`
	// A release on probation: the tenant sends at most ProbationQuota
	// messages a day for ProbationDays.
	ProbationQuota int64 `json:"probation_quota,omitempty"`
	ProbationDays  int   `json:"probation_days,omitempty"`
}

// Evidence is what Tollgate saw when it blocked a tenant.
type Evidence struct {
	Window           string           `json:"window,omitempty"`
	Messages         int64            `json:"messages"`
	SpamBulk         int64            `json:"spam_bulk"`
	Ratio            float64          `json:"ratio"`
	TopSenders       []Count          `json:"top_senders,omitempty"`
	TopConnectors    []Count          `json:"top_connectors,omitempty"`
	RecentConnectors []ConnectorEvent `json:"recent_connectors,omitempty"`
	// RecentAccess are API tokens and admins created, and tokens used,
	// shortly before the block, from the audit log: where a stolen
	// credential shows.
	RecentAccess []AccessEvent     `json:"recent_access,omitempty"`
	Samples      []Sample          `json:"samples,omitempty"`
	Signals      []Signal          `json:"signals,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

// Signal is one piece of evidence beyond the verdicts, with whether it
// pointed to abuse.
type Signal struct {
	Name    string   `json:"name"`
	Met     bool     `json:"met"`
	Note    string   `json:"note,omitempty"`
	Figures []Figure `json:"figures,omitempty"`
}

// Count is one row of a top-N list.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// ConnectorEvent is a connector created or deleted shortly before a block.
type ConnectorEvent struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Event     string    `json:"event"` // created, confirmed, deleted
	At        time.Time `json:"at"`
	CreatedBy string    `json:"created_by,omitempty"`
	By        string    `json:"by,omitempty"`        // the actor as the audit log recorded it
	SourceIP  string    `json:"source_ip,omitempty"` // the actor's address, from the audit log
	AuditID   int64     `json:"audit_id,omitempty"`  // 0: not in the audit log (made outside the API)
}

// Actor is who did this event: By, or for a creation recorded without
// the audit log the connector's creator ("" if unknown).
func (c ConnectorEvent) Actor() string {
	if c.By != "" || c.Event != "created" {
		return c.By
	}
	return c.CreatedBy
}

// AccessEvent is an audit log entry about the tenant's credentials shortly
// before a block: an API token created or used, an admin created.
type AccessEvent struct {
	AuditID  int64     `json:"audit_id"`
	Action   string    `json:"action"` // token.create, token.use, admin.create
	Target   string    `json:"target"` // token:7, admin:3
	Name     string    `json:"name,omitempty"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	SourceIP string    `json:"source_ip,omitempty"`
}

// Sample is one message that counted towards a block.
type Sample struct {
	QueueID   string `json:"queue_id,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Subject   string `json:"subject,omitempty"`
	Sender    string `json:"sender,omitempty"`
	Verdict   string `json:"verdict,omitempty"`
}

// Restriction stops one sender, app password or connector of a tenant.
type Restriction struct {
	ID         int64     `json:"id"`
	TenantID   int64     `json:"tenant_id"`
	Kind       string    `json:"kind"`
	Subject    string    `json:"subject"`
	Reason     string    `json:"reason"`
	Rule       string    `json:"rule"`
	Figures    []Figure  `json:"figures"`
	Created    time.Time `json:"created_at"`
	Until      time.Time `json:"until,omitzero"`
	ReleasedAt time.Time `json:"released_at,omitzero"`
	ReleasedBy string    `json:"released_by,omitempty"`
}

// DayStats are a tenant's figures for one UTC day.
type DayStats struct {
	Day      time.Time `json:"day"`
	Messages int64     `json:"messages"`
	Spam     int64     `json:"spam"`
	Bulk     int64     `json:"bulk"`
	Refused  int64     `json:"refused"`
}

// UnblockRequest is a tenant admin's request to lift a block, with what
// the operator reviews beside it (Tenant, Block, Checklist) where the
// answer carries them.
type UnblockRequest struct {
	ID          int64       `json:"id"`
	TenantID    int64       `json:"tenant_id"`
	BlockID     int64       `json:"block_id"`
	Cause       string      `json:"cause"`
	Fix         string      `json:"fix"`
	Status      string      `json:"status"`
	SubmittedBy string      `json:"submitted_by"`
	SubmittedAt time.Time   `json:"submitted_at"`
	DecidedBy   string      `json:"decided_by,omitempty"`
	DecidedAt   time.Time   `json:"decided_at,omitzero"`
	Note        string      `json:"note,omitempty"`
	Tenant      string      `json:"tenant,omitempty"`
	Block       *Block      `json:"block,omitempty"`
	Checklist   []CheckItem `json:"checklist,omitempty"`
}

// CheckItem is one line of the unblock checklist.
type CheckItem struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// TenantStatus is a tenant's standing: what its admin sees first.
type TenantStatus struct {
	Tenant         Tenant        `json:"tenant"`
	State          string        `json:"state"` // sending, blocked, expired, probation
	Reason         string        `json:"reason,omitempty"`
	Block          *Block        `json:"block,omitempty"`
	ProbationQuota int64         `json:"probation_quota,omitempty"`
	Restrictions   []Restriction `json:"restrictions"`
	Today          DayStats      `json:"today"`
	// TraceToday are today's messages as the trace shows them (accepted,
	// refused, deferred at SMTP time, distinct senders); today.refused is
	// its refused figure, so both always agree with the trace page.
	TraceToday     *TraceCounts    `json:"trace_today,omitempty"`
	SpamRatio      float64         `json:"spam_ratio_today"`
	Settings       Settings        `json:"settings"`
	PendingRequest *UnblockRequest `json:"pending_unblock_request,omitempty"`
	// Feedback is the delivery feedback the tenant decisions read:
	// bounces, spam refusals and complaints over the feedback window.
	Feedback *Feedback `json:"feedback,omitempty"`
}

// TraceCounts are one tenant's transactions in a span as the trace
// records them.
type TraceCounts struct {
	Accepted int64 `json:"accepted"` // queued (250 after DATA)
	Refused  int64 `json:"refused"`  // answered 5xx before any recipient was accepted, or at DATA
	Deferred int64 `json:"deferred"` // answered 4xx likewise
	Senders  int64 `json:"senders"`  // distinct envelope senders
}

// Feedback is a tenant's delivery feedback with its rates and the level
// its settings judge it at (too-little-volume, ok, review, pause).
type Feedback struct {
	Window        string  `json:"window"`
	Delivered     int64   `json:"delivered"`
	HardBounces   int64   `json:"hard_bounces"`
	SpamRefusals  int64   `json:"spam_refusals"`
	Deferrals     int64   `json:"deferrals"`
	Complaints    int64   `json:"complaints"`
	BounceRate    float64 `json:"bounce_rate"`
	ComplaintRate float64 `json:"complaint_rate"`
	Level         string  `json:"level"`
}

// Settings are the protection settings in force, with the config file's
// key names.
type Settings struct {
	TenantWindow          string  `json:"tenant_window"`
	TenantSpamCount       int64   `json:"tenant_spam_count"`
	TenantSpamRatio       float64 `json:"tenant_spam_ratio"`
	UnregisteredPerDay    int64   `json:"unregistered_per_day"`
	DSNPerDay             int64   `json:"dsn_per_day"`
	UserMessagesPerMinute int64   `json:"user_messages_per_minute"`
	UserRecipientsPerDay  int64   `json:"user_recipients_per_day"`
	RecipientsPerMessage  int64   `json:"recipients_per_message"`
	TenantExternalPerDay  int64   `json:"tenant_external_per_day"`
	UserExternalPerHour   int64   `json:"user_external_per_hour"`
	UserInternalPerHour   int64   `json:"user_internal_per_hour"`
	UserDailyRecipients   int64   `json:"user_daily_recipients"`
	UserSpamPerHour       int64   `json:"user_spam_per_hour"`
	RestrictAction        string  `json:"restrict_action"`
	SuppressionAction     string  `json:"suppression_action"`
	ProbationQuota        int64   `json:"probation_quota"`
	ProbationDays         int     `json:"probation_days"`
	ConnectorIPv4         int64   `json:"connector_ipv4_addresses"`
	ConnectorIPv6Nets64   int64   `json:"connector_ipv6_64s"`
	BulkCounts            bool    `json:"bulk_counts"`
	BaselineMinMessages   int64   `json:"baseline_min_messages"`
	BaselineDeparture     float64 `json:"baseline_departure"`
	NoveltyRatio          float64 `json:"novelty_ratio"`
	CampaignNewRecipients int64   `json:"campaign_new_recipients"`
	FeedbackMinVolume     int64   `json:"feedback_min_volume"`
	BounceReviewRate      float64 `json:"bounce_review_rate"`
	BouncePauseRate       float64 `json:"bounce_pause_rate"`
	ComplaintReviewRate   float64 `json:"complaint_review_rate"`
	ComplaintPauseRate    float64 `json:"complaint_pause_rate"`
}

// Live reports whether the block still stands.
func (b Block) Live() bool { return b.ReleasedAt.IsZero() }

// SpamBulk is the day's spam and bulk together, as the thresholds count them.
func (d DayStats) SpamBulk() int64 { return d.Spam + d.Bulk }

// ListEntry is an IP or CIDR on the operators' allow or deny list.
type ListEntry struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"` // allow, deny
	Prefix    string    `json:"prefix"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Exception lets one tenant send from an IP or CIDR despite its reputation
// until ExpiresAt.
type Exception struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Prefix    string    `json:"prefix"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// Assessment is a source IP's reputation, for a tenant if one is given.
type Assessment struct {
	IP        string     `json:"ip"`
	TenantID  int64      `json:"tenant_id,omitempty"`
	Level     string     `json:"level"`
	Low       bool       `json:"low"` // refused for trial tenants (5.7.708)
	FirstSeen time.Time  `json:"first_seen,omitzero"`
	LastSeen  time.Time  `json:"last_seen,omitzero"`
	Messages  int64      `json:"messages"`
	Spam      int64      `json:"spam"`
	Figures   []Figure   `json:"figures"`
	Exception *Exception `json:"exception,omitempty"`
	Entry     *ListEntry `json:"list_entry,omitempty"`
}

package client

import (
	"encoding/json"
	"time"
)

// The API's wire types: the handlers encode these, the CLI and the console
// decode them, and api/openapi.json describes them (the API's tests check
// answers against its schemas). Optional fields are omitted when empty, as
// the schemas say.

// Tenant is one customer of the gateway.
type Tenant struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	License   string     `json:"license"` // trial, licensed or expired
	Seats     int        `json:"seats"`
	CreatedAt time.Time  `json:"created_at"`
	Expires   *time.Time `json:"license_expires,omitempty"`
	// Effective is the licence in force now: expired once a licensed
	// tenant's end date has passed.
	Effective string `json:"effective_license"`
	// SenderBinding is "login" when the tenant's SMTP AUTH users may send
	// only as their own address and aliases, else "off".
	SenderBinding string `json:"sender_binding"`
}

// Domain is an accepted domain of a tenant.
type Domain struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Verified  bool      `json:"verified"`
	Record    string    `json:"record"` // the TXT record to publish
	CreatedAt time.Time `json:"created_at"`
	// DKIM lists the domain's DKIM keys and their records, when signing
	// is on.
	DKIM *[]DKIMKey `json:"dkim,omitempty"`
}

// DKIMKey is one DKIM key as the API shows it: the record to publish
// and where it stands, never the private key.
type DKIMKey struct {
	Selector   string     `json:"selector"`
	Algorithm  string     `json:"algorithm"`
	Generation int        `json:"generation"`
	State      string     `json:"state"`  // pending (not seen in DNS), active (signs), retired
	Origin     string     `json:"origin"` // generated or uploaded
	Name       string     `json:"name"`   // the DNS name: selector._domainkey.domain
	Value      string     `json:"value"`  // the TXT value: v=DKIM1; k=...; p=...
	Record     string     `json:"record"` // both, in zone-file form
	CreatedAt  time.Time  `json:"created_at"`
	ActiveAt   *time.Time `json:"active_at,omitempty"`
	RetiredAt  *time.Time `json:"retired_at,omitempty"`
	Published  *bool      `json:"published,omitempty"` // set by a check
	Detail     string     `json:"detail,omitempty"`    // what the check found
}

// Verification is the answer to a domain check: what was found either way.
type Verification struct {
	Domain   Domain   `json:"domain"`
	Verified bool     `json:"verified"`
	Detail   string   `json:"detail"`
	Found    []string `json:"found"`
}

// Connector recognises a tenant's servers by address or client certificate.
type Connector struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	IPRanges          []string   `json:"ip_ranges"`
	CertificateDomain string     `json:"certificate_domain,omitempty"`
	CreatedBy         string     `json:"created_by"`
	CreatedAt         time.Time  `json:"created_at"`
	Live              bool       `json:"live"`
	DeletedAt         *time.Time `json:"deleted_at,omitempty"`
	Messages          int64      `json:"messages"`
	LastTraffic       *time.Time `json:"last_traffic,omitempty"`
	Probation         bool       `json:"probation"` // true until an admin confirms it
	ConfirmedBy       string     `json:"confirmed_by,omitempty"`
	MessagesToday     int64      `json:"messages_today"`
}

// User is an SMTP AUTH user of a tenant.
type User struct {
	ID        int64     `json:"id"`
	Address   string    `json:"address"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Admin is a tenant admin or an operator.
type Admin struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	Role        string    `json:"role"`
	TenantID    int64     `json:"tenant_id,omitempty"`
	TOTPEnabled bool      `json:"totp_enabled"`
	CreatedAt   time.Time `json:"created_at"`
	// PasswordChangedAt and LastSignIn let an admin of a compromised
	// tenant see whose password is old and who signed in when.
	PasswordChangedAt      time.Time  `json:"password_changed_at"`
	LastSignIn             *time.Time `json:"last_sign_in,omitempty"`
	PasswordChangeRequired bool       `json:"password_change_required"`
}

// AppPassword is a per-application SMTP password of a user. Password is
// set in the create answer only: it is shown once.
type AppPassword struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	Revoked   bool       `json:"revoked"`
	Password  string     `json:"password,omitempty"`
}

// Token is an API token. Token (the secret) is set in the create answer
// only.
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Operator  bool       `json:"operator"`
	TenantID  int64      `json:"tenant_id,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	// LastUsedFrom is the client address of the last recorded use.
	LastUsedFrom string     `json:"last_used_from,omitempty"`
	Revoked      bool       `json:"revoked"`
	Kind         string     `json:"kind"` // api, or session (an admin's signed-in session)
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	Token        string     `json:"token,omitempty"` // the secret, in the create answer only
}

// Alias is an address a user may send as besides its login.
type Alias struct {
	ID        int64     `json:"id"`
	Address   string    `json:"address"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// AuditEntry is one record of the audit log.
type AuditEntry struct {
	ID       int64           `json:"id"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	TenantID int64           `json:"tenant_id"`
	SourceIP string          `json:"source_ip,omitempty"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
	Hash     string          `json:"hash"`
}

// AuditReport is the result of walking the audit log's hash chain, with
// the head to record elsewhere.
type AuditReport struct {
	Entries  int64  `json:"entries"`
	OK       bool   `json:"ok"`
	FirstBad int64  `json:"first_bad"`
	Problem  string `json:"problem"`
	HeadID   int64  `json:"head_id"`
	HeadHash string `json:"head_hash"`
}

// QueuedMessage is a message waiting in a node's spool.
type QueuedMessage struct {
	ID          string            `json:"id"`
	From        string            `json:"from"`
	Tenant      string            `json:"tenant"`
	Size        int64             `json:"size"`
	ReceivedAt  time.Time         `json:"received_at"`
	Attempts    int               `json:"attempts"`
	NextAttempt time.Time         `json:"next_attempt"`
	LastError   string            `json:"last_error"`
	TenantID    int64             `json:"tenant_id"`
	Pool        string            `json:"pool"`
	Held        bool              `json:"held"`
	HeldReason  string            `json:"held_reason,omitempty"`
	Recipients  []QueuedRecipient `json:"recipients"`
}

// QueueAction is the body of a queue control (POST .../queue/{id}/{action}):
// the reason of a hold or a bounce, the pool of a move.
type QueueAction struct {
	Reason string `json:"reason,omitempty"`
	Pool   string `json:"pool,omitempty"`
}

// QueuedRecipient is one recipient of a queued message and where it
// stands. Its field names are capitalised on the wire, as they always were.
type QueuedRecipient struct {
	Addr   string `json:"Addr"`
	Status string `json:"Status"` // pending, delivered, failed
	Code   string `json:"Code"`
	Detail string `json:"Detail"`
}

// CapturedMessage is a message the dev capture sink received.
type CapturedMessage struct {
	ID         string    `json:"id"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	MessageID  string    `json:"message_id"`
	Size       int       `json:"size"`
	ReceivedAt time.Time `json:"received_at"`
	TLS        bool      `json:"tls"`
	Client     string    `json:"client"`         // the client's address
	Path       string    `json:"path,omitempty"` // the .eml file, when kept on disk
}

// SignInStep is the answer to the first sign-in step: the next step and
// the ticket that carries the sign-in there.
type SignInStep struct {
	Next       string `json:"next"` // "totp" or "enroll"
	Ticket     string `json:"ticket"`
	Secret     string `json:"secret,omitempty"` // enroll: the TOTP secret
	OTPAuthURL string `json:"otpauth_url,omitempty"`
	QRPNG      string `json:"qr_png,omitempty"` // base64
}

// Session is a finished sign-in: an admin session token.
type Session struct {
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expires_at"`
	Admin         Admin     `json:"admin"`
	RecoveryCodes []string  `json:"recovery_codes,omitempty"` // at enrolment, once
}

// Requests.

// TenantCreate is the body of POST /api/v1/tenants.
type TenantCreate struct {
	Name    string `json:"name"`
	License string `json:"license,omitempty"`
	Seats   int    `json:"seats"`
}

// LicenceSet is the body of PUT /api/v1/tenants/{tenant}/licence.
type LicenceSet struct {
	License string     `json:"license"`
	Seats   int        `json:"seats"`
	Expires *time.Time `json:"license_expires,omitempty"`
}

// DomainAdd is the body of POST /api/v1/tenants/{tenant}/domains.
type DomainAdd struct {
	Name string `json:"name"`
}

// ConnectorCreate is the body of POST /api/v1/tenants/{tenant}/connectors:
// IP ranges or a certificate domain, not both.
type ConnectorCreate struct {
	Name              string   `json:"name"`
	IPRanges          []string `json:"ip_ranges,omitempty"`
	CertificateDomain string   `json:"certificate_domain,omitempty"`
}

// ConnectorConfirm is the body of the confirm step-up: a fresh TOTP code.
type ConnectorConfirm struct {
	Code string `json:"code"`
}

// UserCreate is the body of POST /api/v1/tenants/{tenant}/users.
type UserCreate struct {
	Address  string `json:"address"`
	Password string `json:"password"`
}

// AdminCreate is the body of POST /api/v1/operators and of
// POST /api/v1/tenants/{tenant}/admins.
type AdminCreate struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SignIn is the body of POST /api/v1/signin; Code may carry the TOTP code
// at once.
type SignIn struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Code     string `json:"code,omitempty"`
}

// SignInTOTP is the body of POST /api/v1/signin/totp.
type SignInTOTP struct {
	Ticket string `json:"ticket"`
	Code   string `json:"code"`
}

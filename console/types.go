package console

import (
	"encoding/json"
	"time"
)

// The API's JSON shapes, as far as the pages use them (api/openapi.json is
// the reference).

type tenant struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	License   string     `json:"license"`
	Seats     int        `json:"seats"`
	CreatedAt time.Time  `json:"created_at"`
	Expires   *time.Time `json:"license_expires"`
	Effective string     `json:"effective_license"`
}

type domain struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Verified  bool      `json:"verified"`
	Record    string    `json:"record"`
	CreatedAt time.Time `json:"created_at"`
	DKIM      []dkimKey `json:"dkim"`
}

// dkimKey is one DKIM key of a verified domain (api/dkim.go).
type dkimKey struct {
	Selector   string `json:"selector"`
	Algorithm  string `json:"algorithm"`
	Generation int    `json:"generation"`
	State      string `json:"state"`
	Origin     string `json:"origin"`
	Name       string `json:"name"`
	Value      string `json:"value"`
	Published  *bool  `json:"published"`
	Detail     string `json:"detail"`
}

type connector struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	IPRanges          []string   `json:"ip_ranges"`
	CertificateDomain string     `json:"certificate_domain"`
	CreatedBy         string     `json:"created_by"`
	CreatedAt         time.Time  `json:"created_at"`
	Live              bool       `json:"live"`
	DeletedAt         *time.Time `json:"deleted_at"`
	Messages          int64      `json:"messages"`
	LastTraffic       *time.Time `json:"last_traffic"`
	Probation         bool       `json:"probation"`
	ConfirmedBy       string     `json:"confirmed_by"`
	MessagesToday     int64      `json:"messages_today"`

	// New is set by the console: created in the last day, or just now.
	New bool `json:"-"`
}

type user struct {
	ID        int64     `json:"id"`
	Address   string    `json:"address"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

type appPassword struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used"`
	Revoked   bool       `json:"revoked"`
	Password  string     `json:"password"`
}

type auditEntry struct {
	ID       int64           `json:"id"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	TenantID int64           `json:"tenant_id"`
	SourceIP string          `json:"source_ip"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Before   json.RawMessage `json:"before"`
	After    json.RawMessage `json:"after"`
}

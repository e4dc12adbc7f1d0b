package client

import "time"

// Suppression is one recipient on a suppression list: a tenant's
// (TenantID > 0) or the operators' global one (TenantID 0).
type Suppression struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Address   string    `json:"address"`
	Reason    string    `json:"reason"` // hard-bounce, complaint or manual
	Detail    string    `json:"detail"` // the remote reply, or the admin's note
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// SuppressionList is the answer of GET .../suppressions: one page and how
// many entries match in all.
type SuppressionList struct {
	Suppressions []Suppression `json:"suppressions"`
	Total        int           `json:"total"`
}

package console

// The protection pages (tenant status and block evidence, volume and spam
// ratio, unblock requests, restrictions, message trace, IP reputation,
// policy overrides) are added as their /api/v1 routes land. Until then the
// summary is empty and the navigation does not offer them.

// hasStats is true once GET /api/v1/tenants/{tenant}/stats exists.
const hasStats = false

// protectionSummary is a tenant's sending state and today's figures.
type protectionSummary struct {
	State     string // sending, blocked, restricted
	Reason    string
	Volume    int64
	SpamRatio float64
}

func (p *protectionSummary) volume() int64 {
	if p == nil {
		return 0
	}
	return p.Volume
}

func (p *protectionSummary) spamRatio() float64 {
	if p == nil {
		return 0
	}
	return p.SpamRatio
}

// rank orders tenants for the operator: blocked, then restricted, then the rest.
func (p *protectionSummary) rank() int {
	if p == nil {
		return 0
	}
	switch p.State {
	case "blocked":
		return 2
	case "restricted":
		return 1
	}
	return 0
}

func (q *req) protectionSummary() (*protectionSummary, error) { return nil, nil }

func operatorNav() []navItem { return nil }

func tenantNav(id int64) []navItem { return nil }

// restrictions lists the tenant's restricted users for the users page.
func (q *req) restrictions() any { return nil }

// protectionRoutes adds the protection pages whose API routes exist.
func (c *Console) protectionRoutes(t func(pattern string, h handler)) {}

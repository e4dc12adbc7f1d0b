package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
)

// The directory's objects in their wire form (client's types).

func toTenant(t directory.Tenant) client.Tenant {
	j := client.Tenant{ID: t.ID, Name: t.Name, License: string(t.License), Seats: t.Seats, CreatedAt: t.CreatedAt,
		Effective: string(t.LicenseAt(time.Now())), SenderBinding: string(t.SenderBinding)}
	if !t.LicenseExpires.IsZero() {
		j.Expires = &t.LicenseExpires
	}
	return j
}

func toDomain(d directory.Domain) client.Domain {
	return client.Domain{ID: d.ID, Name: d.Name, Verified: d.Verified, Record: d.DNSRecord(), CreatedAt: d.CreatedAt}
}

func toConnector(c directory.Connector) client.Connector {
	j := client.Connector{ID: c.ID, Name: c.Name, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, Live: c.Live(), IPRanges: []string{},
		CertificateDomain: c.CertDomain}
	for _, p := range c.IPRanges {
		j.IPRanges = append(j.IPRanges, p.String())
	}
	if !c.Live() {
		j.DeletedAt = &c.DeletedAt
	}
	j.Messages, j.MessagesToday = c.Messages, c.MessagesToday
	j.Probation, j.ConfirmedBy = c.ConfirmedAt.IsZero(), c.ConfirmedBy
	if !c.LastTraffic.IsZero() {
		j.LastTraffic = &c.LastTraffic
	}
	return j
}

func toUser(u directory.User) client.User {
	return client.User{ID: u.ID, Address: u.Address, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

// tenant resolves {tenant} for the caller. A tenant admin asking for
// another tenant gets the same 404 as for a tenant that does not exist.
func (s *Server) tenant(w http.ResponseWriter, r *http.Request) (directory.Tenant, bool) {
	id, err := strconv.ParseInt(r.PathValue("tenant"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, badField("tenant", "%q is not a tenant id", r.PathValue("tenant")))
		return directory.Tenant{}, false
	}
	if !principalOf(r.Context()).CanSee(id) {
		s.fail(w, r, fmt.Errorf("tenant %d: %w", id, directory.ErrNotFound))
		return directory.Tenant{}, false
	}
	t, err := s.opts.Directory.Tenant(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return directory.Tenant{}, false
	}
	return t, true
}

// by is who makes a directory change for this request: the directory
// appends the audit entry, in the API's wire form, inside the change's own
// transaction, so the change and its entry commit together.
func (s *Server) by(r *http.Request) directory.By {
	b := directory.By{Actor: principalOf(r.Context()).Name, Audit: s.opts.Audit, Show: wireForm}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		b.SourceIP = host
	}
	return b
}

// wireForm is how a directory value reads in the audit log: as the API
// shows it (a domain without its token, a user without credentials).
func wireForm(v any) any {
	switch v := v.(type) {
	case directory.Tenant:
		return toTenant(v)
	case directory.Domain:
		return toDomain(v)
	case directory.Connector:
		return toConnector(v)
	case directory.User:
		return toUser(v)
	case directory.Alias:
		return toAlias(v)
	case directory.Token:
		return toToken(v)
	case directory.AppPassword:
		return toAppPassword(v)
	case directory.Admin:
		return toAdmin(v)
	}
	return v
}

// record appends a change that is not the directory's to the audit log.
// The change is already committed; an audit failure is logged loudly
// rather than undoing it.
func (s *Server) record(r *http.Request, tenantID int64, action, target string, before, after any) {
	if s.opts.Audit == nil {
		return
	}
	e := audit.Entry{Actor: principalOf(r.Context()).Name, TenantID: tenantID, Action: action, Target: target}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		e.SourceIP = host
	}
	if before != nil {
		e.Before, _ = json.Marshal(before)
	}
	if after != nil {
		e.After, _ = json.Marshal(after)
	}
	if _, err := s.opts.Audit.Append(r.Context(), e); err != nil {
		s.opts.Logger.Error("audit append failed", "action", action, "target", target, "err", err)
	}
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r.Context())
	var ts []directory.Tenant
	var err error
	if p.Operator {
		ts, err = s.opts.Directory.Tenants(r.Context())
	} else {
		var t directory.Tenant
		t, err = s.opts.Directory.Tenant(r.Context(), p.TenantID)
		ts = []directory.Tenant{t}
	}
	pageList(s, w, r, "tenants", ts, err, toTenant, tenantList)
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	apply(s, w, r, http.StatusCreated, func(req client.TenantCreate) (directory.Tenant, error) {
		if req.License == "" {
			req.License = string(directory.Trial)
		}
		return s.opts.Directory.CreateTenant(r.Context(), s.by(r), req.Name, directory.License(req.License), req.Seats)
	}, toTenant)
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.tenant(w, r); ok {
		writeJSON(w, http.StatusOK, toTenant(t))
	}
}

// setLicence changes a tenant's licence state and seats (operators).
func (s *Server) setLicence(w http.ResponseWriter, r *http.Request) {
	applyInTenant(s, w, r, http.StatusOK, func(t directory.Tenant, req client.LicenceSet) (directory.Tenant, error) {
		var expires time.Time
		if req.Expires != nil {
			expires = *req.Expires
		}
		_, after, err := s.opts.Directory.SetLicense(r.Context(), s.by(r), t.ID, directory.License(req.License), req.Seats, expires)
		return after, err
	}, toTenant)
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request) {
	listOfTenant(s, w, r, "domains", s.opts.Directory.Domains, func(d directory.Domain) client.Domain { return s.withDKIM(r, d) })
}

func (s *Server) addDomain(w http.ResponseWriter, r *http.Request) {
	applyInTenant(s, w, r, http.StatusCreated, func(t directory.Tenant, req client.DomainAdd) (directory.Domain, error) {
		return s.opts.Directory.AddDomain(r.Context(), s.by(r), t.ID, req.Name)
	}, toDomain)
}

func (s *Server) verifyDomain(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	d, res, err := s.opts.Directory.VerifyDomain(r.Context(), s.by(r), t.ID, r.PathValue("domain"), s.opts.Verifier)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if res.Verified && s.opts.DKIM != nil {
		// A verified domain gets its DKIM keys at once, so the admin who
		// just published one record sees the next ones to publish.
		if _, _, err := s.opts.DKIM.Ensure(r.Context(), t.ID, d.Name, principalOf(r.Context()).Name); err != nil {
			s.opts.Logger.Error("DKIM keys for a verified domain", "domain", d.Name, "err", err)
		}
	}
	found := res.Found
	if found == nil {
		found = []string{}
	}
	writeJSON(w, http.StatusOK, client.Verification{Domain: s.withDKIM(r, d), Verified: res.Verified, Detail: res.Detail, Found: found})
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.tenant(w, r); ok {
		cs, err := s.opts.Directory.Connectors(r.Context(), t.ID)
		pageList(s, w, r, "connectors", cs, err, toConnector, connectorList)
	}
}

func (s *Server) createConnector(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	var req client.ConnectorCreate
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.CertificateDomain != "" {
		if len(req.IPRanges) > 0 {
			s.fail(w, r, badField("certificate_domain", "give ip_ranges or certificate_domain, not both"))
			return
		}
		c, err := s.opts.Directory.CreateCertConnector(r.Context(), s.by(r), t.ID, req.Name, req.CertificateDomain)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.connectorCreated(r, t, c)
		writeJSON(w, http.StatusCreated, toConnector(c))
		return
	}
	if len(req.IPRanges) == 0 {
		s.fail(w, r, badField("ip_ranges", "give at least one address or CIDR range (or a certificate_domain)"))
		return
	}
	var ranges []netip.Prefix
	for i, v := range req.IPRanges {
		p, err := parseRange(v)
		if err != nil {
			s.fail(w, r, badField(fmt.Sprintf("ip_ranges[%d]", i), "%q is not an IP address or CIDR range", v))
			return
		}
		ranges = append(ranges, p)
	}
	c, err := s.createRangeConnector(r, t, req.Name, ranges)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.connectorCreated(r, t, c)
	writeJSON(w, http.StatusCreated, toConnector(c))
}

// createRangeConnector creates an IP-range connector. A tenant admin's stays
// within the tenant's connector address space cap; an operator's may go
// past it (the operator is the approval the cap asks for). An overlap with
// another tenant tells a tenant admin only that; an operator is told which
// range of which tenant.
func (s *Server) createRangeConnector(r *http.Request, t directory.Tenant, name string, ranges []netip.Prefix) (directory.Connector, error) {
	p := principalOf(r.Context())
	var c directory.Connector
	var err error
	if p.Operator {
		c, err = s.opts.Directory.CreateConnector(r.Context(), s.by(r), t.ID, name, ranges)
	} else {
		set := s.opts.Policy
		if s.opts.Blocks != nil {
			set = s.settingsFor(t.ID)
		}
		c, err = s.opts.Directory.CreateConnectorWithin(r.Context(), s.by(r), t.ID, name, ranges,
			directory.SpaceCap{IPv4: uint64(max(set.ConnectorIPv4Addresses, 0)), IPv6Nets64: uint64(max(set.ConnectorIPv6Nets64, 0))})

	}
	var se *directory.SpaceError
	var oe *directory.OverlapError
	switch {
	case errors.As(err, &se):
		return c, &apiError{Status: http.StatusForbidden, Code: "connector_space_exceeded", Field: "ip_ranges",
			Message: fmt.Sprintf("create connector %q: %v", name, se)}
	case errors.As(err, &oe) && p.Operator:
		return c, &apiError{Status: http.StatusConflict, Code: "conflict", Field: "ip_ranges",
			Message: fmt.Sprintf("create connector %q: %s", name, oe.Detail())}
	}
	return c, err
}

// parseRange takes a CIDR range or a single address.
func parseRange(v string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	id, err := pathID(r, "connector", "a connector id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.opts.Directory.DeleteConnector(r.Context(), s.by(r), t.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// confirmConnector ends a connector's probation. It takes an admin's
// session and a fresh TOTP code (a step-up): neither an API token nor a
// stolen password alone can confirm a connector.
func (s *Server) confirmConnector(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	id, err := pathID(r, "connector", "a connector id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req client.ConnectorConfirm
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principalOf(r.Context())
	if p.AdminID == 0 {
		s.fail(w, r, &apiError{Status: http.StatusForbidden, Code: "step_up_required",
			Message: "confirming a connector needs an admin's session (POST /api/v1/signin) and a fresh TOTP code, not an API token"})
		return
	}
	if err := s.opts.Directory.CheckTOTP(r.Context(), p.AdminID, req.Code, time.Now()); err != nil {
		s.recordAuth(r, t.ID, "auth.stepup.fail", strings.TrimPrefix(p.Name, "admin:"), err)
		s.fail(w, r, err)
		return
	}
	c, err := s.opts.Directory.ConfirmConnector(r.Context(), s.by(r), t.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toConnector(c))
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.tenant(w, r); ok {
		us, err := s.opts.Directory.Users(r.Context(), t.ID)
		pageList(s, w, r, "users", us, err, toUser, userList)
	}
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	applyInTenant(s, w, r, http.StatusCreated, func(t directory.Tenant, req client.UserCreate) (directory.User, error) {
		return s.opts.Directory.CreateUser(r.Context(), s.by(r), t.ID, req.Address, req.Password)
	}, toUser)
}

// connectorCreated alerts the tenant's admins and the operators: a new
// connector is how a stolen admin account turns into a spam channel, so
// every one is announced, with who made it.
func (s *Server) connectorCreated(r *http.Request, t directory.Tenant, c directory.Connector) {
	if s.opts.Notify == nil {
		return
	}
	what := "IP ranges " + fmt.Sprint(c.IPRanges)
	if c.CertDomain != "" {
		what = "certificate domain " + c.CertDomain
	}
	s.opts.Notify("connector-created", t.ID, t.Name, c.Name,
		fmt.Sprintf("Connector %q (%s) was created by %s from %s. If nobody in your organisation did this, delete it at once and reset your admins' passwords.",
			c.Name, what, principalOf(r.Context()).Name, r.RemoteAddr))
}

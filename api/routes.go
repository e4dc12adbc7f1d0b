package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tollgate-mail/tollgate/metrics"
)

// access says who may call a route.
type access int

const (
	public   access = iota // no token
	admin                  // any admin; tenant objects are scoped to the admin's tenant
	operator               // operators only
)

// route is one endpoint. The table is the API: New registers it, and a test
// checks it against openapi.json in both directions.
type route struct {
	method, path string
	access       access
	handler      func(*Server) http.HandlerFunc
}

var routes = []route{
	{"GET", "/healthz", public, func(s *Server) http.HandlerFunc { return s.healthz }},
	{"GET", "/healthz/live", public, func(s *Server) http.HandlerFunc { return s.healthzLive }},
	{"GET", "/healthz/ready", public, func(s *Server) http.HandlerFunc { return s.healthzReady }},
	{"GET", "/metrics", public, func(*Server) http.HandlerFunc {
		return promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}).ServeHTTP
	}},
	{"GET", "/ndr/{code}", public, func(s *Server) http.HandlerFunc { return s.ndr }},
	{"GET", "/api/v1/openapi.json", public, func(s *Server) http.HandlerFunc { return serveOpenAPI }},
	{"POST", "/api/v1/signin", public, func(s *Server) http.HandlerFunc { return s.signIn }},
	{"POST", "/api/v1/signin/totp", public, func(s *Server) http.HandlerFunc { return s.signInTOTP }},
	{"POST", "/api/v1/signin/recovery", public, func(s *Server) http.HandlerFunc { return s.signInRecovery }},
	{"GET", "/api/v1/queue", operator, func(s *Server) http.HandlerFunc { return s.listQueue }},
	{"POST", "/api/v1/queue/{id}/{action}", operator, func(s *Server) http.HandlerFunc { return s.queueAction }},
	{"GET", "/api/v1/tenants/{tenant}/queue", admin, func(s *Server) http.HandlerFunc { return s.listQueue }},
	{"POST", "/api/v1/tenants/{tenant}/queue/{id}/{action}", admin, func(s *Server) http.HandlerFunc { return s.queueAction }},
	{"GET", "/api/v1/dev/messages", operator, func(s *Server) http.HandlerFunc { return s.listCaptured }},
	{"GET", "/api/v1/dev/messages/{id}", operator, func(s *Server) http.HandlerFunc { return s.getCaptured }},
	{"GET", "/api/v1/tenants", admin, func(s *Server) http.HandlerFunc { return s.listTenants }},
	{"GET", "/api/v1/tenant-search", operator, func(s *Server) http.HandlerFunc { return s.searchTenants }},
	{"POST", "/api/v1/tenants", operator, func(s *Server) http.HandlerFunc { return s.createTenant }},
	{"GET", "/api/v1/tenants/{tenant}", admin, func(s *Server) http.HandlerFunc { return s.getTenant }},
	{"PUT", "/api/v1/tenants/{tenant}/licence", operator, func(s *Server) http.HandlerFunc { return s.setLicence }},
	{"GET", "/api/v1/tenants/{tenant}/domains", admin, func(s *Server) http.HandlerFunc { return s.listDomains }},
	{"POST", "/api/v1/tenants/{tenant}/domains", admin, func(s *Server) http.HandlerFunc { return s.addDomain }},
	{"POST", "/api/v1/tenants/{tenant}/domains/{domain}/verify", admin, func(s *Server) http.HandlerFunc { return s.verifyDomain }},
	{"GET", "/api/v1/tenants/{tenant}/domains/{domain}/dkim", admin, func(s *Server) http.HandlerFunc { return s.listDKIM }},
	{"POST", "/api/v1/tenants/{tenant}/domains/{domain}/dkim", admin, func(s *Server) http.HandlerFunc { return s.ensureDKIM }},
	{"POST", "/api/v1/tenants/{tenant}/domains/{domain}/dkim/check", admin, func(s *Server) http.HandlerFunc { return s.checkDKIM }},
	{"POST", "/api/v1/tenants/{tenant}/domains/{domain}/dkim/rotate", admin, func(s *Server) http.HandlerFunc { return s.rotateDKIM }},
	{"POST", "/api/v1/tenants/{tenant}/domains/{domain}/dkim/keys", admin, func(s *Server) http.HandlerFunc { return s.uploadDKIM }},
	{"GET", "/api/v1/tenants/{tenant}/suppressions", admin, func(s *Server) http.HandlerFunc { return s.listSuppressions }},
	{"POST", "/api/v1/tenants/{tenant}/suppressions", admin, func(s *Server) http.HandlerFunc { return s.addSuppression }},
	{"DELETE", "/api/v1/tenants/{tenant}/suppressions/{address}", admin, func(s *Server) http.HandlerFunc { return s.removeSuppression }},
	{"GET", "/api/v1/tenants/{tenant}/event-webhook", admin, func(s *Server) http.HandlerFunc { return s.getEventWebhook }},
	{"PUT", "/api/v1/tenants/{tenant}/event-webhook", admin, func(s *Server) http.HandlerFunc { return s.setEventWebhook }},
	{"DELETE", "/api/v1/tenants/{tenant}/event-webhook", admin, func(s *Server) http.HandlerFunc { return s.clearEventWebhook }},
	{"POST", "/api/v1/tenants/{tenant}/event-webhook/rotate-secret", admin, func(s *Server) http.HandlerFunc { return s.rotateEventSecret }},
	{"GET", "/api/v1/tenants/{tenant}/event-webhook/failed", admin, func(s *Server) http.HandlerFunc { return s.listFailedEvents }},
	{"POST", "/api/v1/tenants/{tenant}/event-webhook/failed/redeliver", admin, func(s *Server) http.HandlerFunc { return s.redeliverEvents }},
	{"GET", "/api/v1/suppressions", operator, func(s *Server) http.HandlerFunc { return s.listSuppressions }},
	{"POST", "/api/v1/suppressions", operator, func(s *Server) http.HandlerFunc { return s.addSuppression }},
	{"DELETE", "/api/v1/suppressions/{address}", operator, func(s *Server) http.HandlerFunc { return s.removeSuppression }},
	{"GET", "/api/v1/tenants/{tenant}/connectors", admin, func(s *Server) http.HandlerFunc { return s.listConnectors }},
	{"POST", "/api/v1/tenants/{tenant}/connectors", admin, func(s *Server) http.HandlerFunc { return s.createConnector }},
	{"POST", "/api/v1/tenants/{tenant}/connectors/{connector}/confirm", admin, func(s *Server) http.HandlerFunc { return s.confirmConnector }},
	{"DELETE", "/api/v1/tenants/{tenant}/connectors/{connector}", admin, func(s *Server) http.HandlerFunc { return s.deleteConnector }},
	{"GET", "/api/v1/tenants/{tenant}/users", admin, func(s *Server) http.HandlerFunc { return s.listUsers }},
	{"POST", "/api/v1/tenants/{tenant}/users", admin, func(s *Server) http.HandlerFunc { return s.createUser }},
	{"PUT", "/api/v1/tenants/{tenant}/users/{user}/password", admin, func(s *Server) http.HandlerFunc { return s.setUserPassword }},
	{"PUT", "/api/v1/tenants/{tenant}/users/{user}/disabled", admin, func(s *Server) http.HandlerFunc { return s.setUserDisabled }},
	{"GET", "/api/v1/tenants/{tenant}/users/{user}/app-passwords", admin, func(s *Server) http.HandlerFunc { return s.listAppPasswords }},
	{"POST", "/api/v1/tenants/{tenant}/users/{user}/app-passwords", admin, func(s *Server) http.HandlerFunc { return s.createAppPassword }},
	{"DELETE", "/api/v1/tenants/{tenant}/users/{user}/app-passwords/{app_password}", admin, func(s *Server) http.HandlerFunc { return s.revokeAppPassword }},
	{"GET", "/api/v1/tenants/{tenant}/users/{user}/aliases", admin, func(s *Server) http.HandlerFunc { return s.listAliases }},
	{"POST", "/api/v1/tenants/{tenant}/users/{user}/aliases", admin, func(s *Server) http.HandlerFunc { return s.addAlias }},
	{"DELETE", "/api/v1/tenants/{tenant}/users/{user}/aliases/{alias}", admin, func(s *Server) http.HandlerFunc { return s.removeAlias }},
	{"PUT", "/api/v1/tenants/{tenant}/sender-binding", admin, func(s *Server) http.HandlerFunc { return s.setSenderBinding }},
	{"GET", "/api/v1/tenants/{tenant}/admins", admin, func(s *Server) http.HandlerFunc { return s.listAdmins }},
	{"POST", "/api/v1/tenants/{tenant}/admins", admin, func(s *Server) http.HandlerFunc { return s.createAdmin }},
	{"POST", "/api/v1/tenants/{tenant}/admins/{admin}/password-change", admin, func(s *Server) http.HandlerFunc { return s.requirePasswordChange }},
	{"GET", "/api/v1/tenants/{tenant}/tokens", admin, func(s *Server) http.HandlerFunc { return s.listTenantTokens }},
	{"PUT", "/api/v1/me/password", admin, func(s *Server) http.HandlerFunc { return s.changeOwnPassword }},
	{"DELETE", "/api/v1/admins/{admin}/mfa", operator, func(s *Server) http.HandlerFunc { return s.resetAdminMFA }},
	{"GET", "/api/v1/operators", operator, func(s *Server) http.HandlerFunc { return s.listOperators }},
	{"POST", "/api/v1/operators", operator, func(s *Server) http.HandlerFunc { return s.createOperator }},
	{"GET", "/api/v1/tokens", admin, func(s *Server) http.HandlerFunc { return s.listTokens }},
	{"POST", "/api/v1/tokens", admin, func(s *Server) http.HandlerFunc { return s.createToken }},
	{"DELETE", "/api/v1/tokens/{token}", admin, func(s *Server) http.HandlerFunc { return s.revokeToken }},
	{"GET", "/api/v1/policy", operator, func(s *Server) http.HandlerFunc { return s.getDefaults }},
	{"GET", "/api/v1/dashboard", operator, func(s *Server) http.HandlerFunc { return s.dashboard }},
	{"GET", "/api/v1/standings", operator, func(s *Server) http.HandlerFunc { return s.listStandings }},
	{"GET", "/api/v1/tenants/{tenant}/status", admin, func(s *Server) http.HandlerFunc { return s.tenantStatus }},
	{"GET", "/api/v1/tenants/{tenant}/stats", admin, func(s *Server) http.HandlerFunc { return s.tenantStats }},
	{"GET", "/api/v1/blocks", operator, func(s *Server) http.HandlerFunc { return s.listAllBlocks }},
	{"GET", "/api/v1/tenants/{tenant}/blocks", admin, func(s *Server) http.HandlerFunc { return s.listBlocks }},
	{"POST", "/api/v1/tenants/{tenant}/blocks", operator, func(s *Server) http.HandlerFunc { return s.blockTenant }},
	{"POST", "/api/v1/tenants/{tenant}/unblock", operator, func(s *Server) http.HandlerFunc { return s.unblockTenant }},
	{"GET", "/api/v1/tenants/{tenant}/policy", admin, func(s *Server) http.HandlerFunc { return s.getPolicy }},
	{"PUT", "/api/v1/tenants/{tenant}/policy", operator, func(s *Server) http.HandlerFunc { return s.setPolicy }},
	{"GET", "/api/v1/tenants/{tenant}/restrictions", admin, func(s *Server) http.HandlerFunc { return s.listRestrictions }},
	{"DELETE", "/api/v1/tenants/{tenant}/restrictions/{restriction}", admin, func(s *Server) http.HandlerFunc { return s.releaseRestriction }},
	{"GET", "/api/v1/tenants/{tenant}/unblock-requests", admin, func(s *Server) http.HandlerFunc { return s.listTenantUnblockRequests }},
	{"POST", "/api/v1/tenants/{tenant}/unblock-requests", admin, func(s *Server) http.HandlerFunc { return s.createUnblockRequest }},
	{"GET", "/api/v1/unblock-requests", operator, func(s *Server) http.HandlerFunc { return s.listUnblockRequests }},
	{"GET", "/api/v1/unblock-requests/{request}", admin, func(s *Server) http.HandlerFunc { return s.getUnblockRequest }},
	{"POST", "/api/v1/unblock-requests/{request}/approve", operator, func(s *Server) http.HandlerFunc { return s.approveUnblockRequest }},
	{"POST", "/api/v1/unblock-requests/{request}/deny", operator, func(s *Server) http.HandlerFunc { return s.denyUnblockRequest }},
	{"GET", "/api/v1/reputation/ips/{ip}", operator, func(s *Server) http.HandlerFunc { return s.getIPReputation }},
	{"GET", "/api/v1/reputation/lists", operator, func(s *Server) http.HandlerFunc { return s.listReputationLists }},
	{"POST", "/api/v1/reputation/lists", operator, func(s *Server) http.HandlerFunc { return s.addReputationList }},
	{"DELETE", "/api/v1/reputation/lists", operator, func(s *Server) http.HandlerFunc { return s.removeReputationList }},
	{"GET", "/api/v1/reputation/exceptions", operator, func(s *Server) http.HandlerFunc { return s.listExceptions }},
	{"POST", "/api/v1/reputation/exceptions", operator, func(s *Server) http.HandlerFunc { return s.grantException }},
	{"DELETE", "/api/v1/reputation/exceptions/{exception}", operator, func(s *Server) http.HandlerFunc { return s.revokeException }},
	{"GET", "/api/v1/trace", admin, func(s *Server) http.HandlerFunc { return s.searchTrace }},
	{"GET", "/api/v1/trace/{id}", admin, func(s *Server) http.HandlerFunc { return s.getTrace }},
	{"POST", "/api/v1/trace/{id}/correction", admin, func(s *Server) http.HandlerFunc { return s.correctTrace }},
	{"GET", "/api/v1/corrections", admin, func(s *Server) http.HandlerFunc { return s.listCorrections }},
	{"DELETE", "/api/v1/corrections/{correction}", admin, func(s *Server) http.HandlerFunc { return s.withdrawCorrection }},
	{"GET", "/api/v1/audit", admin, func(s *Server) http.HandlerFunc { return s.queryAudit }},
	{"GET", "/api/v1/audit/verify", operator, func(s *Server) http.HandlerFunc { return s.verifyAudit }},
	{"POST", "/api/v1/feedback/arf", operator, func(s *Server) http.HandlerFunc { return s.postARF }},
	{"POST", "/api/v1/simulate/policy", operator, func(s *Server) http.HandlerFunc { return s.simulatePolicy }},
}

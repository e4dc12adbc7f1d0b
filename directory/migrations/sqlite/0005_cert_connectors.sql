-- Certificate connectors: the tenant's server is recognised by the domain in
-- its TLS client certificate (CN or a DNS SAN; "*.example.net" allowed)
-- instead of by source address. '' for IP-range connectors.
ALTER TABLE connectors ADD COLUMN cert_domain TEXT NOT NULL DEFAULT '';

-- Secrets of the installation, made once and shared by every node (the
-- console's cookie key): name, and the value in hex.
CREATE TABLE install_secrets (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

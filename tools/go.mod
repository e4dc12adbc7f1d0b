// The linters .ci/run runs, pinned, kept out of Tollgate's own go.mod so
// they add nothing to what Tollgate builds with. Build them with
//   (cd tools && go build -o /tmp/lint/ honnef.co/go/tools/cmd/staticcheck golang.org/x/tools/cmd/goimports)
// and run them from the repository's root, as .ci/lint does.
module github.com/tollgate-mail/tollgate/tools

go 1.26.8

tool (
	golang.org/x/tools/cmd/goimports
	honnef.co/go/tools/cmd/staticcheck
)

require (
	github.com/BurntSushi/toml v1.4.1-0.20240526193622-a339e1f7089c // indirect
	golang.org/x/exp/typeparams v0.0.0-20231108232855-2478ac86f678 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/telemetry v0.0.0-20261009151841-97e8ea77aa2a // indirect
	golang.org/x/tools v0.52.0 // indirect
	honnef.co/go/tools v0.8.2 // indirect
)

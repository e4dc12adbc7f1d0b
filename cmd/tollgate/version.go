package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// The release script (packaging/build.sh) sets these with
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=abc123 -X main.buildDate=2026-12-03T12:00:00Z"
//
// A plain `go build` in a git checkout leaves them empty, and versionInfo
// takes the commit and its time from the Go toolchain's VCS stamp instead.
var (
	version   string
	commit    string
	buildDate string
)

// buildVersion is what `tollgate version` prints.
type buildVersion struct {
	Version, Commit, Date string
	Modified              bool // built from a tree with uncommitted changes
}

func (v buildVersion) String() string {
	c := v.Commit
	if v.Modified {
		c += "-dirty"
	}
	return fmt.Sprintf("tollgate %s (commit %s, built %s)", v.Version, c, v.Date)
}

// versionInfo merges the -X values (which win) with the module's build
// information; what neither knows is "unknown", and the version "dev".
func versionInfo(ver, com, date string, bi *debug.BuildInfo, ok bool) buildVersion {
	v := buildVersion{Version: ver, Commit: com, Date: date}
	if ok && bi != nil {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.time":
				if v.Date == "" {
					v.Date = s.Value
				}
			case "vcs.modified":
				v.Modified = com == "" && s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if v.Date == "" {
		v.Date = "unknown"
	}
	return v
}

func currentVersion() buildVersion {
	bi, ok := debug.ReadBuildInfo()
	return versionInfo(version, commit, buildDate, bi, ok)
}

func runVersion(args []string) error {
	return printVersion(os.Stdout, args)
}

func printVersion(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: tollgate version

Prints the version, the commit and the build date (also: tollgate --version).
Release binaries carry the values packaging/build.sh gave them; a build from a
git checkout carries the commit and commit time the Go toolchain recorded.
`)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see tollgate version --help)", fs.Arg(0))
	}
	_, err := fmt.Fprintln(w, currentVersion())
	return err
}

// Command tollgate is the outbound mail gateway for multi-tenant email
// services: one binary that serves SMTP, delivers, and administers.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// command is one entry of the command table.
type command struct {
	name    string
	summary string
	run     func(args []string) error
}

var commands = []command{
	{"serve", "run the gateway (serve --dev for the embedded demo set-up)", runServe},
	{"admin", "administer a running gateway over its admin API", runAdmin},
	{"classify", "classify messages, train and evaluate the content classifier", runClassify},
	{"simulate", "replay hours of tenants' traffic through the real checks on a virtual clock: who is stopped, when, on what evidence", runSimulate},
	{"demo", "play the protection scenarios (5.7.705, 5.7.708, 5.7.750, 5.1.8) on an in-process dev gateway", runDemo},
	{"version", "print the version, commit and build date", runVersion},
	{"config", "check a configuration file (config check --config FILE)", runConfig},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Tollgate relays each tenant's outbound mail and stops abuse at the gate.

Usage:
  tollgate <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Start here:
  tollgate serve --dev        run on loopback with a demo tenant and a capture sink
  tollgate admin messages     list what the capture sink received
  tollgate admin login EMAIL  sign in to a gateway as an admin or operator

Run "tollgate <command> --help" for a command's flags.
`)
}

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "-h" || name == "--help" || name == "-help" || name == "help" {
		usage(os.Stdout)
		return
	}
	if name == "--version" || name == "-version" {
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			if err := c.run(os.Args[2:]); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return
				}
				// One line: the error says what and which value.
				fmt.Fprintln(os.Stderr, "tollgate:", err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "tollgate: unknown command %q (see tollgate --help)\n", name)
	os.Exit(2)
}

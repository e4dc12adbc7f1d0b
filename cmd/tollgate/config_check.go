package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tollgate-mail/tollgate/config"
)

func runConfig(args []string) error {
	return configCommand(os.Stdout, args)
}

// configCommand is `tollgate config check`: it loads a file over the
// defaults exactly as serve does and validates it, without opening the
// store or any listener, so a package's postinst, a unit's ExecStartPre or
// an operator before a restart can tell a bad file from a good one.
func configCommand(w io.Writer, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		fmt.Fprint(w, configUsage)
		if len(args) == 0 {
			return errors.New("config: missing subcommand (see tollgate config --help)")
		}
		return flag.ErrHelp
	}
	if args[0] != "check" {
		return fmt.Errorf("config: unknown subcommand %q (see tollgate config --help)", args[0])
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() { fmt.Fprint(fs.Output(), configUsage) }
	file := fs.String("config", "", "TOML configuration `file` to check")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("config check: unexpected argument %q (see tollgate config --help)", fs.Arg(0))
	}
	if *file == "" {
		return errors.New("config check: --config FILE is required")
	}
	cfg := config.Default()
	if err := cfg.LoadFile(*file); err != nil {
		return err
	}
	if err := cfg.Finish(); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	_, err := fmt.Fprintf(w, "%s: ok (data_dir %s, hostname %s)\n", *file, cfg.DataDir, cfg.Hostname)
	return err
}

const configUsage = `Usage: tollgate config check --config FILE

Reads FILE over the defaults as "tollgate serve --config FILE" does and checks
every key (docs/configuration.md). Prints "FILE: ok" and exits 0, or prints the
first bad key and exits 1. It opens no store and no listener.
`

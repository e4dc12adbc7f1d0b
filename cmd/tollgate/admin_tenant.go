package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// tenantFlag lets every command take --tenant by name or id. For a
// command with its own int64 --tenant flag it stands in front of that flag
// and, after parsing, looks a name up and sets the id; for a command whose
// arguments start with TENANT it is the flag form of that argument.
type tenantFlag struct {
	orig       flag.Value // the command's own flag; nil for the positional form
	value      string
	set        bool
	positional bool
}

func (t *tenantFlag) String() string {
	if t == nil {
		return ""
	}
	return t.value
}

func (t *tenantFlag) Set(s string) error {
	t.set, t.value = true, s
	if t.orig != nil {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			t.value = ""
			return t.orig.Set(s)
		}
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("empty tenant: give its name or id")
	}
	return nil
}

// tenantFlagOf installs the --tenant handling for cmd in fs; nil when the
// command has no tenant.
func tenantFlagOf(fs *flag.FlagSet, cmd *adminCommand) *tenantFlag {
	if f := fs.Lookup("tenant"); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			if _, isID := g.Get().(int64); isID {
				t := &tenantFlag{orig: f.Value}
				f.Value = t
				return t
			}
		}
		return nil
	}
	if strings.HasPrefix(cmd.args, "TENANT") {
		t := &tenantFlag{positional: true}
		fs.Var(t, "tenant", "the TENANT, by `name or id`, as a flag")
		return t
	}
	return nil
}

// resolve applies a --tenant given by name: it looks the name up and sets
// the command's id flag, or puts the tenant first among the arguments.
func (t *tenantFlag) resolve(c *adminClient, pos []string) ([]string, error) {
	if t == nil || !t.set || t.value == "" {
		return pos, nil
	}
	if t.positional {
		return append([]string{t.value}, pos...), nil
	}
	id, err := c.tenantID(t.value)
	if err != nil {
		return nil, err
	}
	return pos, t.orig.Set(strconv.FormatInt(id, 10))
}

// tenantID turns a tenant's id or name into its id. A name is looked up
// among the tenants the token sees, so a typo is an error that names it.
func (c *adminClient) tenantID(arg string) (int64, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		if id <= 0 {
			return 0, fmt.Errorf("tenant %q: an id is a positive number", arg)
		}
		return id, nil
	}
	ts, err := c.api.Tenants(c.ctx)
	if err != nil {
		return 0, err
	}
	for _, t := range ts {
		if strings.EqualFold(t.Name, arg) {
			return t.ID, nil
		}
	}
	return 0, fmt.Errorf("no tenant named %q that this token can see (see tollgate admin tenant list)", arg)
}

// tenantPath is /api/v1/tenants/<id>; a missing --tenant is an error that
// says so.
func tenantPath(id *int64) (string, error) {
	if id == nil || *id <= 0 {
		return "", errors.New("give --tenant NAME or ID (see tollgate admin tenant list)")
	}
	return fmt.Sprintf("/api/v1/tenants/%d", *id), nil
}

// tenantPathOf turns a tenant id or name into its API path.
func (c *adminClient) tenantPathOf(arg string) (string, error) {
	id, err := c.tenantID(arg)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("/api/v1/tenants/%d", id), nil
}

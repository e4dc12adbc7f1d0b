package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// The DKIM commands: a verified domain's keys and records, the check that
// they are published, rotation and a tenant's own key (docs/deliverability.md).
func init() {
	tenantFlag := func(fs *flag.FlagSet) any {
		return fs.Int64("tenant", 0, "tenant `id` (see tollgate admin tenants)")
	}
	adminCommands = append(adminCommands,
		adminCommand{"dkim", "DOMAIN", "list a verified domain's DKIM keys and the TXT records to publish", tenantFlag, (*adminClient).dkimList},
		adminCommand{"dkim-generate", "DOMAIN", "give an already verified domain its DKIM keys (Ed25519 and RSA-2048) unless it has some", tenantFlag, (*adminClient).dkimGenerate},
		adminCommand{"dkim-check", "DOMAIN", "look the DKIM records up now; keys sign from the check that sees all of them", tenantFlag, (*adminClient).dkimCheck},
		adminCommand{"dkim-rotate", "DOMAIN", "make a new generation of DKIM keys; it signs once its records are seen, and the old one is retired", tenantFlag, (*adminClient).dkimRotate},
		adminCommand{"dkim-upload", "DOMAIN", "bring your own DKIM key: a PEM private key (RSA or Ed25519) from --key FILE or standard input (-)", func(fs *flag.FlagSet) any {
			return &dkimUploadOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), key: fs.String("key", "", "PEM private key `file`, or - for standard input"),
				selector: fs.String("selector", "", "DNS `selector` (a-z, 0-9, -); chosen for you when empty")}
		}, (*adminClient).dkimUpload},
	)
}

type dkimRow struct {
	Selector   string `json:"selector"`
	Algorithm  string `json:"algorithm"`
	Generation int    `json:"generation"`
	State      string `json:"state"`
	Origin     string `json:"origin"`
	Record     string `json:"record"`
	Published  *bool  `json:"published"`
	Detail     string `json:"detail"`
}

// dkimPath is the API path of a domain's DKIM keys.
func dkimPath(tenant *int64, args []string) (string, error) {
	base, err := tenantPath(tenant)
	if err != nil {
		return "", err
	}
	name, err := oneArg(args, "domain NAME")
	if err != nil {
		return "", err
	}
	return base + "/domains/" + name + "/dkim", nil
}

func (c *adminClient) dkimTable(keys []dkimRow) error {
	tw := c.table("SELECTOR\tALGORITHM\tGEN\tSTATE\tORIGIN\tRECORD TO PUBLISH")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", k.Selector, k.Algorithm, k.Generation, k.State, k.Origin, k.Record)
	}
	return tw.Flush()
}

func (c *adminClient) dkimList(o any, args []string) error {
	path, err := dkimPath(o.(*int64), args)
	if err != nil {
		return err
	}
	var r struct{ Keys []dkimRow }
	if err := c.get(path, &r); err != nil {
		return printed(err)
	}
	return c.dkimTable(r.Keys)
}

func (c *adminClient) dkimGenerate(o any, args []string) error {
	path, err := dkimPath(o.(*int64), args)
	if err != nil {
		return err
	}
	var r struct{ Keys []dkimRow }
	if err := c.do("POST", path, nil, &r); err != nil {
		return printed(err)
	}
	return c.dkimTable(r.Keys)
}

func (c *adminClient) dkimRotate(o any, args []string) error {
	path, err := dkimPath(o.(*int64), args)
	if err != nil {
		return err
	}
	var r struct{ Keys []dkimRow }
	if err := c.do("POST", path+"/rotate", nil, &r); err != nil {
		return printed(err)
	}
	fmt.Fprintln(c.out, "new keys: publish these records; they sign from the first check that sees them all")
	return c.dkimTable(r.Keys)
}

func (c *adminClient) dkimCheck(o any, args []string) error {
	path, err := dkimPath(o.(*int64), args)
	if err != nil {
		return err
	}
	var r struct {
		Checked   []dkimRow
		Activated int
	}
	if err := c.do("POST", path+"/check", nil, &r); err != nil {
		return printed(err)
	}
	tw := c.table("SELECTOR\tSTATE\tPUBLISHED\tFOUND")
	for _, k := range r.Checked {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", k.Selector, k.State, k.Published != nil && *k.Published, k.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Activated != 0 {
		fmt.Fprintf(c.out, "generation %d now signs\n", r.Activated)
	}
	return nil
}

type dkimUploadOpts struct {
	tenant   *int64
	key      *string
	selector *string
}

func (c *adminClient) dkimUpload(o any, args []string) error {
	opts := o.(*dkimUploadOpts)
	path, err := dkimPath(opts.tenant, args)
	if err != nil {
		return err
	}
	var pem []byte
	switch *opts.key {
	case "":
		return errors.New("give --key FILE (a PEM private key), or --key - to read it from standard input")
	case "-":
		pem, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	default:
		pem, err = os.ReadFile(*opts.key)
	}
	if err != nil {
		return fmt.Errorf("--key %s: %w", *opts.key, err)
	}
	var k dkimRow
	if err := c.do("POST", path+"/keys", map[string]any{"pem": string(pem), "selector": *opts.selector}, &k); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "key %s (%s) added as generation %d: publish\n%s\nit signs from the first check that sees it\n", k.Selector, k.Algorithm, k.Generation, k.Record)
	return nil
}

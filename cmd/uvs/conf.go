package main

import (
	"fmt"
	"io"

	"github.com/uvslb/uvs/conf"
)

const confUsage = `Usage:
  uvs conf check [-i ID] FILE...   report problems as file:line:col: error|warning: message
  uvs conf convert [-i ID] FILE    print the canonical TOML of what uvs understood
  uvs conf dump [-i ID] FILE       print the compiled model with every default filled in

Formats (detected by content): uvs TOML, keepalived.conf (with include),
ldirectord.cf, ipvsadm rules. -i sets keepalived's config-id for @ID lines
(default: the host name up to the first dot).
`

// cmdConf runs `uvs conf check|convert|dump`. check exits 1 when any file
// has an error; convert and dump print problems on stderr and exit 1 on
// errors (after printing what was understood).
func cmdConf(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, confUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	opts := conf.Options{ConfigID: ""}
	idSet := false
	var files []string
	for i := 0; i < len(rest); i++ {
		switch a := rest[i]; a {
		case "-i", "--config-id":
			if i+1 >= len(rest) {
				fmt.Fprintf(stderr, "uvs conf: %s needs a value\n", a)
				return 2
			}
			opts.ConfigID, idSet = rest[i+1], true
			i++
		case "-h", "--help":
			fmt.Fprint(stdout, confUsage)
			return 0
		default:
			files = append(files, a)
		}
	}
	if !idSet {
		opts.ConfigID = conf.HostConfigID()
	}
	switch sub {
	case "check":
		if len(files) == 0 {
			fmt.Fprint(stderr, "uvs conf check: no FILE given\n\n"+confUsage)
			return 2
		}
		rc := 0
		for _, f := range files {
			_, probs := conf.LoadWith(conf.OS(), f, opts)
			conf.SortProblems(probs)
			for _, p := range probs {
				fmt.Fprintln(stdout, p.Error())
			}
			if conf.HasErrors(probs) {
				rc = 1
			}
		}
		return rc
	case "convert", "dump":
		if len(files) != 1 {
			fmt.Fprintf(stderr, "uvs conf %s: want exactly one FILE\n\n%s", sub, confUsage)
			return 2
		}
		var cfg *conf.Config
		var probs []conf.Problem
		var out []byte
		if sub == "convert" {
			// The output is what was read, before defaults; the problems
			// are those of the whole load, compile step included.
			cfg, _ = conf.ParseWith(conf.OS(), files[0], opts)
			out = cfg.MarshalTOML()
			_, probs = conf.LoadWith(conf.OS(), files[0], opts)
		} else {
			cfg, probs = conf.LoadWith(conf.OS(), files[0], opts)
			out = cfg.Dump()
		}
		conf.SortProblems(probs)
		for _, p := range probs {
			fmt.Fprintln(stderr, p.Error())
		}
		stdout.Write(out)
		if conf.HasErrors(probs) {
			return 1
		}
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, confUsage)
		return 0
	}
	fmt.Fprintf(stderr, "uvs conf: unknown command %q\n\n%s", sub, confUsage)
	return 2
}

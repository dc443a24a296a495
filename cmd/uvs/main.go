// Command uvs is the userspace virtual server: the daemon (run), offline
// replay of captures (replay) and configuration tools (conf).
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `uvs — userspace virtual server (an LVS director without the IPVS modules)

Usage:
  uvs conf check FILE...     report problems as file:line:col: error|warning: message
  uvs conf convert FILE      print the canonical TOML of what uvs understood
  uvs conf dump FILE         print the compiled model with every default filled in
  uvs replay -f CONFIG --in IN.pcap --out OUT.pcap [--trace FILE|-] [--trace-format json|text]
             [--mac MAC] [--ip ADDR]... [--neigh IP=MAC]... [--down IP:PORT]...
  uvs help                   this text
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "conf":
		return cmdConf(args[1:], stdout, stderr)
	case "replay":
		return cmdReplay(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "uvs: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

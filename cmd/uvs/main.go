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
  uvs conf check FILE...     report every problem as file:line:col: error|warning: message;
                             exit 1 if any is an error
  uvs conf convert FILE      print the canonical TOML of what uvs understood
                             (converting that output again gives the same bytes)
  uvs conf dump FILE         print the compiled model with every default filled in
  uvs replay -f CONFIG --in IN.pcap --out OUT.pcap [flags]
                             run the real dataplane over a capture, no devices, no root
  uvs help                   this text

Configuration files may be native TOML, keepalived.conf (with include),
ldirectord.cf or ipvsadm rules (ipvsadm -S output); the format is detected
from the content.

uvs replay flags:
  -f CONFIG             the configuration (all real servers up unless --down)
  --in IN.pcap          input capture (pcap or pcapng; Ethernet or raw IP); every
                        frame is received on the director's one interface, and
                        the capture's timestamps are the clock
  --out OUT.pcap        every frame the director transmits (forwarded, ARP, ICMP),
                        stamped with the time of the frame that caused it
  --trace FILE|-        one record per input frame
  --trace-format F      json (JSON Lines: ts in service conn state dest action
                        reason out) or text (readable, for learning NAT/DR/TUN)
  --mac MAC             the director's MAC (default: destination MAC of the first
                        frame sent to a VIP)
  --ip ADDR             the director's own address, one per family: source of
                        tunnel packets and of ICMP errors (default: the VIP)
  --neigh IP=MAC        static neighbour (repeatable); otherwise uvs sends ARP/ND
                        requests and learns from the replies in IN
  --down IP:PORT        a failed real server (repeatable): sorry server, quorum
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

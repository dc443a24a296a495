package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/uvslb/uvs/director"
)

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// cmdReplay implements `uvs replay` (DESIGN.md, "uvs replay").
func cmdReplay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("uvs replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfgPath, in, out, trace, format, mac string
		ips, neighs, downs                   multi
	)
	fs.StringVar(&cfgPath, "f", "", "configuration file (keepalived.conf, ldirectord.cf, ipvsadm rules or TOML)")
	fs.StringVar(&in, "in", "", "input capture (pcap or pcapng, Ethernet or raw IP)")
	fs.StringVar(&out, "out", "", "output capture: every frame the director transmits")
	fs.StringVar(&trace, "trace", "", "write one trace record per input frame to FILE (- for standard output)")
	fs.StringVar(&format, "trace-format", "json", "trace format: json (JSON Lines) or text")
	fs.StringVar(&mac, "mac", "", "the director's MAC (default: destination MAC of the first frame sent to a VIP)")
	fs.Var(&ips, "ip", "the director's own address (repeatable, one per family)")
	fs.Var(&neighs, "neigh", "static neighbour IP=MAC (repeatable)")
	fs.Var(&downs, "down", "real server IP:PORT that is failed (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "uvs replay: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if cfgPath == "" || in == "" || out == "" {
		fmt.Fprintln(stderr, "uvs replay: -f CONFIG, --in IN.pcap and --out OUT.pcap are required")
		return 2
	}
	opt := director.ReplayOptions{Config: cfgPath, In: in, Out: out, Trace: trace}
	switch format {
	case "json":
	case "text":
		opt.Text = true
	default:
		fmt.Fprintf(stderr, "uvs replay: --trace-format %q: want json or text\n", format)
		return 2
	}
	if mac != "" {
		hw, err := net.ParseMAC(mac)
		if err != nil || len(hw) != 6 {
			fmt.Fprintf(stderr, "uvs replay: --mac %q: not an Ethernet address\n", mac)
			return 2
		}
		opt.MAC = [6]byte(hw)
		opt.HaveMAC = true
	}
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			fmt.Fprintf(stderr, "uvs replay: --ip %q: %v\n", s, err)
			return 2
		}
		opt.Addrs = append(opt.Addrs, a)
	}
	for _, s := range neighs {
		ip, hwS, ok := strings.Cut(s, "=")
		a, err := netip.ParseAddr(ip)
		hw, err2 := net.ParseMAC(hwS)
		if !ok || err != nil || err2 != nil || len(hw) != 6 {
			fmt.Fprintf(stderr, "uvs replay: --neigh %q: want IP=MAC\n", s)
			return 2
		}
		opt.Neighbours = append(opt.Neighbours, director.Neighbour{IP: a, MAC: [6]byte(hw)})
	}
	for _, s := range downs {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			fmt.Fprintf(stderr, "uvs replay: --down %q: want IP:PORT ([v6]:PORT)\n", s)
			return 2
		}
		opt.Down = append(opt.Down, ap)
	}
	var traceW io.Writer
	switch trace {
	case "":
	case "-":
		traceW = stdout
	default:
		f, err := os.Create(trace)
		if err != nil {
			fmt.Fprintf(stderr, "uvs replay: %v\n", err)
			return 1
		}
		defer f.Close()
		traceW = f
	}
	opt.TraceW = traceW
	res, err := director.Replay(opt)
	if err != nil {
		fmt.Fprintf(stderr, "uvs replay: %v\n", err)
		return 1
	}
	if trace != "-" {
		fmt.Fprintf(stderr, "uvs replay: %d frames in, %d frames out, %d dropped\n", res.In, res.Out, res.Dropped)
	}
	return 0
}

package conf

// The ipvsadm rules reader: what `ipvsadm -R` accepts (the output of
// `ipvsadm -S` and hand-written command lines), applied in order so that
// the result is the final state of the table. It follows ipvsadm 1.31
// (ipvsadm.c parse_options/process_options, config_stream.c) and the
// kernel's answers to each command; the messages are ipvsadm's.

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

const (
	// ipvsMaxTimeout is ipvsadm's MAX_TIMEOUT (86400*31, 31 days): the
	// upper bound of -p and of the --set values.
	ipvsMaxTimeout = 86400 * 31
	// ipvsDefaultPersistence is IPVS_SVC_PERSISTENT_TIMEOUT (6*60 s):
	// what a bare -p means.
	ipvsDefaultPersistence = 360
	// ipvsMaxWeight is the upper bound ipvsadm puts on -w.
	ipvsMaxWeight = 65535
	// ipvsMaxThreshold is INT_MAX, the bound of -x and -y.
	ipvsMaxThreshold = 1<<31 - 1
	// ipvsMaxTokens bounds the tokens of one line that are considered:
	// no valid command has more than a few dozen, and it keeps a hostile
	// line from costing more than one problem.
	ipvsMaxTokens = 256
)

// ipvsServices is the built-in table of service names for ports, so that
// loading a config never consults /etc/services or NSS. Names are those
// of Debian's netbase /etc/services, aliases included. Like the other
// tables in this file it is read-only, never written.
var ipvsServices = map[string]uint16{
	"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "mail": 25,
	"domain": 53, "tftp": 69, "http": 80, "www": 80, "www-http": 80, "kerberos": 88,
	"pop3": 110, "pop-3": 110, "nntp": 119, "ntp": 123, "imap": 143, "imap2": 143,
	"snmp": 161, "bgp": 179, "ldap": 389, "https": 443, "submissions": 465, "ssmtp": 465,
	"syslog": 514, "submission": 587, "ldaps": 636, "rsync": 873, "imaps": 993,
	"pop3s": 995, "openvpn": 1194, "ms-sql-s": 1433, "radius": 1812, "radius-acct": 1813,
	"nfs": 2049, "mysql": 3306, "sip": 5060, "sip-tls": 5061, "postgresql": 5432,
	"amqp": 5672, "x11": 6000, "redis": 6379, "http-alt": 8080, "webcache": 8080,
	"memcache": 11211,
}

// ipvsServicePort resolves a service name to a port. proto ("tcp", "udp",
// "sctp" or "") is accepted for symmetry with getservbyname; the table is
// the same for all protocols.
func ipvsServicePort(name, _ string) (uint16, bool) {
	n, ok := ipvsServices[name]
	return n, ok
}

// ipvsKnownScheduler reports whether s names a scheduler module of Linux
// (and so of uvs).
func ipvsKnownScheduler(s string) bool { return Scheduler(s).Valid() }

// ipvsParseNetmask4 parses a dotted-quad IPv4 netmask.
func ipvsParseNetmask4(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// ipvsNetmaskBits returns the prefix length of a contiguous IPv4 mask.
func ipvsNetmaskBits(a netip.Addr) (int, bool) {
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for m&(1<<31) != 0 {
		bits++
		m <<= 1
	}
	return bits, m == 0
}

// Scheduler flag bits (IP_VS_SVC_F_SCHED1..3); sh-fallback and
// mh-fallback are SCHED1, sh-port and mh-port SCHED2.
const (
	ipvsSched1 = 0x0008
	ipvsSched2 = 0x0010
	ipvsSched3 = 0x0020
)

// ipvsParseSchedFlags is parse_sched_flags: a comma separated list. It
// returns the flag names in canonical order, or ipvsadm's message.
func ipvsParseSchedFlags(sched, arg string) ([]string, string) {
	var bits uint32
	for _, f := range strings.Split(arg, ",") {
		if f == "" {
			continue // strtok skips empty fields
		}
		switch f {
		case "flag-1":
			bits |= ipvsSched1
		case "flag-2":
			bits |= ipvsSched2
		case "flag-3":
			bits |= ipvsSched3
		case "sh-fallback", "sh-port", "mh-fallback", "mh-port":
			if sched != f[:2] {
				return nil, fmt.Sprintf("incompatible scheduler flag `%s'", f)
			}
			if strings.HasSuffix(f, "fallback") {
				bits |= ipvsSched1
			} else {
				bits |= ipvsSched2
			}
		default:
			return nil, fmt.Sprintf("invalid scheduler flag `%s'", ipvsTrunc(f))
		}
	}
	return ipvsFlagNames(sched, bits), ""
}

// ipvsFlagNames names the flag bits the way ipvsadm -L prints them.
func ipvsFlagNames(sched string, bits uint32) []string {
	var out []string
	switch sched {
	case "sh", "mh":
		if bits&ipvsSched1 != 0 {
			out = append(out, sched+"-fallback")
		}
		if bits&ipvsSched2 != 0 {
			out = append(out, sched+"-port")
		}
	default:
		if bits&ipvsSched1 != 0 {
			out = append(out, "flag-1")
		}
		if bits&ipvsSched2 != 0 {
			out = append(out, "flag-2")
		}
	}
	if bits&ipvsSched3 != 0 {
		out = append(out, "flag-3")
	}
	return out
}

// ipvsTrunc shortens a token for a message.
func ipvsTrunc(s string) string {
	const maxShown = 64 // enough to recognise any sane token
	if len(s) > maxShown {
		return s[:maxShown] + "..."
	}
	return s
}

// ipvsSvc is one virtual service in the table being built.
type ipvsSvc struct {
	pos        ldPos
	proto      string // tcp, udp, sctp; "" for fwmark services
	v6         bool
	addr       netip.Addr
	port       uint16
	fwmark     uint32
	sched      string
	persistent bool
	timeout    uint32
	netmask    netip.Addr // IPv4 persistence mask
	prefix6    int        // IPv6 persistence prefix length
	pe         string
	ops        bool
	schedFlags []string
	dests      []*ipvsDest
}

// ipvsDest is one real server.
type ipvsDest struct {
	pos     ldPos
	addr    netip.Addr
	port    uint16
	method  string // masq, gate or ipip
	weight  uint32
	upper   uint32 // -x
	lower   uint32 // -y
	tunType string // ipip, gue or gre (ipip methods only)
	tunPort uint16
	tunCsum string // nocsum, csum or remcsum
}

// ipvsRules is the final state after applying every command.
type ipvsRules struct {
	services []*ipvsSvc
	// timeouts holds --set tcp tcpfin udp (0 = leave unchanged).
	timeouts    [3]uint32
	timeoutsSet bool
	timeoutsPos ldPos
	issues      []ldIssue
}

// ipvsTok is one token of a rules line.
type ipvsTok struct {
	s   string
	col int
}

// ipvsTokens splits a line like config_stream_read: blank-separated
// tokens, "ipvsadm" tokens dropped, and everything from a '#' on ignored.
func ipvsTokens(line string) []ipvsTok {
	if h := strings.IndexByte(line, '#'); h >= 0 {
		line = line[:h]
	}
	var toks []ipvsTok
	i := 0
	for i < len(line) && len(toks) <= ipvsMaxTokens {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' {
			j++
		}
		if j > i && line[i:j] != "ipvsadm" {
			toks = append(toks, ipvsTok{line[i:j], i + 1})
		}
		i = j
	}
	return toks
}

// Commands (ipvsadm's CMD_*), starting at an invalid zero.
type ipvsCmd int

const (
	_ ipvsCmd = iota
	ipvsCmdAdd
	ipvsCmdEdit
	ipvsCmdDel
	ipvsCmdFlush
	ipvsCmdList
	ipvsCmdAddDest
	ipvsCmdDelDest
	ipvsCmdEditDest
	ipvsCmdTimeout
	ipvsCmdStartDaemon
	ipvsCmdStopDaemon
	ipvsCmdRestore
	ipvsCmdSave
	ipvsCmdZero
	ipvsCmdHelp
	ipvsCmdVersion
)

// ipvsCmdNames are ipvsadm's cmdnames, used in its messages.
var ipvsCmdNames = map[ipvsCmd]string{
	ipvsCmdAdd: "add-service", ipvsCmdEdit: "edit-service", ipvsCmdDel: "delete-service",
	ipvsCmdFlush: "flush", ipvsCmdList: "list", ipvsCmdAddDest: "add-server",
	ipvsCmdDelDest: "delete-server", ipvsCmdEditDest: "edit-server", ipvsCmdTimeout: "set",
	ipvsCmdStartDaemon: "start-daemon", ipvsCmdStopDaemon: "stop-daemon",
	ipvsCmdRestore: "restore", ipvsCmdSave: "save", ipvsCmdZero: "zero",
	ipvsCmdHelp: "help", ipvsCmdVersion: "version",
}

// Options, in ipvsadm's optnames order (OPTC_*).
const (
	ipvsOptNumeric = iota
	ipvsOptConnection
	ipvsOptService
	ipvsOptScheduler
	ipvsOptPersistent
	ipvsOptNetmask
	ipvsOptServer
	ipvsOptForward
	ipvsOptWeight
	ipvsOptUThreshold
	ipvsOptLThreshold
	ipvsOptMcastIf
	ipvsOptTimeout
	ipvsOptDaemon
	ipvsOptStats
	ipvsOptRate
	ipvsOptThresholds
	ipvsOptPersistentConn
	ipvsOptNoSort
	ipvsOptSyncID
	ipvsOptExact
	ipvsOptOps
	ipvsOptPE
	ipvsOptSchedFlags
	ipvsOptMcastGroup
	ipvsOptMcastPort
	ipvsOptMcastTTL
	ipvsOptSyncMaxlen
	ipvsOptTunInfo
	ipvsOptTunType
	ipvsOptTunPort
	ipvsOptTunNoCsum
	ipvsOptTunCsum
	ipvsOptTunRemCsum
	ipvsNumOpts
)

var ipvsOptNames = [ipvsNumOpts]string{
	"numeric", "connection", "service-address", "scheduler", "persistent", "netmask",
	"real-server", "forwarding-method", "weight", "u-threshold", "l-threshold",
	"mcast-interface", "timeout", "daemon", "stats", "rate", "thresholds",
	"persistent-conn", "nosort", "syncid", "exact", "ops", "pe", "sched-flags",
	"mcast-group", "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info", "tun-type",
	"tun-port", "tun-nocsum", "tun-csum", "tun-remcsum",
}

// ipvsMatrix is commands_v_options for the commands a rules file can
// apply: '+' compulsory, 'x' illegal, ' ' optional. Options not listed
// for a command are illegal.
var ipvsMatrix = map[ipvsCmd]map[int]byte{
	ipvsCmdAdd: {ipvsOptService: '+', ipvsOptScheduler: ' ', ipvsOptPersistent: ' ', ipvsOptNetmask: ' ',
		ipvsOptOps: ' ', ipvsOptPE: ' ', ipvsOptSchedFlags: ' '},
	ipvsCmdEdit: {ipvsOptService: '+', ipvsOptScheduler: ' ', ipvsOptPersistent: ' ', ipvsOptNetmask: ' ',
		ipvsOptOps: ' ', ipvsOptPE: ' ', ipvsOptSchedFlags: ' '},
	ipvsCmdDel:   {ipvsOptService: '+'},
	ipvsCmdFlush: {},
	ipvsCmdAddDest: {ipvsOptService: '+', ipvsOptServer: '+', ipvsOptForward: ' ', ipvsOptWeight: ' ',
		ipvsOptUThreshold: ' ', ipvsOptLThreshold: ' ', ipvsOptTunType: ' ', ipvsOptTunPort: ' ',
		ipvsOptTunNoCsum: ' ', ipvsOptTunCsum: ' ', ipvsOptTunRemCsum: ' '},
	ipvsCmdDelDest: {ipvsOptService: '+', ipvsOptServer: '+'},
	ipvsCmdEditDest: {ipvsOptService: '+', ipvsOptServer: '+', ipvsOptForward: ' ', ipvsOptWeight: ' ',
		ipvsOptUThreshold: ' ', ipvsOptLThreshold: ' ', ipvsOptTunType: ' ', ipvsOptTunPort: ' ',
		ipvsOptTunNoCsum: ' ', ipvsOptTunCsum: ' ', ipvsOptTunRemCsum: ' '},
	ipvsCmdTimeout: {},
}

// Argument kinds of an option.
type ipvsArg int

const (
	_ ipvsArg = iota
	ipvsArgNone
	ipvsArgRequired
	ipvsArgOptional // popt POPT_ARGFLAG_OPTIONAL: taken if the next token does not start with '-'
)

// ipvsOption is one entry of ipvsadm's popt table.
type ipvsOption struct {
	long  string
	short byte
	arg   ipvsArg
}

var ipvsOptions = []ipvsOption{
	{"add-service", 'A', ipvsArgNone}, {"edit-service", 'E', ipvsArgNone},
	{"delete-service", 'D', ipvsArgNone}, {"clear", 'C', ipvsArgNone},
	{"list", 'L', ipvsArgNone}, {"list", 'l', ipvsArgNone}, {"zero", 'Z', ipvsArgNone},
	{"add-server", 'a', ipvsArgNone}, {"edit-server", 'e', ipvsArgNone},
	{"delete-server", 'd', ipvsArgNone}, {"set", 0, ipvsArgNone}, {"help", 'h', ipvsArgNone},
	{"version", 'v', ipvsArgNone}, {"restore", 'R', ipvsArgNone}, {"save", 'S', ipvsArgNone},
	{"start-daemon", 0, ipvsArgRequired}, {"stop-daemon", 0, ipvsArgRequired},
	{"tcp-service", 't', ipvsArgRequired}, {"udp-service", 'u', ipvsArgRequired},
	{"sctp-service", 0, ipvsArgRequired}, {"fwmark-service", 'f', ipvsArgRequired},
	{"scheduler", 's', ipvsArgRequired}, {"persistent", 'p', ipvsArgOptional},
	{"netmask", 'M', ipvsArgRequired}, {"real-server", 'r', ipvsArgRequired},
	{"masquerading", 'm', ipvsArgNone}, {"ipip", 'i', ipvsArgNone}, {"gatewaying", 'g', ipvsArgNone},
	{"weight", 'w', ipvsArgRequired}, {"u-threshold", 'x', ipvsArgRequired},
	{"l-threshold", 'y', ipvsArgRequired}, {"numeric", 'n', ipvsArgNone},
	{"connection", 'c', ipvsArgNone}, {"mcast-interface", 0, ipvsArgRequired},
	{"mcast-group", 0, ipvsArgRequired}, {"mcast-port", 0, ipvsArgRequired},
	{"mcast-ttl", 0, ipvsArgRequired}, {"sync-maxlen", 0, ipvsArgRequired},
	{"syncid", 0, ipvsArgRequired}, {"timeout", 0, ipvsArgNone}, {"daemon", 0, ipvsArgNone},
	{"stats", 0, ipvsArgNone}, {"rate", 0, ipvsArgNone}, {"thresholds", 0, ipvsArgNone},
	{"persistent-conn", 0, ipvsArgNone}, {"nosort", 0, ipvsArgNone}, {"sort", 0, ipvsArgNone},
	{"exact", 'X', ipvsArgNone}, {"ipv6", '6', ipvsArgNone}, {"ops", 'o', ipvsArgNone},
	{"pe", 0, ipvsArgRequired}, {"sched-flags", 'b', ipvsArgRequired},
	{"tun-info", 0, ipvsArgNone}, {"tun-type", 0, ipvsArgRequired},
	{"tun-port", 0, ipvsArgRequired}, {"tun-nocsum", 0, ipvsArgNone},
	{"tun-csum", 0, ipvsArgNone}, {"tun-remcsum", 0, ipvsArgNone},
}

// ipvsLineError is the first error of a line: ipvsadm stops there.
type ipvsLineError struct {
	col int
	msg string
}

// ipvsEntry is ipvsadm's ipvs_command_entry for one line.
type ipvsEntry struct {
	cmd     ipvsCmd
	options [ipvsNumOpts]bool
	svc     ipvsSvc
	svcCol  int
	dest    ipvsDest
	hasDest bool
	// Port given with -r (ipvsadm's SERVICE_PORT).
	destHasPort bool
	destCol     int
	sflagsArg   string
	sflagsCol   int
	netmaskArg  string
	netmaskCol  int
	setArgs     []ipvsTok
	firstCol    int
	// warnings are reported when the line is applied without error.
	warnings []ipvsLineError
}

// parseIPVSRulesFile applies every line of src in order.
func parseIPVSRulesFile(src []byte) *ipvsRules {
	r := &ipvsRules{}
	for i, line := range ldSplitLines(src) {
		toks := ipvsTokens(line)
		if len(toks) == 0 {
			continue
		}
		lno := i + 1
		if len(toks) > ipvsMaxTokens {
			r.issues = append(r.issues, ldIssue{line: lno, col: toks[ipvsMaxTokens].col, msg: "too many arguments on one line"})
			continue
		}
		e, perr := ipvsParseLine(toks)
		if perr == nil {
			perr = r.apply(e, lno)
		}
		if perr != nil {
			r.issues = append(r.issues, ldIssue{line: lno, col: perr.col, msg: perr.msg})
			continue
		}
		for _, w := range e.warnings {
			r.issues = append(r.issues, ldIssue{line: lno, col: w.col, warn: true, msg: w.msg})
		}
	}
	return r
}

// ipvsFindLong finds a long option by name.
func ipvsFindLong(name string) *ipvsOption {
	for i := range ipvsOptions {
		if ipvsOptions[i].long == name {
			return &ipvsOptions[i]
		}
	}
	return nil
}

func ipvsFindShort(c byte) *ipvsOption {
	for i := range ipvsOptions {
		if ipvsOptions[i].short == c {
			return &ipvsOptions[i]
		}
	}
	return nil
}

// ipvsParseLine is parse_options plus the checks of process_options that
// do not need the table.
func ipvsParseLine(toks []ipvsTok) (*ipvsEntry, *ipvsLineError) {
	e := &ipvsEntry{firstCol: toks[0].col}
	// process_options' defaults.
	e.dest.weight = 1
	e.dest.method = "gate"
	e.svc.netmask = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	var positional []ipvsTok
	noMore := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case noMore || len(t.s) < 2 || t.s[0] != '-':
			positional = append(positional, t)
		case t.s == "--":
			noMore = true
		case strings.HasPrefix(t.s, "--"):
			name, arg, hasArg := strings.Cut(t.s[2:], "=")
			o := ipvsFindLong(name)
			if o == nil {
				return nil, &ipvsLineError{t.col, fmt.Sprintf("--%s: unknown option", ipvsTrunc(name))}
			}
			argCol := t.col + 3 + len(name)
			switch {
			case o.arg == ipvsArgNone && hasArg:
				return nil, &ipvsLineError{t.col, fmt.Sprintf("--%s: option does not take an argument", name)}
			case o.arg == ipvsArgRequired && !hasArg:
				if i+1 >= len(toks) {
					return nil, &ipvsLineError{t.col, fmt.Sprintf("--%s: missing argument", name)}
				}
				i++
				arg, argCol, hasArg = toks[i].s, toks[i].col, true
			case o.arg == ipvsArgOptional && !hasArg && i+1 < len(toks) && !strings.HasPrefix(toks[i+1].s, "-"):
				i++
				arg, argCol, hasArg = toks[i].s, toks[i].col, true
			}
			if err := e.option(o, arg, hasArg, t.col, argCol); err != nil {
				return nil, err
			}
		default:
			// A cluster of short options: "-at", "-w3", "-Ln".
			for k := 1; k < len(t.s); k++ {
				o := ipvsFindShort(t.s[k])
				if o == nil {
					return nil, &ipvsLineError{t.col + k, fmt.Sprintf("-%c: unknown option", t.s[k])}
				}
				if o.arg == ipvsArgNone {
					if err := e.option(o, "", false, t.col, 0); err != nil {
						return nil, err
					}
					continue
				}
				arg, argCol, hasArg := t.s[k+1:], t.col+k+1, k+1 < len(t.s)
				if !hasArg {
					if i+1 < len(toks) && (o.arg == ipvsArgRequired || !strings.HasPrefix(toks[i+1].s, "-")) {
						i++
						arg, argCol, hasArg = toks[i].s, toks[i].col, true
					} else if o.arg == ipvsArgRequired {
						return nil, &ipvsLineError{t.col + k, fmt.Sprintf("-%c: missing argument", t.s[k])}
					}
				}
				if err := e.option(o, arg, hasArg, t.col, argCol); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	if e.cmd == 0 {
		return nil, &ipvsLineError{toks[0].col, "no command specified (want -A, -E, -D, -C, -a, -e, -d or --set)"}
	}
	if e.cmd == ipvsCmdTimeout {
		if len(positional) < 3 {
			return nil, &ipvsLineError{e.firstCol, "--set option requires 3 timeout values"}
		}
		e.setArgs, positional = positional[:3], positional[3:]
		for _, a := range e.setArgs {
			if _, ok := ipvsNumber(a.s, 0, ipvsMaxTimeout); !ok {
				return nil, &ipvsLineError{a.col, fmt.Sprintf("invalid timeout value `%s' specified", ipvsTrunc(a.s))}
			}
		}
	}
	if len(positional) > 0 {
		return nil, &ipvsLineError{positional[0].col, fmt.Sprintf("unexpected argument %s", ipvsTrunc(positional[0].s))}
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	return e, nil
}

// ipvsNumber is string_to_number: a decimal in [lo, hi].
func ipvsNumber(s string, lo, hi int64) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimLeft(s, " \t"), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// setOption is set_option: each option at most once.
func (e *ipvsEntry) setOption(opt int, col int) *ipvsLineError {
	if e.options[opt] {
		return &ipvsLineError{col, fmt.Sprintf("multiple '%s' options specified", ipvsOptNames[opt])}
	}
	e.options[opt] = true
	return nil
}

func (e *ipvsEntry) setCommand(c ipvsCmd, col int) *ipvsLineError {
	if e.cmd != 0 {
		return &ipvsLineError{col, "multiple commands specified"}
	}
	e.cmd = c
	return nil
}

// option handles one parsed option (parse_options' switch).
func (e *ipvsEntry) option(o *ipvsOption, arg string, hasArg bool, col, argCol int) *ipvsLineError {
	bad := func(msg string, a ...any) *ipvsLineError { return &ipvsLineError{argCol, fmt.Sprintf(msg, a...)} }
	name := o.long
	switch name {
	case "add-service":
		return e.setCommand(ipvsCmdAdd, col)
	case "edit-service":
		return e.setCommand(ipvsCmdEdit, col)
	case "delete-service":
		return e.setCommand(ipvsCmdDel, col)
	case "clear":
		return e.setCommand(ipvsCmdFlush, col)
	case "list":
		return e.setCommand(ipvsCmdList, col)
	case "zero":
		return e.setCommand(ipvsCmdZero, col)
	case "add-server":
		return e.setCommand(ipvsCmdAddDest, col)
	case "edit-server":
		return e.setCommand(ipvsCmdEditDest, col)
	case "delete-server":
		return e.setCommand(ipvsCmdDelDest, col)
	case "set":
		return e.setCommand(ipvsCmdTimeout, col)
	case "help":
		return e.setCommand(ipvsCmdHelp, col)
	case "version":
		return e.setCommand(ipvsCmdVersion, col)
	case "restore":
		return e.setCommand(ipvsCmdRestore, col)
	case "save":
		return e.setCommand(ipvsCmdSave, col)
	case "start-daemon":
		return e.setCommand(ipvsCmdStartDaemon, col)
	case "stop-daemon":
		return e.setCommand(ipvsCmdStopDaemon, col)
	case "tcp-service", "udp-service", "sctp-service":
		if err := e.setOption(ipvsOptService, col); err != nil {
			return err
		}
		e.svc.proto = strings.TrimSuffix(name, "-service")
		e.svcCol = argCol
		addr, port, hasPort, ok := ipvsParseAddrPort(arg, e.svc.proto)
		if !ok {
			return bad("illegal virtual server address[:port] specified%s", ipvsAddrHint(arg))
		}
		e.svc.addr, e.svc.v6 = addr, addr.Is6()
		if hasPort {
			e.svc.port = port
		}
		if e.svc.v6 {
			e.svc.prefix6 = 128
		}
	case "fwmark-service":
		if err := e.setOption(ipvsOptService, col); err != nil {
			return err
		}
		e.svcCol = argCol
		n, err := strconv.ParseUint(arg, 10, 32)
		if err != nil || n == 0 {
			return bad("invalid fwmark value `%s' specified", ipvsTrunc(arg))
		}
		e.svc.fwmark = uint32(n)
		e.svc.proto = ""
	case "ipv6":
		if e.svc.fwmark == 0 {
			return &ipvsLineError{col, "-6 used before -f"}
		}
		e.svc.v6 = true
		e.svc.prefix6 = 128
	case "scheduler":
		if err := e.setOption(ipvsOptScheduler, col); err != nil {
			return err
		}
		e.svc.sched = arg
	case "persistent":
		if err := e.setOption(ipvsOptPersistent, col); err != nil {
			return err
		}
		e.svc.persistent = true
		e.svc.timeout = ipvsDefaultPersistence
		if hasArg {
			n, ok := ipvsNumber(arg, 1, ipvsMaxTimeout)
			if !ok {
				return bad("invalid timeout value `%s' specified", ipvsTrunc(arg))
			}
			e.svc.timeout = uint32(n)
		}
	case "netmask":
		if err := e.setOption(ipvsOptNetmask, col); err != nil {
			return err
		}
		// Checked once the family is known: ipvsadm checks it against
		// the family of the service given before it.
		e.netmaskArg, e.netmaskCol = arg, argCol
	case "real-server":
		if err := e.setOption(ipvsOptServer, col); err != nil {
			return err
		}
		addr, port, hasPort, ok := ipvsParseAddrPort(arg, e.svc.proto)
		if !ok {
			return bad("illegal real server address[:port] specified%s", ipvsAddrHint(arg))
		}
		e.dest.addr, e.dest.port, e.destHasPort, e.destCol, e.hasDest = addr, port, hasPort, argCol, true
	case "masquerading", "ipip", "gatewaying":
		if err := e.setOption(ipvsOptForward, col); err != nil {
			return err
		}
		e.dest.method = map[string]string{"masquerading": "masq", "ipip": "ipip", "gatewaying": "gate"}[name]
	case "weight":
		if err := e.setOption(ipvsOptWeight, col); err != nil {
			return err
		}
		n, ok := ipvsNumber(arg, 0, ipvsMaxWeight)
		if !ok {
			return bad("illegal weight specified")
		}
		e.dest.weight = uint32(n)
	case "u-threshold", "l-threshold":
		opt, which := ipvsOptUThreshold, "u_threshold"
		if name == "l-threshold" {
			opt, which = ipvsOptLThreshold, "l_threshold"
		}
		if err := e.setOption(opt, col); err != nil {
			return err
		}
		n, ok := ipvsNumber(arg, 0, ipvsMaxThreshold)
		if !ok {
			return bad("illegal %s specified", which)
		}
		if opt == ipvsOptUThreshold {
			e.dest.upper = uint32(n)
		} else {
			e.dest.lower = uint32(n)
		}
	case "ops":
		if err := e.setOption(ipvsOptOps, col); err != nil {
			return err
		}
		e.svc.ops = true
	case "pe":
		if err := e.setOption(ipvsOptPE, col); err != nil {
			return err
		}
		e.svc.pe = arg
	case "sched-flags":
		if err := e.setOption(ipvsOptSchedFlags, col); err != nil {
			return err
		}
		e.sflagsArg, e.sflagsCol = arg, argCol
	case "tun-type":
		if err := e.setOption(ipvsOptTunType, col); err != nil {
			return err
		}
		switch arg {
		case "ipip", "gue", "gre":
			e.dest.tunType = arg
		default:
			return bad("illegal tunnel type specified")
		}
	case "tun-port":
		if err := e.setOption(ipvsOptTunPort, col); err != nil {
			return err
		}
		n, ok := ipvsNumber(arg, 1, 65535)
		if !ok {
			return bad("illegal tunnel port specified")
		}
		e.dest.tunPort = uint16(n)
	case "tun-nocsum", "tun-csum", "tun-remcsum":
		opt := map[string]int{"tun-nocsum": ipvsOptTunNoCsum, "tun-csum": ipvsOptTunCsum, "tun-remcsum": ipvsOptTunRemCsum}[name]
		if err := e.setOption(opt, col); err != nil {
			return err
		}
		e.dest.tunCsum = strings.TrimPrefix(name, "tun-")
	case "numeric":
		return e.setOption(ipvsOptNumeric, col)
	case "connection":
		return e.setOption(ipvsOptConnection, col)
	case "timeout":
		return e.setOption(ipvsOptTimeout, col)
	case "daemon":
		return e.setOption(ipvsOptDaemon, col)
	case "stats":
		return e.setOption(ipvsOptStats, col)
	case "rate":
		return e.setOption(ipvsOptRate, col)
	case "thresholds":
		return e.setOption(ipvsOptThresholds, col)
	case "persistent-conn":
		return e.setOption(ipvsOptPersistentConn, col)
	case "nosort":
		return e.setOption(ipvsOptNoSort, col)
	case "sort":
		// A no-op kept for backwards compatibility.
	case "exact":
		return e.setOption(ipvsOptExact, col)
	case "tun-info":
		return e.setOption(ipvsOptTunInfo, col)
	case "mcast-interface":
		return e.setOption(ipvsOptMcastIf, col)
	case "mcast-group":
		return e.setOption(ipvsOptMcastGroup, col)
	case "mcast-port":
		return e.setOption(ipvsOptMcastPort, col)
	case "mcast-ttl":
		return e.setOption(ipvsOptMcastTTL, col)
	case "sync-maxlen":
		return e.setOption(ipvsOptSyncMaxlen, col)
	case "syncid":
		return e.setOption(ipvsOptSyncID, col)
	}
	return nil
}

// ipvsAddrHint explains why an address was refused when it looks like a
// host name.
func ipvsAddrHint(arg string) string {
	host, _, _ := strings.Cut(strings.TrimPrefix(arg, "["), "]")
	if c := strings.LastIndexByte(host, ':'); c >= 0 && !strings.HasPrefix(arg, "[") {
		host = host[:c]
	}
	if ldLooksLikeHostName(host) {
		return " (uvs does not resolve host names in rules files; use an IP address)"
	}
	return ""
}

// ipvsParseAddrPort is parse_service: "a.b.c.d[:port]", "[v6]:port" or a
// bare IPv6 address; the port may be a service name.
func ipvsParseAddrPort(s, proto string) (addr netip.Addr, port uint16, hasPort, ok bool) {
	if s == "" || ldAllDigits(s) {
		return netip.Addr{}, 0, false, false
	}
	host, portStr := s, ""
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 || end+1 >= len(s) || s[end+1] != ':' {
			return netip.Addr{}, 0, false, false
		}
		host, portStr, hasPort = s[1:end], s[end+2:], true
	}
	a, err := netip.ParseAddr(host)
	switch {
	case err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "":
		// A bracketed or bare IPv6 address.
	case s[0] == '[':
		return netip.Addr{}, 0, false, false
	default:
		if c := strings.LastIndexByte(s, ':'); c >= 0 {
			host, portStr, hasPort = s[:c], s[c+1:], true
		}
		a, err = netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return netip.Addr{}, 0, false, false
		}
	}
	if hasPort {
		if n, ok := ipvsNumber(portStr, 0, 65535); ok {
			port = uint16(n)
		} else if n, ok := ipvsServicePort(portStr, proto); ok {
			port = n
		} else {
			return netip.Addr{}, 0, false, false
		}
	}
	return a, port, hasPort, true
}

// check is the option matrix (generic_opt_check) and the per-command
// checks of process_options.
func (e *ipvsEntry) check() *ipvsLineError {
	m, known := ipvsMatrix[e.cmd]
	if !known {
		// list, save, zero, daemons, help, version, restore: not
		// table changes; the caller decides what to say.
		return nil
	}
	for opt := 0; opt < ipvsNumOpts; opt++ {
		kind, listed := m[opt]
		switch {
		case !e.options[opt] && kind == '+':
			return &ipvsLineError{e.firstCol, fmt.Sprintf("You need to supply the '%s' option for the '%s' command", ipvsOptNames[opt], ipvsCmdNames[e.cmd])}
		case e.options[opt] && !listed:
			return &ipvsLineError{e.firstCol, fmt.Sprintf("Illegal '%s' option with the '%s' command", ipvsOptNames[opt], ipvsCmdNames[e.cmd])}
		}
	}
	if e.netmaskArg != "" {
		if e.svc.v6 {
			n, ok := ipvsNumber(e.netmaskArg, 1, 128)
			if !ok {
				return &ipvsLineError{e.netmaskCol, "illegal ipv6 netmask specified"}
			}
			e.svc.prefix6 = int(n)
		} else {
			a, ok := ipvsParseNetmask4(e.netmaskArg)
			if !ok {
				return &ipvsLineError{e.netmaskCol, "illegal virtual server persistent mask specified"}
			}
			e.svc.netmask = a
		}
	}
	if e.hasDest && !e.destHasPort {
		e.dest.port = e.svc.port // copy vport to dport if not specified
	}
	switch e.cmd {
	case ipvsCmdAdd, ipvsCmdEdit:
		if e.svc.fwmark == 0 && e.svc.port == 0 && !e.svc.persistent {
			return &ipvsLineError{e.svcCol, "Zero port specified for non-persistent service"}
		}
		if e.svc.ops && e.svc.fwmark == 0 && e.svc.proto != "udp" {
			return &ipvsLineError{e.firstCol, "One-Packet Scheduling is only for UDP virtual services"}
		}
		if e.svc.sched == "" {
			e.svc.sched = "wlc" // DEF_SCHED
		}
		if !e.svc.persistent {
			if e.options[ipvsOptNetmask] {
				e.warnings = append(e.warnings, ipvsLineError{e.netmaskCol, "-M has no effect without -p (persistence)"})
			}
			if e.options[ipvsOptPE] {
				e.warnings = append(e.warnings, ipvsLineError{e.firstCol, "--pe has no effect without -p (persistence)"})
			}
		}
		if e.options[ipvsOptSchedFlags] {
			flags, msg := ipvsParseSchedFlags(e.svc.sched, e.sflagsArg)
			if msg != "" {
				return &ipvsLineError{e.sflagsCol, msg}
			}
			e.svc.schedFlags = flags
		}
	case ipvsCmdAddDest, ipvsCmdEditDest:
		if e.svc.fwmark == 0 && (e.dest.method == "ipip" || e.dest.method == "gate") {
			if e.destHasPort && e.dest.port != e.svc.port {
				e.warnings = append(e.warnings, ipvsLineError{e.destCol, fmt.Sprintf(
					"real server port %d ignored: with %s forwarding IPVS uses the service's port %d", e.dest.port, e.dest.method, e.svc.port)})
			}
			e.dest.port = e.svc.port
		}
		if e.dest.addr.Is6() != e.svc.v6 && e.dest.method != "ipip" {
			return &ipvsLineError{e.destCol, "Different address family is allowed only for tunneling servers"}
		}
		tun := e.options[ipvsOptTunType] || e.options[ipvsOptTunPort] || e.options[ipvsOptTunNoCsum] ||
			e.options[ipvsOptTunCsum] || e.options[ipvsOptTunRemCsum]
		if tun && e.dest.method != "ipip" {
			return &ipvsLineError{e.firstCol, "Tunnel options conflict with forward method"}
		}
		if e.dest.method == "ipip" {
			if e.dest.tunType == "" {
				e.dest.tunType = "ipip" // DEF_TUNNEL_TYPE
			}
			if err := e.tunnelCheck(); err != nil {
				return err
			}
		}
	}
	return nil
}

// tunnelCheck is tunnel_opt_check: ipip takes no tunnel options; gue
// needs --tun-port; gre refuses it; at most one checksum option.
func (e *ipvsEntry) tunnelCheck() *ipvsLineError {
	t := e.dest.tunType
	if t != "gue" && e.options[ipvsOptTunPort] {
		return &ipvsLineError{e.firstCol, fmt.Sprintf("Illegal 'tun-port' option with the '%s' tunnel type", t)}
	}
	if t == "gue" && !e.options[ipvsOptTunPort] {
		return &ipvsLineError{e.firstCol, "You need to supply the 'tun-port' option for the 'gue' tunnel type"}
	}
	last := -1
	for _, opt := range []int{ipvsOptTunNoCsum, ipvsOptTunCsum, ipvsOptTunRemCsum} {
		if !e.options[opt] {
			continue
		}
		if t == "ipip" {
			return &ipvsLineError{e.firstCol, fmt.Sprintf("Illegal '%s' option with the 'ipip' tunnel type", ipvsOptNames[opt])}
		}
		if last >= 0 {
			return &ipvsLineError{e.firstCol, fmt.Sprintf("The option '%s' conflicts with the '%s' option in the '%s' tunnel type", ipvsOptNames[opt], ipvsOptNames[last], t)}
		}
		last = opt
	}
	if t != "ipip" && e.dest.tunCsum == "" {
		e.dest.tunCsum = "nocsum" // the default flags, 0
	}
	return nil
}

// sameService reports whether a and b name the same virtual service.
func (a *ipvsSvc) sameService(b *ipvsSvc) bool {
	if a.fwmark != 0 || b.fwmark != 0 {
		return a.fwmark == b.fwmark && a.v6 == b.v6
	}
	return a.proto == b.proto && a.addr == b.addr && a.port == b.port
}

func (r *ipvsRules) find(s *ipvsSvc) int {
	for i, o := range r.services {
		if o.sameService(s) {
			return i
		}
	}
	return -1
}

func ipvsFindDest(s *ipvsSvc, d *ipvsDest) int {
	for i, o := range s.dests {
		if o.addr == d.addr && o.port == d.port {
			return i
		}
	}
	return -1
}

// apply carries out one command on the table, with the kernel's checks
// and ipvsadm's translation of its errors.
func (r *ipvsRules) apply(e *ipvsEntry, lno int) *ipvsLineError {
	col := e.firstCol
	svcCol := e.svcCol
	if svcCol == 0 {
		svcCol = col
	}
	switch e.cmd {
	case ipvsCmdAdd:
		if r.find(&e.svc) >= 0 {
			return &ipvsLineError{svcCol, "Service already exists"}
		}
		if err := e.kernelServiceCheck(); err != nil {
			return err
		}
		s := e.svc
		s.pos = ldPos{lno, col}
		r.services = append(r.services, &s)
	case ipvsCmdEdit:
		i := r.find(&e.svc)
		if i < 0 {
			return &ipvsLineError{svcCol, "No such service"}
		}
		if err := e.kernelServiceCheck(); err != nil {
			return err
		}
		// -E sends a complete definition: everything but the real
		// servers is replaced.
		s := e.svc
		s.pos = r.services[i].pos
		s.dests = r.services[i].dests
		r.services[i] = &s
	case ipvsCmdDel:
		i := r.find(&e.svc)
		if i < 0 {
			return &ipvsLineError{svcCol, "No such service"}
		}
		r.services = append(r.services[:i], r.services[i+1:]...)
	case ipvsCmdFlush:
		r.services = nil
	case ipvsCmdAddDest, ipvsCmdEditDest, ipvsCmdDelDest:
		i := r.find(&e.svc)
		if i < 0 {
			return &ipvsLineError{svcCol, "Service not defined"}
		}
		s := r.services[i]
		j := ipvsFindDest(s, &e.dest)
		if e.cmd == ipvsCmdAddDest && j >= 0 {
			return &ipvsLineError{e.destCol, "Destination already exists"}
		}
		if e.cmd != ipvsCmdAddDest && j < 0 {
			return &ipvsLineError{e.destCol, "No such destination"}
		}
		if e.cmd == ipvsCmdDelDest {
			s.dests = append(s.dests[:j], s.dests[j+1:]...)
			return nil
		}
		if e.dest.lower > e.dest.upper {
			// ip_vs_add_dest/ip_vs_edit_dest refuse it with ERANGE,
			// which ipvsadm prints with strerror.
			return &ipvsLineError{col, "Numerical result out of range (the lower threshold -y is above the upper threshold -x)"}
		}
		d := e.dest
		d.pos = ldPos{lno, col}
		if e.cmd == ipvsCmdAddDest {
			s.dests = append(s.dests, &d)
		} else {
			d.pos = s.dests[j].pos
			s.dests[j] = &d // -e keeps the list position
		}
	case ipvsCmdTimeout:
		for k, a := range e.setArgs {
			n, _ := ipvsNumber(a.s, 0, ipvsMaxTimeout)
			if n != 0 { // 0 leaves that timeout unchanged
				r.timeouts[k] = uint32(n)
			}
		}
		r.timeoutsSet = true
		r.timeoutsPos = ldPos{lno, col}
	case ipvsCmdList, ipvsCmdSave, ipvsCmdZero, ipvsCmdHelp, ipvsCmdVersion:
		r.issues = append(r.issues, ldIssue{line: lno, col: col, warn: true,
			msg: fmt.Sprintf("ipvsadm %s command does not change the table; ignored", ipvsCmdNames[e.cmd])})
	case ipvsCmdStartDaemon, ipvsCmdStopDaemon:
		r.issues = append(r.issues, ldIssue{line: lno, col: col, warn: true,
			msg: fmt.Sprintf("ipvsadm --%s is not supported in a rules file (configure connection sync in uvs); ignored", ipvsCmdNames[e.cmd])})
	case ipvsCmdRestore:
		return &ipvsLineError{col, "--restore inside a rules file"}
	}
	return nil
}

// kernelServiceCheck is what the kernel refuses when adding or editing a
// service: an unknown scheduler or persistence engine.
func (e *ipvsEntry) kernelServiceCheck() *ipvsLineError {
	if !ipvsKnownScheduler(e.svc.sched) || (e.svc.pe != "" && e.svc.pe != "sip") {
		return &ipvsLineError{e.firstCol, "Scheduler or persistence engine not found"}
	}
	return nil
}

// LooksLikeIPVSRules reports whether src looks like ipvsadm rules: its
// first non-comment line is an ipvsadm command (-A, -a, -C, --set, ...,
// optionally after "ipvsadm").
func LooksLikeIPVSRules(src []byte) bool {
	const scan = 64 << 10 // decide from the first 64 KiB
	if len(src) > scan {
		src = src[:scan]
	}
	for _, line := range bytes.Split(src, []byte("\n")) {
		toks := ipvsTokens(string(line))
		if len(toks) == 0 {
			continue
		}
		switch t := toks[0].s; t {
		case "-A", "-E", "-D", "-C", "-a", "-e", "-d", "--set", "--add-service", "--edit-service",
			"--delete-service", "--clear", "--add-server", "--edit-server", "--delete-server":
			return true
		}
		return false
	}
	return false
}

// ipvsSchedFlags converts flag names (as ipvsParseSchedFlags returns
// them) to the model's flags.
func ipvsSchedFlags(names []string) []SchedFlag {
	var out []SchedFlag
	for _, n := range names {
		if f, ok := ParseSchedFlag(n); ok {
			out = append(out, f)
		}
	}
	return out
}

// ParseIPVSRules reads ipvsadm rules (ipvsadm -S output, or any input
// ipvsadm -R accepts) into the model: the commands are applied in order,
// so the Config is the final state of the table. name is the path as
// given, for positions. Thresholds (-x/-y) are kept; --set goes to
// global_defs lvs_timeouts. Every problem is reported with ipvsadm's
// message; a line with an error changes nothing.
func ParseIPVSRules(name string, src []byte) (*Config, []Problem) {
	r := parseIPVSRulesFile(src)
	cfg := &Config{Format: FormatIPVSRules, Path: name}
	pos := func(p ldPos) Pos { return Pos{File: name, Line: p.line, Col: p.col} }
	if r.timeoutsSet {
		cfg.Global.Pos = pos(r.timeoutsPos)
		cfg.Global.LVSTimeouts = Timeouts{
			TCP:    time.Duration(r.timeouts[0]) * time.Second,
			TCPFin: time.Duration(r.timeouts[1]) * time.Second,
			UDP:    time.Duration(r.timeouts[2]) * time.Second,
		}
	}
	for _, s := range r.services {
		vs := VirtualServer{
			Pos:        pos(s.pos),
			Scheduler:  Scheduler(s.sched),
			SchedFlags: ipvsSchedFlags(s.schedFlags),
			OPS:        s.ops,
			Method:     MethodDR, // ipvsadm's default forwarding method
		}
		if s.fwmark != 0 {
			vs.FWMark = s.fwmark
			vs.IPFamily = IPv4
			if s.v6 {
				vs.IPFamily = IPv6
			}
		} else {
			vs.Addr, vs.Port = s.addr, s.port
			vs.Protocol, _ = ParseProtocol(s.proto)
		}
		if s.persistent {
			vs.PersistenceTimeout = time.Duration(s.timeout) * time.Second
			vs.PersistenceEngine = s.pe
			if s.v6 {
				vs.PersistenceGranularity = s.prefix6
			} else {
				bits, ok := ipvsNetmaskBits(s.netmask)
				if !ok {
					r.issues = append(r.issues, ldIssue{line: s.pos.line, col: s.pos.col,
						msg: fmt.Sprintf("persistence netmask %s is not contiguous; uvs needs a prefix mask such as 255.255.255.0", s.netmask)})
				}
				vs.PersistenceGranularity = bits
			}
		}
		for _, d := range s.dests {
			rs := RealServer{
				Pos:        pos(d.pos),
				Addr:       d.addr,
				Port:       d.port,
				Weight:     ldIntPtr(int(d.weight)),
				Method:     ldMethod(d.method),
				UThreshold: d.upper,
				LThreshold: d.lower,
			}
			if d.method == "ipip" {
				rs.Tunnel.Type, _ = ParseTunnelType(d.tunType)
				rs.Tunnel.Port = d.tunPort
				rs.Tunnel.Csum, _ = ParseTunnelCsum(d.tunCsum)
			}
			vs.RealServers = append(vs.RealServers, rs)
		}
		if len(vs.RealServers) > 0 {
			vs.Method = vs.RealServers[0].Method
		}
		cfg.VirtualServers = append(cfg.VirtualServers, vs)
	}
	return cfg, ldProblems(name, r.issues)
}

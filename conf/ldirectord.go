package conf

// The ldirectord.cf reader. It follows the parser in resource-agents'
// ldirectord/ldirectord.in (read_config and its helpers), not its POD, where
// the two differ:
//
//   - Global directives and virtual=/virtual6= headers start in column 1.
//   - A virtual section goes on while lines are indented by 4 or more
//     columns (a tab counts as 4); the first other line ends it, a blank
//     line included. Full-line comments never end a section.
//   - Inside a section a trailing '#' comment is stripped (even inside
//     quotes); on global lines it is not.
//   - request, receive, login, passwd, database, secret and load need a
//     quoted value; callback and logfile too (global).
//   - Unknown directives are errors (ldirectord exits 2); directives
//     ldirectord knows but uvs does not implement are warnings naming them.
//
// Host names are not resolved (config loading never touches the system);
// service names for ports come from a small built-in table.

import (
	"bytes"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ldMaxRange bounds how many real servers one "A->B" range may expand to,
// so that a typo such as 10.0.0.1->10.255.0.1 cannot exhaust memory.
// ldirectord has no limit; 4096 is far beyond any real pool.
const ldMaxRange = 4096

// ldMaxReals bounds the real servers of one file, whatever the ranges.
const ldMaxReals = 1 << 16

// ldTabWidth is what ldirectord replaces each tab with (s/\t/    /g) before
// testing a section line for indentation.
const ldTabWidth = 4

// ldIssue is a problem found in a source file, before it is converted to
// the model's problem type.
type ldIssue struct {
	line, col int
	warn      bool
	msg       string
}

// ldPos is a position in the source (1-based line and byte column).
type ldPos struct{ line, col int }

// ldInt is an optional integer directive.
type ldInt struct {
	set bool
	v   uint64
	pos ldPos
}

// ldBool is an optional yes/no directive.
type ldBool struct {
	set bool
	v   bool
	pos ldPos
}

// ldStr is an optional string directive.
type ldStr struct {
	set bool
	v   string
	pos ldPos
}

// ldFallback is a parsed fallback= value.
type ldFallback struct {
	addr    netip.Addr
	port    uint16
	hasPort bool
	portStr string
	method  string // gate, masq or ipip
	pos     ldPos
}

// ldReal is one real server (ranges are already expanded).
type ldReal struct {
	addr    netip.Addr
	port    uint16
	method  string // gate, masq or ipip
	weight  uint64
	request ldStr
	receive ldStr
	lower   ldInt // l:N, ipvsadm -y
	upper   ldInt // u:N, ipvsadm -x
	pos     ldPos
}

// ldVirtual is one virtual= or virtual6= section.
type ldVirtual struct {
	pos      ldPos
	v6       bool
	addr     netip.Addr // zero for fwmark services
	port     uint16
	fwmark   uint32
	protocol string // tcp, udp or fwm
	portStr  string // resolved at the end of the section
	portPos  ldPos

	service     string // as set, or derived from the port
	serviceSet  bool
	checktype   string // connect, negotiate, ping, off, on, external, external-perl, combined
	numConnects uint64 // checktype=N
	checkPort   ldInt
	request     string
	receive     string
	httpMethod  string
	virtualHost ldStr
	login       ldStr
	passwd      ldStr
	database    ldStr
	secret      ldStr
	checkCmd    string

	scheduler  string
	schedFlags ldStr
	persistent ldInt
	netmask    ldStr
	ops        bool

	checkTimeout     ldInt
	negotiateTimeout ldInt
	checkCount       ldInt
	failureCount     ldInt
	checkInterval    ldInt
	quiescent        ldBool
	fallback         *ldFallback
	fallbackCommand  ldStr
	serviceName      ldStr
	comment          ldStr

	reals []ldReal
	seen  map[netip.AddrPort]int // real servers already in reals, by line
}

// ldGlobals holds the global directives.
type ldGlobals struct {
	checkTimeout     ldInt
	negotiateTimeout ldInt
	checkInterval    ldInt
	checkCount       ldInt
	failureCount     ldInt
	quiescent        ldBool
	fork             ldBool
	fallback4        *ldFallback
	fallback6        *ldFallback
	fallbackCommand  ldStr
}

// ldFile is a parsed ldirectord.cf.
type ldFile struct {
	globals  ldGlobals
	virtuals []*ldVirtual
	issues   []ldIssue
}

// ldParser holds the state of one parse.
type ldParser struct {
	f     ldFile
	lines []string
	reals int // real servers so far, in all sections
}

func (p *ldParser) errorf(pos ldPos, format string, args ...any) {
	p.f.issues = append(p.f.issues, ldIssue{line: pos.line, col: pos.col, msg: fmt.Sprintf(format, args...)})
}

func (p *ldParser) warnf(pos ldPos, format string, args ...any) {
	p.f.issues = append(p.f.issues, ldIssue{line: pos.line, col: pos.col, warn: true, msg: fmt.Sprintf(format, args...)})
}

// ldQuote quotes s for a message, shortening it so that a huge token in a
// hostile file cannot make the problem list huge.
func ldQuote(s string) string {
	const maxShown = 64 // enough to recognise any sane token
	if len(s) > maxShown {
		return strconv.Quote(s[:maxShown]) + "..."
	}
	return strconv.Quote(s)
}

// ldSplitLines splits src into lines without their line ends ("\n" or
// "\r\n").
func ldSplitLines(src []byte) []string {
	s := string(src)
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// parseLdirectordFile parses src; it never stops at the first problem.
func parseLdirectordFile(src []byte) *ldFile {
	p := &ldParser{lines: ldSplitLines(src)}
	seen := make(map[string]ldPos)
	i := 0
	for i < len(p.lines) {
		line := p.lines[i]
		lno := i + 1
		if key, val, vcol, ok := ldDirective(line); ok && (key == "virtual" || key == "virtual6") {
			v := p.virtualHeader(key == "virtual6", val, ldPos{lno, 1}, ldPos{lno, vcol})
			i = p.section(v, i+1)
			if v != nil {
				p.finishVirtual(v)
				id := v.id()
				if prev, dup := seen[id]; dup {
					p.errorf(v.pos, "duplicate virtual server %s (first defined at line %d)", id, prev.line)
				} else {
					seen[id] = v.pos
					p.f.virtuals = append(p.f.virtuals, v)
				}
			}
			continue
		}
		i++
		trimmed := strings.TrimLeft(line, " \t\v\f\r")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		p.global(line, lno)
	}
	// Like ldirectord, check this once the whole file (and so fork=) is
	// known.
	if !p.f.globals.fork.v {
		for _, v := range p.f.virtuals {
			if v.checkInterval.set {
				p.warnf(v.checkInterval.pos, "checkinterval in virtual service %s ignored when fork=no", v.id())
			}
		}
	}
	return &p.f
}

// ldDirective splits "key = value" at the start of s. The key is what
// ldirectord's regexps match: letters, digits, '_' and '-'. vcol is the
// 1-based column of the value. Trailing whitespace is kept in the value,
// as ldirectord does.
func ldDirective(s string) (key, val string, vcol int, ok bool) {
	k := 0
	for k < len(s) && ldIsKeyChar(s[k]) {
		k++
	}
	if k == 0 {
		return "", "", 0, false
	}
	j := k
	for j < len(s) && ldIsSpace(s[j]) {
		j++
	}
	if j >= len(s) || s[j] != '=' {
		return s[:k], "", 0, false
	}
	j++
	for j < len(s) && ldIsSpace(s[j]) {
		j++
	}
	return s[:k], s[j:], j + 1, true
}

func ldIsKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func ldIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// section reads the indented lines of a virtual section starting at line
// index i and returns the index of the first line that is not part of it.
// v may be nil when the header was invalid; the section is then still
// consumed, and its lines still checked.
func (p *ldParser) section(v *ldVirtual, i int) int {
	if v == nil {
		// Check the body against a throwaway virtual so that its
		// problems are reported too.
		v = &ldVirtual{protocol: "tcp"}
		ldVirtualDefaults(v)
	}
	for ; i < len(p.lines); i++ {
		raw := p.lines[i]
		lno := i + 1
		if t := strings.TrimLeft(raw, " \t\v\f\r"); t != "" && t[0] == '#' {
			continue // a full-line comment, wherever it starts
		}
		line := raw
		if h := strings.IndexByte(line, '#'); h >= 0 {
			line = line[:h]
		}
		width, k := 0, 0
		for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
			if line[k] == '\t' {
				width += ldTabWidth
			} else {
				width++
			}
			k++
		}
		rest := line[k:]
		if width < 4 || (strings.TrimRight(rest, " \t\r") == "" && width < 5) {
			return i // not indented: the section ends here
		}
		if strings.TrimRight(rest, " \t\r") == "" {
			// ldirectord's /^ {4,}(.+)/ matches a line of 5 or more
			// blanks, and the single blank left over is an unknown
			// command.
			p.errorf(ldPos{lno, 1}, "a line of only blanks inside a virtual section is an error in ldirectord (Unknown command); remove the blanks")
			continue
		}
		p.virtualLine(v, rest, lno, k+1)
	}
	return i
}

// ldVirtualDefaults sets what read_config sets for every new virtual.
func ldVirtualDefaults(v *ldVirtual) {
	v.checktype = "negotiate"
	v.scheduler = "wrr"
	v.checkCmd = "/bin/true"
	v.request = "/"
	v.httpMethod = "GET"
}

// id is ldirectord's get_virtual_id_str: the key for duplicate detection.
func (v *ldVirtual) id() string {
	if v.protocol == "fwm" {
		if v.v6 {
			return fmt.Sprintf("fwm:%d (IPv6)", v.fwmark)
		}
		return fmt.Sprintf("fwm:%d", v.fwmark)
	}
	return v.protocol + ":" + netip.AddrPortFrom(v.addr, v.port).String()
}

// ldFirstField returns the first blank-separated field of s and whatever
// follows it without its leading blanks. rest is a suffix of s, so
// len(s)-len(rest) is its offset.
func ldFirstField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// ldBlank reports whether s has nothing but blanks.
func ldBlank(s string) bool { return strings.TrimRight(s, " \t") == "" }

// ldSplitHostPort splits "host:port" or "[v6]:port" at the port colon.
// hasPort reports whether a ":port" part was present.
func ldSplitHostPort(s string) (host, port string, hasPort bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return s, "", false
		}
		host = s[1:end]
		if rest := s[end+1:]; strings.HasPrefix(rest, ":") {
			return host, rest[1:], true
		}
		return host, "", false
	}
	if c := strings.LastIndexByte(s, ':'); c >= 0 {
		return s[:c], s[c+1:], true
	}
	return s, "", false
}

// ldAddr parses an address for the family of the section. what names the
// thing for messages ("virtual server", "real server", "fallback server").
func (p *ldParser) ldAddr(host string, v6 bool, what string, pos ldPos) (netip.Addr, bool) {
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		if ldLooksLikeHostName(host) {
			p.errorf(pos, "invalid address %s for %s: uvs does not resolve host names in configuration files; use an IP address", ldQuote(host), what)
		} else {
			p.errorf(pos, "invalid address %s for %s", ldQuote(host), what)
		}
		return netip.Addr{}, false
	}
	a = a.Unmap()
	switch {
	case v6 && !a.Is6():
		p.errorf(pos, "invalid IPv6 address %s for %s: this is an IPv6 section (virtual6), use an IPv6 address in brackets", ldQuote(host), what)
		return netip.Addr{}, false
	case !v6 && !a.Is4():
		p.errorf(pos, "invalid IPv4 address %s for %s: IPv6 needs virtual6/real6/fallback6 and brackets", ldQuote(host), what)
		return netip.Addr{}, false
	}
	return a, true
}

// ldLooksLikeHostName reports whether s could be a DNS name.
func ldLooksLikeHostName(s string) bool {
	if s == "" || len(s) > 253 { // RFC 1035 §2.3.4: 255 octets on the wire
		return false
	}
	hasLetter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			hasLetter = true
		case c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_':
		default:
			return false
		}
	}
	return hasLetter
}

// ldPort resolves a port: a number 0..65535 or a service name (resolved
// with the built-in table, never the system's). proto is tcp, udp or ""
// (any).
func (p *ldParser) ldPort(s, proto, what string, pos ldPos) (uint16, bool) {
	if s == "" {
		p.errorf(pos, "missing port for %s", what)
		return 0, false
	}
	if ldAllDigits(s) {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			p.errorf(pos, "invalid port %s for %s: must be 0..65535", ldQuote(s), what)
			return 0, false
		}
		return uint16(n), true
	}
	if n, ok := ipvsServicePort(s, proto); ok {
		return n, true
	}
	p.errorf(pos, "invalid port %s for %s: not a number and not a service name uvs knows", ldQuote(s), what)
	return 0, false
}

func ldAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// virtualHeader parses the value of virtual= or virtual6=. It returns nil
// when the address is unusable.
func (p *ldParser) virtualHeader(v6 bool, val string, hpos, vpos ldPos) *ldVirtual {
	v := &ldVirtual{pos: hpos, v6: v6, protocol: "tcp"}
	ldVirtualDefaults(v)
	tok, rest := ldFirstField(val)
	if !ldBlank(rest) && rest[0] != '#' {
		p.warnf(ldPos{vpos.line, vpos.col + len(val) - len(rest)}, "ignoring %s after the virtual service address (ldirectord ignores it too)", ldQuote(strings.TrimRight(rest, " \t")))
	}
	switch {
	case tok == "":
		p.errorf(vpos, "invalid address for virtual server: empty")
		return nil
	case ldAllDigits(tok):
		n, err := strconv.ParseUint(tok, 10, 32)
		if err != nil || n == 0 {
			p.errorf(vpos, "invalid firewall mark %s: must be 1..4294967295", ldQuote(tok))
			return nil
		}
		v.fwmark = uint32(n)
		v.protocol = "fwm"
		v.service = "none"
		return v
	case strings.HasPrefix(tok, "[") && !v6:
		p.errorf(vpos, "cannot specify an IPv6 address here. please use \"virtual6\" instead.")
		return nil
	}
	host, port, hasPort := ldSplitHostPort(tok)
	if !hasPort {
		if tok[0] >= '0' && tok[0] <= '9' {
			p.errorf(vpos, "virtual service %s has no port (ldirectord would read the leading number as a firewall mark); write ADDRESS:PORT", ldQuote(tok))
		} else {
			p.errorf(vpos, "invalid address for virtual server: %s (want ADDRESS:PORT or a firewall mark)", ldQuote(tok))
		}
		return nil
	}
	if v6 && !strings.HasPrefix(tok, "[") {
		p.errorf(vpos, "invalid address for virtual6 server %s: IPv6 addresses go in brackets, [ADDRESS]:PORT", ldQuote(tok))
		return nil
	}
	addr, ok := p.ldAddr(host, v6, "virtual server", vpos)
	if !ok {
		return nil
	}
	v.addr = addr
	// The port is resolved once the protocol is known (end of section),
	// like ldirectord; only the literal "53" or "domain" makes the
	// default protocol udp.
	v.portStr = port
	v.portPos = ldPos{vpos.line, vpos.col + len(tok) - len(port)}
	if port == "53" || port == "domain" {
		v.protocol = "udp"
	}
	return v
}

// global handles one line outside virtual sections.
func (p *ldParser) global(line string, lno int) {
	pos := ldPos{lno, 1}
	key, val, vcol, ok := ldDirective(line)
	vpos := ldPos{lno, vcol}
	g := &p.f.globals
	if !ok {
		switch {
		case key == "supervised" && strings.TrimSpace(line[len(key):]) == "":
			p.warnf(pos, "please update your config not to use a bare supervised directive")
			p.unsupported(pos, key)
		case line[0] == ' ' || line[0] == '\t':
			p.errorf(pos, "unknown command %s: indented line outside a virtual section (a blank or unindented line ends a virtual section)", ldQuote(strings.TrimSpace(line)))
		default:
			p.errorf(pos, "unknown command %s", ldQuote(strings.TrimSpace(line)))
		}
		return
	}
	switch key {
	case "checktimeout":
		p.num(&g.checkTimeout, val, vpos, "invalid check timeout value")
	case "negotiatetimeout":
		p.num(&g.negotiateTimeout, val, vpos, "invalid negotiate timeout value")
	case "checkinterval":
		p.num(&g.checkInterval, val, vpos, "invalid check interval value")
	case "checkcount":
		p.num(&g.checkCount, val, vpos, "invalid check count value")
		p.warnf(pos, "checkcount option is deprecated and slated for removal.  please see 'failurecount'")
	case "failurecount":
		p.num(&g.failureCount, val, vpos, "invalid failure count value")
	case "connecttimeout":
		p.errorf(pos, "connecttimeout directive deprecated in favour of negotiatetimeout")
	case "timeout":
		p.errorf(pos, "timeout directive deprecated in favour of checktimeout and negotiatetimeout")
	case "fallback", "fallback6":
		fb := p.fallback(key == "fallback6", val, vpos)
		if fb != nil && p.resolveFallback(fb, "", key == "fallback6") {
			if key == "fallback6" {
				g.fallback6 = fb
			} else {
				g.fallback4 = fb
			}
		}
	case "fallbackcommand":
		if val == "" {
			p.errorf(vpos, "invalid fallback command")
			return
		}
		g.fallbackCommand = ldStr{set: true, v: val, pos: pos}
	case "quiescent":
		p.yesNo(&g.quiescent, key, val, vpos)
	case "fork":
		p.yesNo(&g.fork, key, val, vpos)
	case "autoreload", "readdquiescent", "cleanstop":
		var b ldBool
		p.yesNo(&b, key, val, vpos)
		p.unsupported(pos, key)
	case "supervised":
		var b ldBool
		p.yesNo(&b, key, val, vpos)
		p.unsupported(pos, key)
	case "callback", "logfile":
		if _, ok := ldQuoted(val); !ok {
			p.errorf(vpos, "%s needs a quoted value: %s=\"...\" (ldirectord: Unknown command)", key, key)
			return
		}
		p.unsupported(pos, key)
	case "execute", "emailalertfrom", "maintenancedir":
		if strings.TrimSpace(val) == "" && key != "execute" {
			p.errorf(vpos, "%s needs a value", key)
			return
		}
		p.unsupported(pos, key)
	case "emailalert":
		p.emailAlert(val, vpos)
		p.unsupported(pos, key)
	case "emailalertfreq":
		p.emailAlertFreq(val, vpos)
		p.unsupported(pos, key)
	case "emailalertstatus":
		p.emailAlertStatus(val, vpos)
		p.unsupported(pos, key)
	case "smtp":
		p.smtp(val, vpos)
		p.unsupported(pos, key)
	case "virtual", "virtual6":
		// Handled by the caller; unreachable.
	default:
		if ldSectionOnly[key] {
			p.errorf(pos, "%q is only allowed inside a virtual section, indented by 4 spaces or a tab (ldirectord: Unknown command)", key)
			return
		}
		p.errorf(pos, "unknown directive %s", ldQuote(key))
	}
}

// ldSectionOnly lists the directives that only exist inside a virtual
// section, for a better message when one is found at the top level. It is
// read-only, never written.
var ldSectionOnly = map[string]bool{
	"real": true, "real6": true, "request": true, "receive": true, "checktype": true,
	"checkcommand": true, "checkport": true, "login": true, "passwd": true, "database": true,
	"secret": true, "load": true, "scheduler": true, "schedflags": true, "persistent": true,
	"netmask": true, "protocol": true, "ops": true, "service": true, "httpmethod": true,
	"virtualhost": true, "monitorfile": true, "servicename": true, "comment": true,
}

// unsupported warns about a directive ldirectord knows and uvs ignores.
func (p *ldParser) unsupported(pos ldPos, key string) {
	p.warnf(pos, "ldirectord directive %q is not supported by uvs; ignored", key)
}

// ldQuoted matches ldirectord's /"(.*)"/ at the start of a value: the
// text between the first and the last double quote; anything after the
// last quote is ignored, as in ldirectord.
func ldQuoted(val string) (string, bool) {
	if !strings.HasPrefix(val, "\"") {
		return "", false
	}
	end := strings.LastIndexByte(val, '"')
	if end == 0 {
		return "", false
	}
	return val[1:end], true
}

// ldTabs expands tabs the way ldirectord does inside virtual sections
// (s/\t/    /g), for string values.
func ldTabs(s string) string { return strings.ReplaceAll(s, "\t", strings.Repeat(" ", ldTabWidth)) }

// ldOptQuoted matches /"(.*)"/ or else /(.*)/.
func ldOptQuoted(val string) string {
	if s, ok := ldQuoted(val); ok {
		return s
	}
	return val
}

// num parses a count or a number of seconds the way ldirectord does
// (/(\d+)/ && $1): a positive number; trailing blanks are fine, other
// trailing text is ignored with a warning.
func (p *ldParser) num(dst *ldInt, val string, pos ldPos, msg string) {
	n, ok := p.leadingNumber(val, pos, msg)
	if !ok {
		return
	}
	if n == 0 {
		p.errorf(pos, "%s: %s (must be a positive number)", msg, ldQuote(val))
		return
	}
	*dst = ldInt{set: true, v: n, pos: pos}
}

// leadingNumber parses the digits at the start of val.
func (p *ldParser) leadingNumber(val string, pos ldPos, msg string) (uint64, bool) {
	k := 0
	for k < len(val) && val[k] >= '0' && val[k] <= '9' {
		k++
	}
	if k == 0 {
		p.errorf(pos, "%s: %s", msg, ldQuote(val))
		return 0, false
	}
	n, err := strconv.ParseUint(val[:k], 10, 32)
	if err != nil {
		p.errorf(pos, "%s: %s is too large", msg, ldQuote(val[:k]))
		return 0, false
	}
	if rest := strings.TrimRight(val[k:], " \t"); rest != "" {
		p.warnf(ldPos{pos.line, pos.col + k}, "ignoring %s after the number (ldirectord ignores it too)", ldQuote(rest))
	}
	return n, true
}

// yesNo parses yes|no exactly, trailing blanks included, like ldirectord.
func (p *ldParser) yesNo(dst *ldBool, key, val string, pos ldPos) {
	switch val {
	case "yes", "no":
		*dst = ldBool{set: true, v: val == "yes", pos: pos}
		return
	}
	if t := strings.TrimSpace(val); t == "yes" || t == "no" {
		p.errorf(pos, "%s must be 'yes' or 'no': %s has blanks around it, which ldirectord rejects", key, ldQuote(val))
		return
	}
	hint := ""
	if strings.Contains(val, "#") {
		hint = " (ldirectord does not strip comments at the end of global lines)"
	}
	p.errorf(pos, "%s must be 'yes' or 'no', not %s%s", key, ldQuote(val), hint)
}

func (p *ldParser) emailAlert(val string, pos ldPos) {
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' && !strings.Contains(val[1:len(val)-1], "\"") {
		val = val[1 : len(val)-1]
	}
	if val == "" {
		p.errorf(pos, "no email address specified")
	}
}

func (p *ldParser) emailAlertFreq(val string, pos ldPos) {
	if val == "" || val[0] < '0' || val[0] > '9' {
		p.errorf(pos, "invalid email alert frequency: %s", ldQuote(val))
	}
}

func (p *ldParser) emailAlertStatus(val string, pos ldPos) {
	parts := strings.Split(val, ",")
	none := false
	for _, s := range parts {
		if strings.TrimSpace(s) == "none" {
			none = true
		}
	}
	for _, s := range parts {
		s = strings.TrimSpace(s)
		switch s {
		case "none":
			continue
		case "all", "starting", "stopping", "running", "reloading":
		default:
			p.errorf(pos, "invalid email alert status at: %s", ldQuote(s))
			continue
		}
		if none {
			p.errorf(pos, "invalid email alert status: %s specified with \"none\"", ldQuote(s))
		}
	}
}

func (p *ldParser) smtp(val string, pos ldPos) {
	if val == "" || !(ldIsKeyChar(val[0]) || val[0] == '.' || val[0] == '+') {
		p.errorf(pos, "invalid SMTP server address: %s", ldQuote(val))
	}
}

// fallback parses "ip[:port] [gate|masq|ipip]" (parse_fallback). The
// port is resolved later, when the protocol is known.
func (p *ldParser) fallback(v6 bool, val string, pos ldPos) *ldFallback {
	fields := strings.Fields(val)
	if len(fields) == 0 || len(fields) > 2 {
		p.errorf(pos, "invalid fallback server: %s (want ADDRESS[:PORT] [gate|masq|ipip])", ldQuote(val))
		return nil
	}
	fb := &ldFallback{method: "gate", pos: pos}
	if len(fields) == 2 {
		switch fields[1] {
		case "gate", "masq", "ipip":
			fb.method = fields[1]
		default:
			p.errorf(ldPos{pos.line, pos.col + strings.Index(val, fields[1])}, "forward method must be gate, masq or ipip, not %s", ldQuote(fields[1]))
			return nil
		}
	}
	host, port, hasPort := ldSplitHostPort(fields[0])
	if v6 && !strings.HasPrefix(fields[0], "[") && hasPort {
		// An unbracketed IPv6 address: the whole field is the host.
		host, port, hasPort = fields[0], "", false
	}
	addr, ok := p.ldAddr(host, v6, "fallback server", pos)
	if !ok {
		return nil
	}
	fb.addr = addr
	fb.hasPort = hasPort
	fb.portStr = port
	return fb
}

// resolveFallback resolves the fallback's port with the protocol of the
// virtual that uses it.
func (p *ldParser) resolveFallback(fb *ldFallback, proto string, _ bool) bool {
	if !fb.hasPort {
		return true
	}
	n, ok := p.ldPort(fb.portStr, proto, "fallback server", fb.pos)
	if !ok {
		return false
	}
	fb.port = n
	return true
}

// virtualLine handles one directive inside a virtual section. rcmd is the
// line without its indentation and comment; col is its 1-based column.
func (p *ldParser) virtualLine(v *ldVirtual, rcmd string, lno, col int) {
	pos := ldPos{lno, col}
	key, val, vcol, ok := ldDirective(rcmd)
	vpos := ldPos{lno, col + vcol - 1}
	if !ok {
		p.errorf(pos, "unknown command %s", ldQuote(strings.TrimSpace(rcmd)))
		return
	}
	// ldirectord expanded each tab to 4 spaces before taking the value;
	// that matters only inside strings (ldTabs), elsewhere a tab is a
	// blank like a space.
	switch key {
	case "real", "real6":
		if (key == "real6") != v.v6 {
			want := "real"
			if v.v6 {
				want = "real6"
			}
			p.errorf(pos, "cannot specify %q here.  please use %q instead", key, want)
			return
		}
		p.real(v, val, vpos)
	case "request":
		s, ok := ldQuoted(ldTabs(val))
		if !ok {
			p.errorf(vpos, "request needs a quoted value: request=\"...\" (ldirectord: Unknown command)")
			return
		}
		if s == "" {
			p.errorf(vpos, "no request string specified")
			return
		}
		if !strings.HasPrefix(s, "/") {
			s = "/" + s
		}
		v.request = s
	case "receive":
		s, ok := ldQuoted(ldTabs(val))
		if !ok {
			p.errorf(vpos, "receive needs a quoted value: receive=\"...\" (ldirectord: Unknown command)")
			return
		}
		if s == "" {
			p.errorf(vpos, "invalid receive string")
			return
		}
		v.receive = s
	case "checktype":
		p.checktype(v, val, vpos)
	case "checkcommand":
		s := ldOptQuoted(ldTabs(val))
		if s == "" {
			p.errorf(vpos, "invalid check command")
			return
		}
		v.checkCmd = s
	case "checktimeout":
		p.num(&v.checkTimeout, val, vpos, "invalid check timeout")
	case "negotiatetimeout":
		p.num(&v.negotiateTimeout, val, vpos, "invalid negotiate timeout")
	case "checkcount":
		p.num(&v.checkCount, val, vpos, "invalid check count")
		p.warnf(pos, "checkcount option is deprecated and slated for removal.  please see 'failurecount'")
	case "failurecount":
		p.num(&v.failureCount, val, vpos, "invalid failure count")
	case "checkinterval":
		p.num(&v.checkInterval, val, vpos, "invalid checkinterval")
	case "connecttimeout":
		p.errorf(pos, "connecttimeout directive deprecated in favour of negotiatetimeout")
	case "checkport":
		n, ok := p.leadingNumber(val, vpos, "invalid port")
		if !ok {
			return
		}
		if n < 1 || n > 65535 {
			p.errorf(vpos, "checkport must be in range 1..65535, not %d", n)
			return
		}
		v.checkPort = ldInt{set: true, v: n, pos: vpos}
	case "login", "passwd", "database", "secret":
		s, ok := ldQuoted(ldTabs(val))
		if !ok {
			p.errorf(vpos, "%s needs a quoted value: %s=\"...\" (ldirectord: Unknown command)", key, key)
			return
		}
		if s == "" {
			p.errorf(vpos, "invalid %s string", key)
			return
		}
		dst := map[string]*ldStr{"login": &v.login, "passwd": &v.passwd, "database": &v.database, "secret": &v.secret}[key]
		*dst = ldStr{set: true, v: s, pos: vpos}
	case "load":
		s, ok := ldQuoted(val)
		if !ok {
			p.errorf(vpos, "load needs a quoted value: load=\"...\" (ldirectord: Unknown command)")
			return
		}
		if !strings.ContainsFunc(s, func(r rune) bool { return r < 128 && ldIsKeyChar(byte(r)) && r != '-' }) {
			p.errorf(vpos, "invalid string for load testing")
			return
		}
		p.unsupported(pos, key)
	case "scheduler":
		s := strings.TrimRight(val, " \t")
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < 'a' || r > 'z' }) {
			p.errorf(vpos, "invalid scheduler, should be only lowercase letters (a-z): %s", ldQuote(val))
			return
		}
		if !ipvsKnownScheduler(s) {
			p.errorf(vpos, "unknown scheduler %s (ipvsadm: Scheduler or persistence engine not found)", ldQuote(s))
			return
		}
		v.scheduler = s
	case "schedflags":
		s := strings.TrimSpace(val)
		if s == "" {
			p.errorf(vpos, "schedflags needs a value")
			return
		}
		v.schedFlags = ldStr{set: true, v: s, pos: vpos}
	case "persistent":
		n, ok := p.leadingNumber(val, vpos, "invalid persistent timeout")
		if !ok {
			return
		}
		if n < 1 || n > ipvsMaxTimeout {
			p.errorf(vpos, "invalid timeout value `%d' specified: persistent must be 1..%d", n, ipvsMaxTimeout)
			return
		}
		v.persistent = ldInt{set: true, v: n, pos: vpos}
	case "netmask":
		s := strings.TrimRight(val, " \t")
		if v.v6 {
			n, err := strconv.ParseUint(s, 10, 8)
			if !ldAllDigits(s) || err != nil || n < 1 || n > 128 {
				p.errorf(vpos, "invalid netmask: a prefix length between 1 and 128 is required")
				return
			}
		} else if _, ok := ipvsParseNetmask4(s); !ok {
			p.errorf(vpos, "invalid netmask: dotted quad notation is required")
			return
		}
		v.netmask = ldStr{set: true, v: s, pos: vpos}
	case "protocol":
		s := strings.TrimRight(val, " \t")
		switch {
		case v.protocol == "fwm" && s != "fwm":
			p.errorf(vpos, "protocol must be fwm if the virtual service is a fwmark (a number)")
		case v.protocol != "fwm" && s != "tcp" && s != "udp":
			p.errorf(vpos, "protocol must be tcp or udp if the virtual service is an address and port")
		default:
			v.protocol = s
		}
	case "ops":
		var b ldBool
		p.yesNo(&b, key, val, vpos)
		v.ops = b.v
	case "service":
		s := strings.TrimRight(val, " \t")
		if !ldServices[s] {
			p.errorf(vpos, "service must be dns, ftp, http, https, http_proxy, imap, imaps, ldap, ldaps, nntp, mysql, none, oracle, pop, pops, radius, pgsql, simpletcp, sip, smtp or submission, not %s", ldQuote(s))
			return
		}
		v.service = s
		v.serviceSet = true
	case "httpmethod":
		s := strings.ToUpper(strings.TrimRight(val, " \t"))
		if s != "GET" && s != "HEAD" {
			p.errorf(vpos, "httpmethod must be GET or HEAD")
			return
		}
		v.httpMethod = s
	case "virtualhost":
		s := strings.Trim(strings.TrimRight(val, " \t"), "\"")
		v.virtualHost = ldStr{set: true, v: s, pos: vpos}
	case "fallback", "fallback6":
		if (key == "fallback6") != v.v6 {
			want := "fallback"
			if v.v6 {
				want = "fallback6"
			}
			p.errorf(pos, "cannot specify %q here.  please use %q instead", key, want)
			return
		}
		v.fallback = p.fallback(v.v6, val, vpos)
	case "fallbackcommand":
		s := ldOptQuoted(ldTabs(val))
		if s == "" {
			p.errorf(vpos, "invalid fallback command")
			return
		}
		v.fallbackCommand = ldStr{set: true, v: s, pos: vpos}
	case "quiescent":
		p.yesNo(&v.quiescent, key, val, vpos)
	case "emailalert":
		p.emailAlert(val, vpos)
		p.unsupported(pos, key)
	case "emailalertfreq":
		p.emailAlertFreq(val, vpos)
		p.unsupported(pos, key)
	case "emailalertstatus":
		p.emailAlertStatus(val, vpos)
		p.unsupported(pos, key)
	case "monitorfile":
		if ldOptQuoted(val) == "" {
			p.errorf(vpos, "monitorfile needs a file name")
			return
		}
		p.unsupported(pos, key)
	case "cleanstop":
		var b ldBool
		p.yesNo(&b, key, val, vpos)
		p.unsupported(pos, key)
	case "smtp":
		p.smtp(val, vpos)
		p.unsupported(pos, key)
	case "servicename":
		v.serviceName = ldStr{set: true, v: strings.TrimSpace(ldOptQuoted(val)), pos: vpos}
	case "comment":
		v.comment = ldStr{set: true, v: strings.TrimSpace(ldOptQuoted(val)), pos: vpos}
	default:
		p.errorf(pos, "unknown command %s", ldQuote(strings.TrimSpace(rcmd)))
	}
}

// ldServices are the values service= accepts (read-only).
var ldServices = map[string]bool{
	"dns": true, "ftp": true, "http": true, "https": true, "http_proxy": true, "imap": true,
	"imaps": true, "ldap": true, "ldaps": true, "nntp": true, "mysql": true, "none": true,
	"oracle": true, "pop": true, "pops": true, "radius": true, "pgsql": true, "sip": true,
	"smtp": true, "submission": true, "simpletcp": true,
}

// ldServiceByPort is ld_port_to_service: the default service= for a
// virtual port.
func ldServiceByPort(port uint16) string {
	switch port {
	case 21:
		return "ftp"
	case 25:
		return "smtp"
	case 53:
		return "dns"
	case 80:
		return "http"
	case 110:
		return "pop"
	case 119:
		return "nntp"
	case 143:
		return "imap"
	case 389:
		return "ldap"
	case 443:
		return "https"
	case 587:
		return "submission"
	case 636:
		return "ldaps"
	case 993:
		return "imaps"
	case 995:
		return "pops"
	case 1521:
		return "oracle"
	case 1812:
		return "radius"
	case 3128:
		return "http_proxy"
	case 3306:
		return "mysql"
	case 5060:
		return "sip"
	case 5432:
		return "pgsql"
	}
	return "none"
}

// ldServiceDefaultPort is ld_service_to_port: the port a check uses when
// neither checkport nor the real server's port says.
func ldServiceDefaultPort(service string) uint16 {
	for _, port := range []uint16{21, 25, 53, 80, 110, 119, 143, 389, 443, 587, 636, 993, 995, 1521, 1812, 3128, 3306, 5060, 5432} {
		if ldServiceByPort(port) == service {
			return port
		}
	}
	return 0
}

// checktype parses checktype= (a number N means connect checks with a
// negotiate check every N connects).
func (p *ldParser) checktype(v *ldVirtual, val string, pos ldPos) {
	s := strings.TrimRight(val, " \t")
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		n, ok := p.leadingNumber(s, pos, "invalid checktype")
		if ok {
			v.checktype = "combined"
			v.numConnects = n
		}
		return
	}
	switch s {
	case "connect", "negotiate", "ping", "off", "on", "external", "external-perl":
		v.checktype = s
		return
	}
	p.errorf(pos, "checktype must be \"connect\", \"negotiate\", \"on\", \"off\", \"ping\", \"external\", \"external-perl\" or a positive number, not %s", ldQuote(s))
}

// real parses "HOST[->HOST2][:port] gate|masq|ipip [weight]
// ["request", "receive"] [l:N] [u:N]".
func (p *ldParser) real(v *ldVirtual, val string, pos ldPos) {
	spec, flags := ldFirstField(val)
	flagsCol := pos.col + len(val) - len(flags)
	if ldBlank(flags) {
		p.errorf(pos, "invalid address for real server (wrong format): %s needs a forwarding method (gate, masq or ipip)", ldQuote(val))
		return
	}
	host, port, hasPort := ldSplitHostPort(spec)
	if v.v6 && !strings.HasPrefix(spec, "[") {
		host, port, hasPort = spec, "", false
	}
	host2 := ""
	if i := strings.Index(host, "->"); i >= 0 && !strings.HasPrefix(spec, "[") {
		host, host2 = host[:i], host[i+2:]
	}
	first, ok := p.ldAddr(host, v.v6, "real server", pos)
	if !ok {
		return
	}
	var rport uint16
	if hasPort {
		// ldirectord resolves real server ports for any protocol.
		if rport, ok = p.ldPort(port, "", "real server", ldPos{pos.line, pos.col + len(spec) - len(port)}); !ok {
			return
		}
	}
	r := ldReal{addr: first, port: rport, weight: 1, pos: pos}

	// Forwarding method: /(\w+)(.*)/.
	method, rest := ldFirstField(flags)
	switch method {
	case "gate", "masq", "ipip":
		r.method = method
	default:
		p.errorf(ldPos{pos.line, flagsCol}, "forward method must be gate, masq or ipip, not %s", ldQuote(method))
		return
	}
	restCol := func() int { return pos.col + len(val) - len(rest) }
	if w, after := ldFirstField(rest); w != "" && w[0] >= '0' && w[0] <= '9' {
		n, err := strconv.ParseUint(w, 10, 32)
		if !ldAllDigits(w) || err != nil || n > ipvsMaxWeight {
			p.errorf(ldPos{pos.line, restCol()}, "illegal weight %s: must be 0..%d", ldQuote(w), ipvsMaxWeight)
			return
		}
		r.weight = n
		rest = after
	}
	for {
		rest = strings.TrimLeft(rest, " \t")
		if ldBlank(rest) {
			break
		}
		col := restCol()
		switch {
		case rest[0] == '"':
			req, recv, after, ok := ldRequestReceive(rest)
			req, recv = ldTabs(req), ldTabs(recv)
			if !ok {
				p.errorf(ldPos{pos.line, col}, "invalid real server line, around %s: want \"request\", \"receive\"", ldQuote(strings.TrimRight(rest, " \t")))
				return
			}
			if !strings.HasPrefix(req, "/") {
				req = "/" + req
			}
			r.request = ldStr{set: true, v: req, pos: ldPos{pos.line, col}}
			r.receive = ldStr{set: true, v: recv, pos: ldPos{pos.line, col}}
			rest = after
		case strings.HasPrefix(rest, "l:") || strings.HasPrefix(rest, "u:"):
			tok, after := ldFirstField(rest)
			n, err := strconv.ParseUint(tok[2:], 10, 31) // ipvsadm: 0..INT_MAX
			if !ldAllDigits(tok[2:]) || err != nil {
				p.errorf(ldPos{pos.line, col}, "invalid connection threshold %s", ldQuote(tok))
				return
			}
			if tok[0] == 'l' {
				r.lower = ldInt{set: true, v: n, pos: ldPos{pos.line, col}}
			} else {
				r.upper = ldInt{set: true, v: n, pos: ldPos{pos.line, col}}
			}
			rest = after
		default:
			p.errorf(ldPos{pos.line, col}, "Invalid real server line, around %s", ldQuote(strings.TrimRight(rest, " \t")))
			return
		}
	}

	if host2 == "" {
		p.addReal(v, r, true)
		return
	}
	last, ok := p.ldAddr(host2, v.v6, "real server (end of range)", pos)
	if !ok {
		return
	}
	if v.v6 {
		p.errorf(pos, "Address range for IPv6 is not supported yet")
		return
	}
	a, b := ldV4Int(first), ldV4Int(last)
	if a > b {
		p.errorf(pos, "Invalid Range: %s-%s: First value must be greater than or equal to the second value", first, last)
		return
	}
	if b-a >= ldMaxRange {
		p.errorf(pos, "range %s->%s has %d addresses; uvs allows at most %d in one range", first, last, uint64(b-a)+1, ldMaxRange)
		return
	}
	dups := 0
	for x := a; ; x++ {
		rr := r
		rr.addr = ldV4FromInt(x)
		dup, ok := p.addReal(v, rr, false)
		if dup {
			dups++
		}
		if !ok || x == b {
			break
		}
	}
	if dups > 0 {
		p.warnf(pos, "%d real servers of range %s->%s are already defined and ignored: ipvsadm refuses them (Destination already exists)", dups, first, last)
	}
}

// ldRequestReceive matches ldirectord's /\s+"(.*)"[, ]\s*"(.*)"(.*)/ on
// s (which starts with the opening quote): both groups are greedy, so
// receive ends at the last quote on the line and request at the last
// `"[, ]\s*"` before it.
func ldRequestReceive(s string) (req, recv, rest string, ok bool) {
	last := strings.LastIndexByte(s, '"')
	if last <= 0 {
		return "", "", "", false
	}
	for i := last - 1; i > 0; i-- {
		if s[i] != '"' || i+1 >= last || (s[i+1] != ',' && s[i+1] != ' ') {
			continue
		}
		j := i + 2
		for j < last && ldIsSpace(s[j]) {
			j++
		}
		if j < last && s[j] == '"' {
			return s[1:i], s[j+1 : last], s[last+1:], true
		}
	}
	return "", "", "", false
}

func ldV4Int(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func ldV4FromInt(x uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

// addReal appends r unless the same address and port is already in v;
// ipvsadm would refuse the second one ("Destination already exists"), so
// ldirectord effectively ignores it. dup reports such a duplicate (warned
// about when warnDup is set); ok is false once the file has reached
// ldMaxReals.
func (p *ldParser) addReal(v *ldVirtual, r ldReal, warnDup bool) (dup, ok bool) {
	key := netip.AddrPortFrom(r.addr, r.port)
	if line, seen := v.seen[key]; seen {
		if warnDup {
			p.warnf(r.pos, "duplicate real server %s (first at line %d) ignored: ipvsadm refuses it (Destination already exists)", key, line)
		}
		return true, true
	}
	if p.reals >= ldMaxReals {
		p.errorf(r.pos, "too many real servers: uvs reads at most %d from one file", ldMaxReals)
		return false, false
	}
	if v.seen == nil {
		v.seen = make(map[netip.AddrPort]int)
	}
	v.seen[key] = r.pos.line
	v.reals = append(v.reals, r)
	p.reals++
	return false, true
}

// finishVirtual resolves what needs the final protocol, as
// _ld_read_config_*_resolve do at the end of a section.
func (p *ldParser) finishVirtual(v *ldVirtual) {
	if v.protocol != "fwm" {
		n, ok := p.ldPort(v.portStr, v.protocol, "virtual server", v.portPos)
		v.port = n
		if !v.serviceSet {
			v.service = ldServiceByPort(v.port)
		}
		if ok && v.port == 0 && !v.persistent.set {
			p.errorf(v.portPos, "Zero port specified for non-persistent service")
		}
	}
	if v.ops && v.protocol != "udp" && v.protocol != "fwm" {
		// ldirectord only passes -o for UDP services.
		p.warnf(v.pos, "ops=yes ignored: One-Packet Scheduling is only for UDP virtual services")
		v.ops = false
	}
	if v.fallback != nil && !p.resolveFallback(v.fallback, v.protocol, v.v6) {
		v.fallback = nil
	}
	if v.schedFlags.set {
		if _, err := ipvsParseSchedFlags(v.scheduler, v.schedFlags.v); err != "" {
			p.errorf(v.schedFlags.pos, "%s", err)
			v.schedFlags = ldStr{}
		}
	}
	if v.netmask.set && !v.persistent.set {
		p.warnf(v.netmask.pos, "netmask has no effect without persistent (ldirectord passes -M only with -p)")
	}
	if v.protocol != "fwm" {
		// For gate and ipip, IPVS forces the real server's port to the
		// virtual's (ipvsadm copies it).
		for i := range v.reals {
			r := &v.reals[i]
			if r.method == "masq" {
				continue
			}
			if r.port != 0 && r.port != v.port {
				p.warnf(r.pos, "real server port %d ignored: with %s forwarding IPVS uses the virtual service's port %d", r.port, r.method, v.port)
			}
			r.port = v.port
		}
	}
}

// LooksLikeLdirectord reports whether src looks like an ldirectord.cf: a
// "virtual=" or "virtual6=" header in column 1, or an indented "real="
// line. It reads only the start of src.
func LooksLikeLdirectord(src []byte) bool {
	const scan = 64 << 10 // decide from the first 64 KiB
	if len(src) > scan {
		src = src[:scan]
	}
	for _, line := range bytes.Split(src, []byte("\n")) {
		l := string(bytes.TrimRight(line, "\r"))
		if key, _, _, ok := ldDirective(l); ok && (key == "virtual" || key == "virtual6") {
			return true
		}
		t := strings.TrimLeft(l, " \t")
		if len(t) < len(l) {
			if key, _, _, ok := ldDirective(t); ok && (key == "real" || key == "real6") {
				return true
			}
		}
	}
	return false
}

// ldProblems converts issues to the model's problems, in file order.
func ldProblems(name string, is []ldIssue) []Problem {
	out := make([]Problem, 0, len(is))
	for _, i := range is {
		sev := SeverityError
		if i.warn {
			sev = SeverityWarning
		}
		out = append(out, Problem{Pos: Pos{File: name, Line: i.line, Col: i.col}, Severity: sev, Msg: i.msg})
	}
	sortProblemsStable(out)
	return out
}

// sortProblemsStable orders problems by line then column, keeping the
// order of problems at the same place (insertion sort: lists are short
// and mostly sorted already).
func sortProblemsStable(ps []Problem) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ldPosLess(ps[j].Pos, ps[j-1].Pos); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func ldPosLess(a, b Pos) bool {
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

// ParseLdirectord reads an ldirectord.cf (name is the path as given, for
// positions) into the model. Every problem is reported; the Config holds
// everything that could be understood even when there are errors.
//
// ldirectord's defaults that differ from keepalived's are written into
// the model explicitly: scheduler wrr, checkinterval 10s (delay_loop),
// checktimeout 5s / negotiatetimeout 30s (connect_timeout), failurecount 1
// (retry 0), real servers down until their first check (alpha),
// quiescent=no (inhibit_on_failure false).
func ParseLdirectord(name string, src []byte) (*Config, []Problem) {
	f := parseLdirectordFile(src)
	m := &ldMapper{name: name, f: f}
	cfg := &Config{Format: FormatLdirectord, Path: name}
	for _, v := range f.virtuals {
		cfg.VirtualServers = append(cfg.VirtualServers, m.virtual(v))
	}
	return cfg, ldProblems(name, append(f.issues, m.issues...))
}

// ldMapper turns a parsed ldirectord.cf into model virtual servers.
type ldMapper struct {
	name   string
	f      *ldFile
	issues []ldIssue
}

func (m *ldMapper) pos(p ldPos) Pos { return Pos{File: m.name, Line: p.line, Col: p.col} }

func (m *ldMapper) warnf(p ldPos, format string, args ...any) {
	m.issues = append(m.issues, ldIssue{line: p.line, col: p.col, warn: true, msg: fmt.Sprintf(format, args...)})
}

func (m *ldMapper) errorf(p ldPos, format string, args ...any) {
	m.issues = append(m.issues, ldIssue{line: p.line, col: p.col, msg: fmt.Sprintf(format, args...)})
}

// Defaults of ldirectord's set_defaults, in seconds.
const (
	ldDefaultCheckTimeout     = 5
	ldDefaultNegotiateTimeout = 30
	ldDefaultCheckInterval    = 10
	ldDefaultFailureCount     = 1
)

// ldFirst returns the first set value among vs, else def.
func ldFirst(def uint64, vs ...ldInt) uint64 {
	for _, v := range vs {
		if v.set {
			return v.v
		}
	}
	return def
}

func ldSeconds(n uint64) *time.Duration {
	d := time.Duration(n) * time.Second
	return &d
}

func ldIntPtr(n int) *int { return &n }

// virtual maps one virtual section.
func (m *ldMapper) virtual(v *ldVirtual) VirtualServer {
	g := &m.f.globals
	// ldirectord keeps a real server out of IPVS until its first check
	// succeeds: keepalived's alpha (a real server without checkers is
	// up all the same).
	vs := VirtualServer{Pos: m.pos(v.pos), Scheduler: Scheduler(v.scheduler), OPS: v.ops, Alpha: true}
	fam := IPv4
	if v.v6 {
		fam = IPv6
	}
	switch v.protocol {
	case "fwm":
		vs.FWMark = v.fwmark
		vs.IPFamily = fam
	case "udp":
		vs.Addr, vs.Port, vs.Protocol = v.addr, v.port, UDP
	default:
		vs.Addr, vs.Port, vs.Protocol = v.addr, v.port, TCP
	}
	if v.schedFlags.set {
		names, _ := ipvsParseSchedFlags(v.scheduler, v.schedFlags.v)
		vs.SchedFlags = ipvsSchedFlags(names)
	}
	if v.persistent.set {
		vs.PersistenceTimeout = time.Duration(v.persistent.v) * time.Second
		if v.netmask.set {
			if v.v6 {
				n, _ := strconv.Atoi(v.netmask.v)
				vs.PersistenceGranularity = n
			} else {
				a, _ := ipvsParseNetmask4(v.netmask.v)
				bits, ok := ipvsNetmaskBits(a)
				if !ok {
					m.errorf(v.netmask.pos, "netmask %s is not contiguous; uvs needs a prefix mask such as 255.255.255.0", v.netmask.v)
				}
				vs.PersistenceGranularity = bits
			}
		}
	}
	if v.virtualHost.set {
		vs.Virtualhost = v.virtualHost.v
	}

	// Timing: ld_setup's mutual defaults for the two timeouts.
	checkTimeout := ldFirst(ldDefaultCheckTimeout, v.checkTimeout, v.negotiateTimeout, g.checkTimeout, g.negotiateTimeout)
	negotiateTimeout := ldFirst(ldDefaultNegotiateTimeout, v.negotiateTimeout, v.checkTimeout, g.negotiateTimeout, g.checkTimeout)
	interval := ldFirst(ldDefaultCheckInterval, g.checkInterval)
	if g.fork.v {
		interval = ldFirst(ldDefaultCheckInterval, v.checkInterval, g.checkInterval)
	}
	failures := ldFirst(ldDefaultFailureCount, v.failureCount, g.failureCount)
	kind, connectKind := m.checkKind(v)
	timeout := checkTimeout
	if !connectKind {
		timeout = negotiateTimeout
	}
	vs.Timing = Timing{
		ConnectTimeout: ldSeconds(timeout),
		Retry:          ldIntPtr(int(failures) - 1), // failurecount N = N consecutive failures
		// ldirectord retries on its next pass, checkinterval later.
		DelayBeforeRetry: ldSeconds(interval),
		DelayLoop:        ldSeconds(interval),
	}

	quiescent := g.quiescent.v
	if v.quiescent.set {
		quiescent = v.quiescent.v
	}
	vs.InhibitOnFailure = quiescent

	fb := v.fallback
	if fb == nil {
		if v.v6 {
			fb = g.fallback6
		} else {
			fb = g.fallback4
		}
	}
	if fb != nil {
		port := fb.port
		if !fb.hasPort {
			port = v.port // a global fallback without a port uses the virtual's
		}
		vs.SorryServer = netip.AddrPortFrom(fb.addr, port)
		vs.SorryServerMethod = ldMethod(fb.method)
	}
	cmd := g.fallbackCommand
	if v.fallbackCommand.set {
		cmd = v.fallbackCommand
	}
	if cmd.set {
		// ldirectord runs "cmd start|stop VIP:PORT|FWMARK PROTO" when the
		// last real server goes down / the first comes back: keepalived's
		// quorum_down / quorum_up.
		what := strconv.FormatUint(uint64(v.fwmark), 10)
		if v.protocol != "fwm" {
			what = netip.AddrPortFrom(v.addr, v.port).String()
		}
		vs.QuorumDown = Script{Command: cmd.v + " start " + what + " " + v.protocol}
		vs.QuorumUp = Script{Command: cmd.v + " stop " + what + " " + v.protocol}
	}

	if v.checktype == "off" && len(v.reals) > 0 {
		m.warnf(v.pos, "checktype=off: ldirectord never adds the real servers of this virtual service, so uvs leaves them out")
	}
	for _, r := range v.reals {
		if v.checktype == "off" {
			break
		}
		rs := RealServer{
			Pos:    m.pos(r.pos),
			Addr:   r.addr,
			Port:   r.port,
			Weight: ldIntPtr(int(r.weight)),
			Method: ldMethod(r.method),
		}
		if r.upper.set {
			rs.UThreshold = uint32(r.upper.v)
		}
		if r.lower.set {
			rs.LThreshold = uint32(r.lower.v)
		}
		if kind != 0 {
			rs.Checks = []Check{m.check(v, &r, kind, checkTimeout)}
		}
		vs.RealServers = append(vs.RealServers, rs)
	}
	switch {
	case len(vs.RealServers) > 0:
		vs.Method = vs.RealServers[0].Method
	case fb != nil:
		vs.Method = ldMethod(fb.method)
	default:
		vs.Method = MethodDR // ldirectord has no default; ipvsadm's is -g
	}
	return vs
}

func ldMethod(s string) Method {
	switch s {
	case "masq":
		return MethodNAT
	case "ipip":
		return MethodTUN
	}
	return MethodDR
}

// checkKind decides the keepalived checker for a virtual's checktype and
// service. connectKind reports whether checktimeout (rather than
// negotiatetimeout) applies. Kind 0 means no checker: the real servers
// are always up.
func (m *ldMapper) checkKind(v *ldVirtual) (kind CheckKind, connectKind bool) {
	connect := func() (CheckKind, bool) {
		if v.protocol == "udp" {
			return CheckPing, true // ldirectord: connect on UDP pings
		}
		return CheckTCP, true
	}
	switch v.checktype {
	case "on", "off":
		return 0, true
	case "connect":
		return connect()
	case "ping":
		return CheckPing, true
	case "external":
		return CheckMisc, true
	case "external-perl":
		m.warnf(v.pos, "checktype=external-perl is not supported by uvs (it runs Perl code inside ldirectord); using a connect check")
		return connect()
	case "combined":
		m.warnf(v.pos, "checktype=%d (connect checks with a negotiate check every %d) is approximated by a negotiate check every time", v.numConnects, v.numConnects)
	}
	if v.httpMethod == "HEAD" {
		m.warnf(v.pos, "httpmethod=HEAD is not supported by uvs; the check uses GET")
	}
	switch v.service {
	case "none":
		return 0, false
	case "http", "http_proxy":
		return CheckHTTP, false
	case "https":
		return CheckSSL, false
	case "smtp", "submission":
		return CheckSMTP, false
	case "dns":
		if v.receive != "" {
			m.warnf(v.pos, "receive for service=dns is not supported by uvs: the DNS check only needs an answer (RCODE 0)")
		}
		return CheckDNS, false
	}
	m.warnf(v.pos, "negotiate check for service=%s is not supported by uvs; using a connect check", v.service)
	k, _ := connect()
	return k, false
}

// check builds the checker of one real server.
func (m *ldMapper) check(v *ldVirtual, r *ldReal, kind CheckKind, checkTimeout uint64) Check {
	c := Check{Pos: m.pos(v.pos), Kind: kind}
	// ld_checkport: checkport, else the real server's port, else the
	// service's well-known port.
	switch {
	case v.checkPort.set:
		c.ConnectPort = uint16(v.checkPort.v)
	case r.port == 0:
		c.ConnectPort = ldServiceDefaultPort(v.service)
	}
	request, receive := v.request, v.receive
	if r.request.set {
		request, receive = r.request.v, r.receive.v
	}
	switch kind {
	case CheckHTTP, CheckSSL:
		u := URL{Pos: m.pos(v.pos), Path: request, Regex: receive}
		if abs := strings.TrimPrefix(request, "/"); v.service == "http_proxy" {
			// The request is the absolute URL asked of the proxy; an
			// HTTP_GET path is sent verbatim, so it is a proxy request.
			u.Path = abs
		} else if strings.HasPrefix(abs, "http://") || strings.HasPrefix(abs, "https://") {
			m.absoluteURL(&c, &u, abs, r)
		}
		c.URLs = []URL{u}
	case CheckDNS:
		// ldirectord asks for a PTR record when the request is an
		// address, else for an A record.
		c.DNSType = "A"
		c.DNSName = strings.TrimPrefix(request, "/")
		if _, err := netip.ParseAddr(c.DNSName); err == nil {
			m.warnf(v.pos, "DNS check of the address %s: uvs has no PTR query; checking the SOA of the root instead", c.DNSName)
			c.DNSType, c.DNSName = "SOA", "."
		}
		if c.DNSName == "" {
			c.DNSName = "."
		}
	case CheckMisc:
		// Called as "cmd VIP|FWMARK VPORT RIP RPORT"; exit 0 means up.
		vip := strconv.FormatUint(uint64(v.fwmark), 10)
		if v.protocol != "fwm" {
			vip = v.addr.String()
		}
		c.MiscPath = Script{Command: fmt.Sprintf("%s %s %d %s %d", v.checkCmd, vip, v.port, r.addr, r.port)}
		c.MiscTimeout = time.Duration(checkTimeout) * time.Second
		c.ConnectPort = 0
	case CheckPing:
		c.ConnectPort = 0
	}
	return c
}

// absoluteURL handles a request of the form http://HOST[:PORT]/path:
// ldirectord then checks that URL instead of the real server. An address
// host becomes the checker's connect_ip/connect_port; a name cannot be
// resolved here, so the real server is checked with that Host header.
func (m *ldMapper) absoluteURL(c *Check, u *URL, abs string, r *ldReal) {
	pu, err := url.Parse(abs)
	if err != nil || pu.Host == "" {
		m.warnf(r.pos, "request %s is not a valid URL; sent as the path", ldQuote(abs))
		return
	}
	u.Path = pu.RequestURI()
	host := pu.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		c.ConnectIP = a.Unmap()
		if p, err := strconv.ParseUint(pu.Port(), 10, 16); err == nil {
			c.ConnectPort = uint16(p)
		} else if pu.Scheme == "https" {
			c.ConnectPort = 443 // the scheme's default port
		} else {
			c.ConnectPort = 80 // the scheme's default port
		}
		return
	}
	u.Virtualhost = host
	m.warnf(r.pos, "request %s names host %s, which uvs does not resolve: the real server is checked with that Host header instead", ldQuote(abs), ldQuote(host))
}

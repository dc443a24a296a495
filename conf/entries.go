package conf

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// This file parses and prints the one-line entries of keepalived value
// blocks (virtual_ipaddress, track_*, unicast_peer, virtual_server_group,
// routes). Native TOML stores these entries as strings with the same
// syntax, so both readers share these functions, and String gives the
// canonical form.

// entryProblems collects problems of one entry.
type entryProblems []Problem

func (e *entryProblems) errorf(at Pos, format string, args ...any) {
	*e = append(*e, problemf(at, SeverityError, format, args...))
}

func (e *entryProblems) warnf(at Pos, format string, args ...any) {
	*e = append(*e, problemf(at, SeverityWarning, format, args...))
}

// parseIPAddress parses `ADDR[/len] [brd B] [dev IF] [scope S] [label L]
// [peer A] [flags...]`. what names the block for messages.
func parseIPAddress(what string, toks []token) (IPAddress, []Problem) {
	var ep entryProblems
	ip := IPAddress{Pos: toks[0].Pos}
	pf, err := parsePrefixOrAddr(toks[0].Text)
	if err != nil {
		ep.errorf(toks[0].Pos, "%s: bad IP address '%s'", what, toks[0].Text)
	} else {
		ip.Prefix = pf
	}
	val := func(i int) (token, bool) {
		if i+1 < len(toks) {
			return toks[i+1], true
		}
		ep.errorf(toks[i].Pos, "%s: '%s' needs a value", what, toks[i].Text)
		return token{}, false
	}
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch t.Text {
		case "brd", "broadcast":
			if v, ok := val(i); ok {
				ip.Broadcast = v.Text
				i++
			}
		case "dev":
			if v, ok := val(i); ok {
				ip.Dev = v.Text
				i++
			}
		case "scope":
			if v, ok := val(i); ok {
				switch v.Text {
				case "site", "link", "host", "nowhere", "global":
					ip.Scope = v.Text
				default:
					ep.errorf(v.Pos, "%s: unknown scope '%s'", what, v.Text)
				}
				i++
			}
		case "label":
			if v, ok := val(i); ok {
				ip.Label = v.Text
				i++
			}
		case "peer":
			if v, ok := val(i); ok {
				if a, err := netip.ParseAddr(strings.Split(v.Text, "/")[0]); err == nil {
					ip.Peer = a
				} else {
					ep.errorf(v.Pos, "%s: bad peer address '%s'", what, v.Text)
				}
				i++
			}
		case "home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "use_vmac":
			ip.Options = append(ip.Options, t.Text)
		case "preferred_lft", "track_group":
			if v, ok := val(i); ok {
				ip.Options = append(ip.Options, t.Text, v.Text)
				i++
			}
		default:
			if _, err := parsePrefixOrAddr(t.Text); err == nil {
				ep.warnf(t.Pos, "%s: '%s' ignored: one address per line (keepalived reads it as an unknown option of %s)", what, t.Text, toks[0].Text)
			} else {
				ep.warnf(t.Pos, "%s: unknown option '%s' (ignored)", what, t.Text)
			}
		}
	}
	return ip, ep
}

// String returns the entry in keepalived syntax, options in a fixed order.
func (ip IPAddress) String() string {
	var b strings.Builder
	if ip.Prefix.Bits() == ip.Prefix.Addr().BitLen() {
		b.WriteString(ip.Prefix.Addr().String())
	} else {
		b.WriteString(ip.Prefix.String())
	}
	add := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + " " + v)
		}
	}
	add("brd", ip.Broadcast)
	add("dev", ip.Dev)
	add("scope", ip.Scope)
	add("label", ip.Label)
	if ip.Peer.IsValid() {
		add("peer", ip.Peer.String())
	}
	for _, o := range ip.Options {
		b.WriteString(" " + o)
	}
	return b.String()
}

// parseTrack parses `NAME [weight W [reverse|noreverse]]`; lo..hi is the
// weight range.
func parseTrack(what string, toks []token, lo, hi int) (Track, []Problem) {
	var ep entryProblems
	tr := Track{Pos: toks[0].Pos, Name: toks[0].Text}
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch t.Text {
		case "weight":
			if i+1 >= len(toks) {
				ep.errorf(t.Pos, "%s: 'weight' needs a value", what)
				continue
			}
			i++
			n, err := strconv.Atoi(toks[i].Text)
			if err != nil {
				ep.errorf(toks[i].Pos, "%s: bad number '%s'", what, toks[i].Text)
				continue
			}
			if n < lo || n > hi {
				ep.errorf(toks[i].Pos, "%s: weight %d is out of range [%d, %d]", what, n, lo, hi)
				continue
			}
			tr.Weight = &n
		case "reverse":
			tr.Reverse = true
		case "noreverse":
			tr.Reverse = false
		default:
			ep.warnf(t.Pos, "%s: unknown option '%s' (ignored)", what, t.Text)
		}
	}
	return tr, ep
}

// String returns the entry in keepalived syntax.
func (t Track) String() string {
	s := t.Name
	if t.Weight != nil {
		s += " weight " + strconv.Itoa(*t.Weight)
	}
	if t.Reverse {
		s += " reverse"
	}
	return s
}

// parseUnicastPeer parses `ADDR [min_ttl N] [max_ttl N]`.
func parseUnicastPeer(toks []token) (UnicastPeer, []Problem) {
	var ep entryProblems
	up := UnicastPeer{Pos: toks[0].Pos}
	a, err := netip.ParseAddr(toks[0].Text)
	if err != nil || a.Zone() != "" {
		ep.errorf(toks[0].Pos, "unicast_peer: bad IP address '%s'", toks[0].Text)
	} else {
		up.Addr = a
	}
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch t.Text {
		case "min_ttl", "max_ttl":
			if i+1 >= len(toks) {
				ep.errorf(t.Pos, "unicast_peer: '%s' needs a value", t.Text)
				continue
			}
			i++
			n, err := strconv.Atoi(toks[i].Text)
			if err != nil || n < 0 || n > 255 {
				ep.errorf(toks[i].Pos, "unicast_peer: bad %s '%s' (want 0..255)", t.Text, toks[i].Text)
				continue
			}
			if t.Text == "min_ttl" {
				up.MinTTL = n
			} else {
				up.MaxTTL = n
			}
		default:
			if _, err := netip.ParseAddr(t.Text); err == nil {
				ep.warnf(t.Pos, "unicast_peer: '%s' ignored: one address per line", t.Text)
			} else {
				ep.warnf(t.Pos, "unicast_peer: unknown option '%s' (ignored)", t.Text)
			}
		}
	}
	return up, ep
}

// String returns the entry in keepalived syntax.
func (u UnicastPeer) String() string {
	s := u.Addr.String()
	if u.MinTTL != 0 {
		s += " min_ttl " + strconv.Itoa(u.MinTTL)
	}
	if u.MaxTTL != 0 {
		s += " max_ttl " + strconv.Itoa(u.MaxTTL)
	}
	return s
}

// parseVSGEntry parses a virtual_server_group line.
func parseVSGEntry(toks []token) (VirtualServerGroupEntry, []Problem) {
	var ep entryProblems
	e := VirtualServerGroupEntry{Pos: toks[0].Pos}
	if toks[0].Text == "fwmark" {
		if len(toks) < 2 {
			ep.errorf(toks[0].Pos, "virtual_server_group: 'fwmark' needs a value")
			return e, ep
		}
		n, err := strconv.ParseUint(toks[1].Text, 10, 32)
		if err != nil || n == 0 {
			ep.errorf(toks[1].Pos, "virtual_server_group: bad fwmark '%s'", toks[1].Text)
		}
		e.FWMark = uint32(n)
		if len(toks) > 2 {
			if f, ok := ParseFamily(toks[2].Text); ok {
				e.Family = f
			} else {
				ep.errorf(toks[2].Pos, "virtual_server_group: bad family '%s' (want inet|inet6)", toks[2].Text)
			}
		}
		if len(toks) > 3 {
			ep.warnf(toks[3].Pos, "virtual_server_group: extra argument '%s' ignored", toks[3].Text)
		}
		return e, ep
	}
	t := toks[0]
	switch {
	case strings.Contains(t.Text, "/"):
		pf, err := netip.ParsePrefix(t.Text)
		if err != nil {
			ep.errorf(t.Pos, "virtual_server_group: bad address range '%s'", t.Text)
		}
		e.Prefix = pf
	case strings.Contains(t.Text, "-"):
		first, last, _ := strings.Cut(t.Text, "-")
		a, err := netip.ParseAddr(first)
		if err != nil {
			ep.errorf(t.Pos, "virtual_server_group: bad address '%s'", first)
			break
		}
		e.Addr = a
		if b, err := netip.ParseAddr(last); err == nil {
			e.Last = b
		} else if b, ok := rangeEnd(a, last); ok {
			e.Last = b
		} else {
			ep.errorf(t.Pos, "virtual_server_group: bad range end '%s'", last)
			break
		}
		if e.Last.BitLen() != a.BitLen() || e.Last.Less(a) {
			ep.errorf(t.Pos, "virtual_server_group: range '%s' ends before it starts", t.Text)
		}
	default:
		a, err := netip.ParseAddr(t.Text)
		if err != nil || a.Zone() != "" {
			ep.errorf(t.Pos, "virtual_server_group: bad address '%s'", t.Text)
		}
		e.Addr = a
	}
	if len(toks) > 1 {
		n, err := strconv.ParseUint(toks[1].Text, 10, 16)
		if err != nil {
			ep.errorf(toks[1].Pos, "virtual_server_group: bad port '%s'", toks[1].Text)
		}
		e.Port = uint16(n)
	}
	if len(toks) > 2 {
		ep.warnf(toks[2].Pos, "virtual_server_group: extra argument '%s' ignored", toks[2].Text)
	}
	return e, ep
}

// MaxGroupAddrs bounds the addresses one virtual_server_group entry may
// expand to (a /16 of IPv4); each becomes a virtual service.
const MaxGroupAddrs = 1 << 16

// Addrs returns the addresses of an address entry (one, a range or every
// address of a prefix), in order; nil for a fwmark entry. It fails when
// the entry covers more than MaxGroupAddrs addresses.
func (e VirtualServerGroupEntry) Addrs() ([]netip.Addr, error) {
	first, last := e.Addr, e.Last
	switch {
	case e.FWMark != 0:
		return nil, nil
	case e.Prefix.IsValid():
		pf := e.Prefix.Masked()
		if pf.Addr().BitLen()-pf.Bits() > 16 {
			return nil, fmt.Errorf("%s has more than %d addresses", e.Prefix, MaxGroupAddrs)
		}
		first = pf.Addr()
		last = first
		for n := 1; n < 1<<(pf.Addr().BitLen()-pf.Bits()); n++ {
			last = last.Next()
		}
	case !e.Addr.IsValid():
		return nil, fmt.Errorf("entry has no address")
	case !e.Last.IsValid():
		last = first
	}
	var out []netip.Addr
	for a := first; a.IsValid(); a = a.Next() {
		if len(out) >= MaxGroupAddrs {
			return nil, fmt.Errorf("range %s-%s has more than %d addresses", first, last, MaxGroupAddrs)
		}
		out = append(out, a)
		if a == last {
			break
		}
	}
	if len(out) == 0 || out[len(out)-1] != last {
		return nil, fmt.Errorf("range %s-%s is empty", first, last)
	}
	return out, nil
}

// rangeEnd applies keepalived's short range form: A.B.C.D-E replaces the
// last IPv4 octet, ae00::2-9 the last IPv6 group (hex).
func rangeEnd(a netip.Addr, last string) (netip.Addr, bool) {
	if a.Is4() {
		n, err := strconv.ParseUint(last, 10, 8)
		if err != nil {
			return netip.Addr{}, false
		}
		b := a.As4()
		b[3] = byte(n)
		return netip.AddrFrom4(b), true
	}
	n, err := strconv.ParseUint(last, 16, 16)
	if err != nil {
		return netip.Addr{}, false
	}
	b := a.As16()
	b[14], b[15] = byte(n>>8), byte(n)
	return netip.AddrFrom16(b), true
}

// String returns the entry in keepalived syntax (ranges in full form).
func (e VirtualServerGroupEntry) String() string {
	var s string
	switch {
	case e.FWMark != 0:
		s = "fwmark " + strconv.FormatUint(uint64(e.FWMark), 10)
		if e.Family != 0 {
			s += " " + e.Family.String()
		}
		return s
	case e.Prefix.IsValid():
		s = e.Prefix.String()
	case e.Last.IsValid():
		s = e.Addr.String() + "-" + e.Last.String()
	default:
		s = e.Addr.String()
	}
	if e.Port != 0 {
		s += " " + strconv.Itoa(int(e.Port))
	}
	return s
}

// routeAddrWords are the route/rule keywords followed by an address or
// prefix, which uvs validates.
func routeAddrWord(w string) bool {
	switch w {
	case "from", "to", "src", "via", "gw", "or":
		return true
	}
	return false
}

// parseRoute keeps a route/rule line, validating the addresses in it.
func parseRoute(what string, toks []token) (Route, []Problem) {
	var ep entryProblems
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = t.Text
		check := false
		switch {
		case i > 0 && routeAddrWord(toks[i-1].Text):
			check = true
		case i == 0 && what != "static_rules" && what != "virtual_rules" && t.Text != "blackhole" && !isRouteWord(t.Text) && !routeAddrWord(t.Text):
			check = strings.ContainsAny(t.Text, ".:")
		}
		if check && t.Text != "default" && t.Text != "all" {
			if _, err := parsePrefixOrAddr(t.Text); err != nil {
				ep.errorf(t.Pos, "%s: bad IP address '%s'", what, t.Text)
			}
		}
		if t.Text == "or" || t.Text == "gw" {
			ep.warnf(t.Pos, "%s: '%s' is deprecated, use '%s'", what, t.Text, map[string]string{"or": "nexthop", "gw": "via"}[t.Text])
		}
	}
	return Route{Pos: toks[0].Pos, Spec: strings.Join(words, " ")}, ep
}

func isRouteWord(w string) bool {
	switch w {
	case "inet", "inet6", "unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "anycast", "nat":
		return true
	}
	return false
}

// String returns the route line.
func (r Route) String() string { return r.Spec }

// parseNeighbour parses `IP=MAC`.
func parseNeighbour(at Pos, s string) (Neighbour, error) {
	ipS, macS, ok := strings.Cut(s, "=")
	if !ok {
		return Neighbour{}, fmt.Errorf("bad neighbour %q (want IP=MAC)", s)
	}
	ip, err := netip.ParseAddr(ipS)
	if err != nil {
		return Neighbour{}, fmt.Errorf("bad neighbour address %q", ipS)
	}
	mac, err := net.ParseMAC(macS)
	if err != nil || len(mac) != 6 {
		return Neighbour{}, fmt.Errorf("bad neighbour MAC %q", macS)
	}
	return Neighbour{Pos: at, IP: ip, MAC: mac}, nil
}

// String returns `IP=MAC`.
func (n Neighbour) String() string { return n.IP.String() + "=" + n.MAC.String() }

// parsePortRange parses "80" or "80-90".
func parsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return PortRange{}, fmt.Errorf("bad port %q", lo)
	}
	b := a
	if isRange {
		b, err = strconv.ParseUint(hi, 10, 16)
		if err != nil {
			return PortRange{}, fmt.Errorf("bad port %q", hi)
		}
	}
	if b < a {
		return PortRange{}, fmt.Errorf("port range %q ends before it starts", s)
	}
	return PortRange{Lo: uint16(a), Hi: uint16(b)}, nil
}

// String returns "80" or "80-90" ("" for any port).
func (r PortRange) String() string {
	switch {
	case r == PortRange{}:
		return ""
	case r.Lo == r.Hi:
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

// parseStatusRange parses "200" or "200-299".
func parseStatusRange(s string) (StatusRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 100 || a > 999 {
		return StatusRange{}, fmt.Errorf("bad status code %q", lo)
	}
	b := a
	if isRange {
		b, err = strconv.Atoi(hi)
		if err != nil || b < a || b > 999 {
			return StatusRange{}, fmt.Errorf("bad status code range %q", s)
		}
	}
	return StatusRange{Lo: a, Hi: b}, nil
}

// String returns "200" or "200-299".
func (r StatusRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(r.Lo)
	}
	return strconv.Itoa(r.Lo) + "-" + strconv.Itoa(r.Hi)
}

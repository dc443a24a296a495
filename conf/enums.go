package conf

import (
	"fmt"
	"strings"
)

// enumName returns names[v] or a "Type(n)" fallback for invalid values.
func enumName(typ string, v uint8, names []string) string {
	if int(v) < len(names) && v != 0 {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

// enumParse returns the index of s in names (index 0 is never matched).
func enumParse(s string, names []string, fold bool) (uint8, bool) {
	for i := 1; i < len(names); i++ {
		if s == names[i] || (fold && strings.EqualFold(s, names[i])) {
			return uint8(i), true
		}
	}
	return 0, false
}

// Name tables, as functions so that there is no package-level state.
func formatNames() []string     { return []string{"", "toml", "keepalived", "ldirectord", "ipvsadm"} }
func protocolNames() []string   { return []string{"", "TCP", "UDP", "SCTP"} }
func familyNames() []string     { return []string{"", "inet", "inet6"} }
func methodNames() []string     { return []string{"", "NAT", "DR", "TUN"} }
func tunnelTypeNames() []string { return []string{"", "ipip", "gue", "gre"} }
func tunnelCsumNames() []string { return []string{"", "nocsum", "csum", "remcsum"} }
func stateNames() []string      { return []string{"", "MASTER", "BACKUP"} }
func authNames() []string       { return []string{"", "none", "PASS", "AH"} }
func linkNames() []string       { return []string{"", "afpacket", "tun", "pcap"} }
func schedFlagNames() []string {
	return []string{"", "flag-1", "flag-2", "flag-3", "sh-fallback", "sh-port", "mh-fallback", "mh-port"}
}
func checkKindNames() []string {
	return []string{"", "TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK"}
}

// String returns the format name: toml, keepalived, ldirectord, ipvsadm.
func (f Format) String() string { return enumName("Format", uint8(f), formatNames()) }

// String returns TCP, UDP or SCTP.
func (p Protocol) String() string { return enumName("Protocol", uint8(p), protocolNames()) }

// ParseProtocol parses TCP, UDP or SCTP, case-insensitively (as keepalived
// does).
func ParseProtocol(s string) (Protocol, bool) {
	v, ok := enumParse(s, protocolNames(), true)
	return Protocol(v), ok
}

// String returns inet or inet6.
func (f Family) String() string { return enumName("Family", uint8(f), familyNames()) }

// ParseFamily parses inet or inet6.
func ParseFamily(s string) (Family, bool) {
	v, ok := enumParse(s, familyNames(), false)
	return Family(v), ok
}

// String returns NAT, DR or TUN.
func (m Method) String() string { return enumName("Method", uint8(m), methodNames()) }

// ParseMethod parses NAT, DR or TUN (case-sensitive, as keepalived).
func ParseMethod(s string) (Method, bool) {
	v, ok := enumParse(s, methodNames(), false)
	return Method(v), ok
}

// String returns ipip, gue or gre.
func (t TunnelType) String() string { return enumName("TunnelType", uint8(t), tunnelTypeNames()) }

// ParseTunnelType parses ipip, gue or gre.
func ParseTunnelType(s string) (TunnelType, bool) {
	v, ok := enumParse(s, tunnelTypeNames(), false)
	return TunnelType(v), ok
}

// String returns nocsum, csum or remcsum.
func (c TunnelCsum) String() string { return enumName("TunnelCsum", uint8(c), tunnelCsumNames()) }

// ParseTunnelCsum parses nocsum, csum or remcsum.
func ParseTunnelCsum(s string) (TunnelCsum, bool) {
	v, ok := enumParse(s, tunnelCsumNames(), false)
	return TunnelCsum(v), ok
}

// String returns MASTER or BACKUP.
func (s VRRPState) String() string { return enumName("VRRPState", uint8(s), stateNames()) }

// ParseVRRPState parses MASTER or BACKUP (case-sensitive, as keepalived).
func ParseVRRPState(s string) (VRRPState, bool) {
	v, ok := enumParse(s, stateNames(), false)
	return VRRPState(v), ok
}

// String returns none, PASS or AH.
func (a AuthType) String() string { return enumName("AuthType", uint8(a), authNames()) }

// ParseAuthType parses none, PASS or AH.
func ParseAuthType(s string) (AuthType, bool) {
	v, ok := enumParse(s, authNames(), false)
	return AuthType(v), ok
}

// String returns afpacket, tun or pcap.
func (k LinkKind) String() string { return enumName("LinkKind", uint8(k), linkNames()) }

// ParseLinkKind parses afpacket, tun or pcap.
func ParseLinkKind(s string) (LinkKind, bool) {
	v, ok := enumParse(s, linkNames(), false)
	return LinkKind(v), ok
}

// String returns the keepalived/ipvsadm flag name (flag-1, sh-port, ...).
func (f SchedFlag) String() string { return enumName("SchedFlag", uint8(f), schedFlagNames()) }

// ParseSchedFlag parses a flag name as keepalived and ipvsadm -b spell it.
func ParseSchedFlag(s string) (SchedFlag, bool) {
	v, ok := enumParse(s, schedFlagNames(), false)
	return SchedFlag(v), ok
}

// String returns the keepalived block name (TCP_CHECK, HTTP_GET, ...).
func (k CheckKind) String() string { return enumName("CheckKind", uint8(k), checkKindNames()) }

// ParseCheckKind parses a keepalived checker block name.
func ParseCheckKind(s string) (CheckKind, bool) {
	v, ok := enumParse(s, checkKindNames(), false)
	return CheckKind(v), ok
}

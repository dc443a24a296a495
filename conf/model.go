package conf

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// This file is the one configuration model every format is read into.
//
// Conventions:
//   - Every element carries Pos, where it was defined, so Compile can point
//     at it. Pos is never written to TOML.
//   - After Parse, a field at its zero value (or a nil pointer) means "not
//     given in the file". Pointers are used only where the zero value is a
//     legal setting whose default is something else (weight 0, retry 0,
//     delay 0, a boolean inherited from the parent block).
//   - After Compile every default is filled in: enums are non-zero and every
//     pointer documented as "set by Compile" is non-nil.
//   - The `toml` tags are the native TOML key names (keepalived's names).
//   - Slices keep file order. Real servers in particular are in file order;
//     the director adds them in that order (so, as with IPVS, the scheduler's
//     list ends up reversed).

// Pos is a position in a source file: the path as given by the user,
// 1-based line and column. The zero Pos means "unknown".
type Pos struct {
	File string
	Line int
	Col  int
}

// String returns "file:line:col", or just "file" when the line is not
// known (a file that cannot be read).
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Positions records where each keyword of an element was written, by
// keyword as written (keepalived keyword or TOML key), so that Compile can
// point at the offending line. It may be nil.
type Positions map[string]Pos

// At returns the position of the first of keys that was recorded, else
// def.
func (ps Positions) At(def Pos, keys ...string) Pos {
	for _, k := range keys {
		if p, ok := ps[k]; ok {
			return p
		}
	}
	return def
}

// record notes the position of key, keeping the first one.
func (ps *Positions) record(key string, at Pos) {
	if *ps == nil {
		*ps = Positions{}
	}
	if _, ok := (*ps)[key]; !ok {
		(*ps)[key] = at
	}
}

// Severity is how bad a Problem is.
type Severity uint8

// Severities.
const (
	_ Severity = iota
	// SeverityError: the configuration is wrong; uvs would not use it as is
	// (`uvs conf check` exits 1).
	SeverityError
	// SeverityWarning: accepted, but something was ignored, defaulted or is
	// deprecated.
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}

// Problem is one error or warning about a configuration, at a position.
type Problem struct {
	Pos      Pos
	Severity Severity
	Msg      string
}

// Error returns "file:line:col: error|warning: message".
func (p Problem) Error() string {
	return fmt.Sprintf("%s: %s: %s", p.Pos, p.Severity, p.Msg)
}

// HasErrors reports whether any of ps is an error (not a warning).
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Format is the syntax a configuration file was read from.
type Format uint8

// Formats, detected by content (see Detect).
const (
	_                Format = iota
	FormatTOML              // uvs native TOML
	FormatKeepalived        // keepalived.conf
	FormatLdirectord        // ldirectord.cf
	FormatIPVSRules         // ipvsadm -S output / ipvsadm -R input
)

// Config is the whole configuration: keepalived's blocks plus uvs's own
// [dataplane] and [control] sections.
type Config struct {
	// Format is the syntax this configuration was read from.
	Format Format `toml:"-"`
	// Path is the main file this configuration was read from, as given.
	Path string `toml:"-"`

	Global    Global    `toml:"global_defs"`
	Dataplane Dataplane `toml:"dataplane"`
	Control   Control   `toml:"control"`

	StaticIPAddresses []IPAddress `toml:"static_ipaddress"`
	StaticRoutes      []Route     `toml:"static_routes"`
	StaticRules       []Route     `toml:"static_rules"`

	Scripts             []VRRPScript         `toml:"vrrp_script"`
	SyncGroups          []SyncGroup          `toml:"vrrp_sync_group"`
	Instances           []VRRPInstance       `toml:"vrrp_instance"`
	VirtualServerGroups []VirtualServerGroup `toml:"virtual_server_group"`
	VirtualServers      []VirtualServer      `toml:"virtual_server"`
}

// Script is a command run on an event (notify_*, quorum_up, misc_path, a
// vrrp_script's script). Command is one string, split into argv words by
// the runner (single quotes protect spaces); User and Group are the
// optional `user [group]` that follow it in keepalived.conf.
//
// In TOML a Script is a string (the command) or an array of one to three
// strings [command, user, group].
type Script struct {
	Command string
	User    string
	Group   string
}

// IsZero reports whether no command is set.
func (s Script) IsZero() bool { return s.Command == "" }

// Global is keepalived's global_defs.
type Global struct {
	Pos  Pos       `toml:"-"`
	Keys Positions `toml:"-"` // where each keyword was written

	RouterID              string         `toml:"router_id"`
	NotificationEmail     []string       `toml:"notification_email"`
	NotificationEmailFrom string         `toml:"notification_email_from"`
	SMTPServer            string         `toml:"smtp_server"` // host or address
	SMTPPort              uint16         `toml:"smtp_port"`   // second token of smtp_server; default 25
	SMTPHeloName          string         `toml:"smtp_helo_name"`
	SMTPConnectTimeout    time.Duration  `toml:"smtp_connect_timeout"` // default 30s
	SMTPAlert             *bool          `toml:"smtp_alert"`
	SMTPAlertVRRP         *bool          `toml:"smtp_alert_vrrp"`
	SMTPAlertChecker      *bool          `toml:"smtp_alert_checker"`
	NoEmailFaults         bool           `toml:"no_email_faults"`
	CheckerLogAllFailures bool           `toml:"checker_log_all_failures"`
	ScriptUser            string         `toml:"script_user"`
	ScriptGroup           string         `toml:"script_group"` // second token of script_user
	EnableScriptSecurity  bool           `toml:"enable_script_security"`
	StartupScript         Script         `toml:"startup_script"`
	ShutdownScript        Script         `toml:"shutdown_script"`
	DefaultInterface      string         `toml:"default_interface"` // default eth0
	VRRPMcastGroup4       netip.Addr     `toml:"vrrp_mcast_group4"` // default 224.0.0.18
	VRRPMcastGroup6       netip.Addr     `toml:"vrrp_mcast_group6"` // default ff02::12
	VRRPVersion           int            `toml:"vrrp_version"`      // 2 or 3; default 2
	VRRPStrict            bool           `toml:"vrrp_strict"`
	VRRPCheckUnicastSrc   bool           `toml:"vrrp_check_unicast_src"`
	VRRPSkipCheckAdvAddr  bool           `toml:"vrrp_skip_check_adv_addr"`
	VRRPOwnerIgnoreAdvert bool           `toml:"vrrp_owner_ignore_adverts"`
	V3ChecksumAsV2        bool           `toml:"v3_checksum_as_v2"`
	VRRPStartupDelay      time.Duration  `toml:"vrrp_startup_delay"`
	VRRPDownTimerAdverts  int            `toml:"vrrp_down_timer_adverts"` // 1..100; default 3
	VRRPLowerPrioNoAdvert *bool          `toml:"vrrp_lower_prio_no_advert"`
	VRRPHigherPrioSend    *bool          `toml:"vrrp_higher_prio_send_advert"`
	VRRPMinGarp           bool           `toml:"vrrp_min_garp"`
	Garp                  Garp           `toml:"garp"` // vrrp_garp_* globals
	LVSTimeouts           Timeouts       `toml:"lvs_timeouts"`
	LVSSyncDaemon         *LVSSyncDaemon `toml:"lvs_sync_daemon"`
	LVSFlush              bool           `toml:"lvs_flush"`
	LVSFlushOnStop        bool           `toml:"lvs_flush_on_stop"`
}

// Garp is the gratuitous ARP / unsolicited NA settings, globally
// (vrrp_garp_*) or per instance (garp_*). Compile fills an instance's unset
// values from the globals and the globals from keepalived's defaults.
type Garp struct {
	MasterDelay          *time.Duration `toml:"master_delay"`            // default 5s; 0 = no second burst
	MasterRepeat         int            `toml:"master_repeat"`           // default 5
	MasterRefresh        *time.Duration `toml:"master_refresh"`          // default 0 (off)
	MasterRefreshRepeat  int            `toml:"master_refresh_repeat"`   // default 1
	LowerPrioDelay       *time.Duration `toml:"lower_prio_delay"`        // default MasterDelay
	LowerPrioRepeat      *int           `toml:"lower_prio_repeat"`       // default MasterRepeat
	Interval             time.Duration  `toml:"interval"`                // gap between GARPs; default 0
	NAInterval           time.Duration  `toml:"gna_interval"`            // gap between NAs; default 0
	ExtraIfInterval      time.Duration  `toml:"extra_if_interval"`       // vrrp_garp_extra_if SECS
	ExtraIfAllInterfaces bool           `toml:"extra_if_all_interfaces"` // vrrp_garp_extra_if all
}

// Timeouts are IPVS connection timeouts (keepalived lvs_timeouts, ipvsadm
// --set). Zero means "not set": Compile fills IPVS's defaults, 900s/120s/300s
// (kernel ip_vs_proto_tcp.c / ip_vs_proto_udp.c).
type Timeouts struct {
	TCP    time.Duration `toml:"tcp"`
	TCPFin time.Duration `toml:"tcpfin"`
	UDP    time.Duration `toml:"udp"`
}

// LVSSyncDaemon is global_defs lvs_sync_daemon (or the deprecated
// vrrp_instance lvs_sync_daemon_interface, moved here by the parser).
type LVSSyncDaemon struct {
	Pos       Pos        `toml:"-"`
	Interface string     `toml:"interface"`
	Instance  string     `toml:"instance"` // VRRP instance whose state drives master/backup
	SyncID    *int       `toml:"id"`       // 0..255; default the instance's VRID, else 0
	MaxLen    int        `toml:"maxlen"`
	Port      uint16     `toml:"port"`  // default 8848
	TTL       int        `toml:"ttl"`   // default 1
	Group     netip.Addr `toml:"group"` // default 224.0.0.81
}

// IPAddress is one line of virtual_ipaddress, virtual_ipaddress_excluded
// or static_ipaddress:
// `ADDR[/len] [brd B] [dev IF] [scope S] [label L] [peer A] [other options]`.
// In TOML it is a string with that syntax.
type IPAddress struct {
	Pos Pos
	// Prefix is the address with its prefix length (/32 or /128 when none
	// was given). Prefix.Addr() is the address itself, not masked.
	Prefix    netip.Prefix
	Broadcast string // address, "+" or "-"
	Dev       string
	Scope     string // site, link, host, nowhere, global
	Label     string
	Peer      netip.Addr
	// Options are the remaining flags, kept as written in canonical order
	// (home, -nodad, mngtmpaddr, noprefixroute, autojoin, no_track, use_vmac,
	// preferred_lft N, track_group G).
	Options []string
}

// Route is one line of static_routes/virtual_routes/static_rules/
// virtual_rules in `ip route`/`ip rule` syntax. uvs does not install routes
// itself; the line is kept (addresses in it are validated). In TOML it is a
// string.
type Route struct {
	Pos  Pos
	Spec string
}

// Track is one entry of a track_interface / track_script / track_file list:
// `NAME [weight W [reverse|noreverse]]`. In TOML it is a string with that
// syntax.
type Track struct {
	Pos     Pos
	Name    string
	Weight  *int // nil: not given (track_script then uses the script's weight)
	Reverse bool
}

// VRRPScript is a vrrp_script block.
type VRRPScript struct {
	Pos      Pos           `toml:"-"`
	Name     string        `toml:"name"`
	Script   Script        `toml:"script"`
	Interval time.Duration `toml:"interval"` // default 1s
	Timeout  time.Duration `toml:"timeout"`  // default Interval
	Weight   int           `toml:"weight"`   // -253..253, default 0
	Reverse  bool          `toml:"reverse"`  // `weight W reverse`
	Rise     int           `toml:"rise"`     // default 1
	Fall     int           `toml:"fall"`     // default 1
	User     string        `toml:"user"`
	Group    string        `toml:"group"`
	InitFail bool          `toml:"init_fail"`
}

// SyncGroup is a vrrp_sync_group block.
type SyncGroup struct {
	Pos                     Pos      `toml:"-"`
	Name                    string   `toml:"name"`
	Group                   []string `toml:"group"` // member instance names
	TrackInterfaces         []Track  `toml:"track_interface"`
	TrackScripts            []Track  `toml:"track_script"`
	TrackFiles              []Track  `toml:"track_file"`
	Notify                  Notify   `toml:"notify"`
	SMTPAlert               *bool    `toml:"smtp_alert"`
	SyncGroupTrackingWeight bool     `toml:"sync_group_tracking_weight"`
}

// Notify is the set of notify scripts of a VRRP instance or sync group.
// In TOML it is a table: notify.master = "cmd", notify.notify = "cmd", ...
type Notify struct {
	Master           Script `toml:"master"`
	Backup           Script `toml:"backup"`
	Fault            Script `toml:"fault"`
	Stop             Script `toml:"stop"`
	Deleted          Script `toml:"deleted"`
	Generic          Script `toml:"notify"` // `notify`: gets TYPE NAME STATE PRIORITY
	MasterRxLowerPri Script `toml:"master_rx_lower_pri"`
	PriorityChanges  bool   `toml:"priority_changes"`
}

// VRRPState is the configured initial state of a VRRP instance.
type VRRPState uint8

// VRRP initial states.
const (
	_           VRRPState = iota
	StateMaster           // state MASTER
	StateBackup           // state BACKUP
)

// AuthType is a VRRPv2 authentication type (RFC 2338 §5.3.6).
type AuthType uint8

// Authentication types.
const (
	_        AuthType = iota
	AuthNone          // no authentication block
	AuthPASS          // simple text password
	AuthAH            // IPsec AH
)

// UnicastPeer is one line of unicast_peer: `ADDR [min_ttl N] [max_ttl N]`.
// In TOML it is a string with that syntax.
type UnicastPeer struct {
	Pos    Pos
	Addr   netip.Addr
	MinTTL int
	MaxTTL int
}

// VRRPInstance is a vrrp_instance block.
type VRRPInstance struct {
	Pos  Pos       `toml:"-"`
	Keys Positions `toml:"-"` // where each keyword was written
	Name string    `toml:"name"`

	State           VRRPState     `toml:"state"` // set by Compile (§3.5 defaults)
	Interface       string        `toml:"interface"`
	VirtualRouterID int           `toml:"virtual_router_id"` // 1..255, required
	Priority        int           `toml:"priority"`          // 1..255; set by Compile
	AdvertInt       time.Duration `toml:"advert_int"`        // default 1s
	Version         int           `toml:"version"`           // 2|3; set by Compile

	AuthType AuthType `toml:"auth_type"`
	AuthPass string   `toml:"auth_pass"`

	VirtualIPAddresses         []IPAddress `toml:"virtual_ipaddress"`
	VirtualIPAddressesExcluded []IPAddress `toml:"virtual_ipaddress_excluded"`
	VirtualRoutes              []Route     `toml:"virtual_routes"`
	VirtualRules               []Route     `toml:"virtual_rules"`

	UnicastSrcIP       netip.Addr    `toml:"unicast_src_ip"` // also mcast_src_ip
	UnicastPeers       []UnicastPeer `toml:"unicast_peer"`
	UnicastTTL         *int          `toml:"unicast_ttl"`
	UnicastFaultNoPeer bool          `toml:"unicast_fault_no_peer"`
	CheckUnicastSrc    bool          `toml:"check_unicast_src"`
	McastDstIP         netip.Addr    `toml:"mcast_dst_ip"`

	NoPreempt          bool          `toml:"nopreempt"`
	PreemptDelay       time.Duration `toml:"preempt_delay"`
	Accept             *bool         `toml:"accept"` // accept / no_accept; set by Compile
	Strict             *bool         `toml:"strict_mode"`
	SkipCheckAdvAddr   *bool         `toml:"skip_check_adv_addr"`
	DontTrackPrimary   bool          `toml:"dont_track_primary"`
	PromoteSecondaries bool          `toml:"promote_secondaries"`
	TrackSrcIP         bool          `toml:"track_src_ip"`
	DownTimerAdverts   int           `toml:"down_timer_adverts"` // set by Compile from the global
	LowerPrioNoAdvert  *bool         `toml:"lower_prio_no_advert"`
	HigherPrioSend     *bool         `toml:"higher_prio_send_advert"`
	UseVMAC            bool          `toml:"use_vmac"`
	VMACName           string        `toml:"vmac_name"`

	TrackInterfaces []Track `toml:"track_interface"`
	TrackScripts    []Track `toml:"track_script"`
	TrackFiles      []Track `toml:"track_file"`

	Notify    Notify `toml:"notify"`
	SMTPAlert *bool  `toml:"smtp_alert"`
	Garp      Garp   `toml:"garp"` // set by Compile from the globals
}

// VirtualServerGroupEntry is one line of a virtual_server_group:
// `ADDR [PORT]`, `A.B.C.D-E [PORT]`, `A-B [PORT]`, `ADDR/len [PORT]` or
// `fwmark N [inet|inet6]`. In TOML it is a string with that syntax.
type VirtualServerGroupEntry struct {
	Pos Pos
	// Addr is the single address or the first of a range; Last is the last
	// address of a range (inclusive), otherwise invalid.
	Addr   netip.Addr
	Last   netip.Addr
	Prefix netip.Prefix // CIDR form (Addr and Last are then invalid)
	Port   uint16
	FWMark uint32
	Family Family // fwmark entries only
}

// VirtualServerGroup is a virtual_server_group block.
type VirtualServerGroup struct {
	Pos     Pos                       `toml:"-"`
	Name    string                    `toml:"name"`
	Entries []VirtualServerGroupEntry `toml:"entries"`
}

// Protocol is a virtual service's transport protocol.
type Protocol uint8

// Protocols (IPVS supports exactly these three).
const (
	_ Protocol = iota
	TCP
	UDP
	SCTP
)

// Family is an address family.
type Family uint8

// Address families (keepalived ip_family inet|inet6).
const (
	_ Family = iota
	IPv4
	IPv6
)

// Method is an IPVS forwarding method (keepalived lvs_method/lb_kind,
// ipvsadm -m/-g/-i).
type Method uint8

// Forwarding methods.
const (
	_         Method = iota
	MethodNAT        // masquerading (IP_VS_CONN_F_MASQ)
	MethodDR         // direct routing / gatewaying (IP_VS_CONN_F_DROUTE)
	MethodTUN        // IP-in-IP tunnelling (IP_VS_CONN_F_TUNNEL)
)

// TunnelType is the encapsulation of the TUN method (ipvsadm --tun-type).
type TunnelType uint8

// Tunnel types (IP_VS_CONN_F_TUNNEL_TYPE_*).
const (
	_          TunnelType = iota
	TunnelIPIP            // default
	TunnelGUE             // needs a port
	TunnelGRE
)

// TunnelCsum is the tunnel checksum option (ipvsadm --tun-nocsum etc.).
type TunnelCsum uint8

// Tunnel checksum options (IP_VS_TUNNEL_ENCAP_FLAG_*).
const (
	_             TunnelCsum = iota
	TunnelNoCsum             // default
	TunnelCsumOn             // csum
	TunnelRemCsum            // remcsum
)

// Tunnel is the tunnel options of the TUN method:
// `TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
type Tunnel struct {
	Type TunnelType `toml:"tun_type"`
	Port uint16     `toml:"tun_port"`
	Csum TunnelCsum `toml:"tun_csum"`
}

// Scheduler is an IPVS scheduler name: one of rr wrr lc wlc lblc lblcr dh
// sh sed nq fo ovf mh twos (see Schedulers).
type Scheduler string

// Schedulers returns the valid scheduler names, in the order keepalived
// documents them.
func Schedulers() []Scheduler {
	return []Scheduler{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}
}

// Valid reports whether s is one of the 14 scheduler names.
func (s Scheduler) Valid() bool {
	for _, n := range Schedulers() {
		if s == n {
			return true
		}
	}
	return false
}

// SchedFlag is one scheduler flag (keepalived flag-1..3, sh-*, mh-*;
// ipvsadm -b). They map onto IP_VS_SVC_F_SCHED1..3.
type SchedFlag uint8

// Scheduler flags.
const (
	_               SchedFlag = iota
	SchedFlag1                // flag-1 (IP_VS_SVC_F_SCHED1)
	SchedFlag2                // flag-2 (IP_VS_SVC_F_SCHED2)
	SchedFlag3                // flag-3 (IP_VS_SVC_F_SCHED3)
	SchedSHFallback           // sh-fallback = SCHED1, only with sh
	SchedSHPort               // sh-port = SCHED2, only with sh
	SchedMHFallback           // mh-fallback = SCHED1, only with mh
	SchedMHPort               // mh-port = SCHED2, only with mh
)

// IPVS service flag bits (include/uapi/linux/ip_vs.h).
const (
	svcFSched1 = 0x0008 // IP_VS_SVC_F_SCHED1
	svcFSched2 = 0x0010 // IP_VS_SVC_F_SCHED2
	svcFSched3 = 0x0020 // IP_VS_SVC_F_SCHED3
)

// Bits returns the IP_VS_SVC_F_SCHED* bit of f.
func (f SchedFlag) Bits() uint32 {
	switch f {
	case SchedFlag1, SchedSHFallback, SchedMHFallback:
		return svcFSched1
	case SchedFlag2, SchedSHPort, SchedMHPort:
		return svcFSched2
	case SchedFlag3:
		return svcFSched3
	}
	return 0
}

// CheckKind is a health checker type.
type CheckKind uint8

// Checker kinds (keepalived block names in comments).
const (
	_         CheckKind = iota
	CheckTCP            // TCP_CHECK
	CheckHTTP           // HTTP_GET
	CheckSSL            // SSL_GET
	CheckSMTP           // SMTP_CHECK
	CheckDNS            // DNS_CHECK
	CheckMisc           // MISC_CHECK
	CheckUDP            // UDP_CHECK
	CheckPing           // PING_CHECK
	CheckFile           // FILE_CHECK
	CheckBFD            // BFD_CHECK
)

// URL is one url block of HTTP_GET/SSL_GET.
type URL struct {
	Pos          Pos           `toml:"-"`
	Path         string        `toml:"path"`
	Digest       string        `toml:"digest"`      // lower-case hex MD5 of the body
	StatusCodes  []StatusRange `toml:"status_code"` // default 200-299
	Virtualhost  string        `toml:"virtualhost"`
	Regex        string        `toml:"regex"`
	RegexNoMatch bool          `toml:"regex_no_match"`
}

// StatusRange is an inclusive HTTP status code range; a single code has
// Lo == Hi. In TOML it is a string "200" or "200-299".
type StatusRange struct {
	Lo, Hi int
}

// Timing is the retry and scheduling settings shared by checkers, real
// servers and virtual servers; each unset value is inherited
// checker → real server → virtual server → checker-type default.
// Compile sets every field of every checker's Timing.
type Timing struct {
	ConnectTimeout   *time.Duration `toml:"connect_timeout"`    // default 5s
	Retry            *int           `toml:"retry"`              // default 1 (MISC 0, DNS 3)
	DelayBeforeRetry *time.Duration `toml:"delay_before_retry"` // default 1s (HTTP/SSL 3s, DNS delay_loop)
	DelayLoop        *time.Duration `toml:"delay_loop"`         // default 60s
	Warmup           *time.Duration `toml:"warmup"`             // default 0
}

// Check is one health checker of a real server. Kind selects which of the
// kind-specific fields apply.
type Check struct {
	Pos  Pos       `toml:"-"`
	Keys Positions `toml:"-"` // where each keyword was written
	Kind CheckKind `toml:"type"`

	Timing
	Alpha          *bool `toml:"alpha"`            // default: the real server's
	LogAllFailures *bool `toml:"log_all_failures"` // default: the global

	// Connection options (all but MISC, FILE, BFD).
	ConnectIP   netip.Addr `toml:"connect_ip"`   // default: real server address
	ConnectPort uint16     `toml:"connect_port"` // default: real server port
	BindTo      netip.Addr `toml:"bindto"`
	BindPort    uint16     `toml:"bind_port"`
	BindIf      string     `toml:"bind_if"`
	FWMark      uint32     `toml:"fwmark"`

	// HTTP_GET / SSL_GET.
	URLs         []URL  `toml:"url"`
	Virtualhost  string `toml:"virtualhost"`
	HTTPProtocol string `toml:"http_protocol"` // 1.0, 1.0C, 1.1; default 1.0
	FastRecovery bool   `toml:"fast_recovery"`
	EnableSNI    bool   `toml:"enable_sni"`
	SNIName      string `toml:"sni_name"`
	TLSCompliant bool   `toml:"tls_compliant"`

	// SMTP_CHECK.
	HeloName string `toml:"helo_name"` // default smtpchecker.keepalived.org

	// DNS_CHECK.
	DNSType string `toml:"dns_type"` // A NS CNAME SOA MX TXT AAAA RRSIG DNSKEY; default SOA
	DNSName string `toml:"dns_name"` // default "."

	// MISC_CHECK.
	MiscPath    Script        `toml:"misc_path"`
	MiscTimeout time.Duration `toml:"misc_timeout"` // default: the VS delay_loop
	MiscDynamic bool          `toml:"misc_dynamic"`

	// UDP_CHECK (hex strings as in keepalived; X is a wildcard nibble in
	// RequireReply).
	Payload        string `toml:"payload"`
	RequireReply   string `toml:"require_reply"`
	MinReplyLength int    `toml:"min_reply_length"`
	MaxReplyLength int    `toml:"max_reply_length"` // default 255

	// FILE_CHECK.
	TrackFile string `toml:"track_file"`
	Weight    *int   `toml:"weight"`
	Reverse   bool   `toml:"reverse"`

	// BFD_CHECK.
	BFDName string `toml:"name"`
}

// RealServer is a real_server block.
type RealServer struct {
	Pos  Pos        `toml:"-"`
	Keys Positions  `toml:"-"` // where each keyword was written
	Addr netip.Addr `toml:"address"`
	Port uint16     `toml:"port"` // Compile: the VS port when not given (0 for fwmark DR/TUN)

	Weight *int   `toml:"weight"`     // 0..INT32_MAX; Compile: the VS weight (1)
	Method Method `toml:"lvs_method"` // Compile: the VS method
	Tunnel

	InhibitOnFailure *bool  `toml:"inhibit_on_failure"` // Compile: the VS value
	Alpha            *bool  `toml:"alpha"`              // Compile: the VS value
	UThreshold       uint32 `toml:"uthreshold"`         // 0 = none
	LThreshold       uint32 `toml:"lthreshold"`         // 0 = none
	Virtualhost      string `toml:"virtualhost"`
	SMTPAlert        *bool  `toml:"smtp_alert"`
	NotifyUp         Script `toml:"notify_up"`
	NotifyDown       Script `toml:"notify_down"`

	Timing
	Checks []Check `toml:"check"`
}

// VirtualServer is a virtual_server block: by address (Addr, Port), by
// firewall mark (FWMark) or by group (Group).
type VirtualServer struct {
	Pos    Pos        `toml:"-"`
	Keys   Positions  `toml:"-"` // where each keyword was written
	Addr   netip.Addr `toml:"address"`
	Port   uint16     `toml:"port"`
	FWMark uint32     `toml:"fwmark"`
	Group  string     `toml:"group"`

	Protocol   Protocol    `toml:"protocol"`  // Compile: UDP (with a warning) when unset
	IPFamily   Family      `toml:"ip_family"` // fwmark/group services; Compile: from addresses
	Scheduler  Scheduler   `toml:"lvs_sched"` // Compile: wlc (with a warning)
	SchedFlags []SchedFlag `toml:"sched_flags"`
	OPS        bool        `toml:"ops"`
	Method     Method      `toml:"lvs_method"` // Compile: NAT (with a warning)
	Tunnel

	PersistenceTimeout     time.Duration `toml:"persistence_timeout"`     // 0 = not persistent
	PersistenceGranularity int           `toml:"persistence_granularity"` // prefix length; Compile: 32/128 when persistent
	PersistenceEngine      string        `toml:"persistence_engine"`

	Timing
	InhibitOnFailure bool   `toml:"inhibit_on_failure"`
	Alpha            bool   `toml:"alpha"`
	Omega            bool   `toml:"omega"`
	Quorum           int    `toml:"quorum"`     // Compile: 1, capped at the total weight
	Hysteresis       int    `toml:"hysteresis"` // kept below Quorum
	QuorumUp         Script `toml:"quorum_up"`
	QuorumDown       Script `toml:"quorum_down"`
	HASuspend        bool   `toml:"ha_suspend"`
	Virtualhost      string `toml:"virtualhost"`
	Weight           int    `toml:"weight"` // default real-server weight; Compile: 1
	SMTPAlert        *bool  `toml:"smtp_alert"`

	SorryServer        netip.AddrPort `toml:"sorry_server"` // invalid: none
	SorryServerInhibit bool           `toml:"sorry_server_inhibit"`
	SorryServerMethod  Method         `toml:"sorry_server_lvs_method"` // Compile: the VS method

	RealServers []RealServer `toml:"real_server"`
}

// LinkKind is how the dataplane exchanges frames with the network.
type LinkKind uint8

// Link kinds.
const (
	_            LinkKind = iota
	LinkAFPacket          // AF_PACKET (L2; needed for DR)
	LinkTUN               // TUN device (L3)
	LinkPcap              // pcap replay/capture
)

// Neighbour is a static neighbour entry `IP=MAC`. In TOML it is a string
// with that syntax.
type Neighbour struct {
	Pos Pos
	IP  netip.Addr
	MAC net.HardwareAddr
}

// PortRange is an inclusive port range; a single port has Lo == Hi and
// the zero value means any port. In TOML it is a string "80" or "80-90".
type PortRange struct {
	Lo, Hi uint16
}

// FWMatch is one match of a firewall-mark classifier rule. Zero fields
// match anything.
type FWMatch struct {
	Pos      Pos          `toml:"-"`
	Protocol Protocol     `toml:"protocol"`
	Prefix   netip.Prefix `toml:"prefix"` // destination prefix
	Ports    PortRange    `toml:"ports"`  // destination ports
}

// FWMarkRule gives packets matching any of Match the firewall mark Mark.
// There is no kernel mark in userspace: keepalived `fwmark N` services get
// their packets through these rules.
type FWMarkRule struct {
	Pos   Pos       `toml:"-"`
	Mark  uint32    `toml:"mark"`
	Match []FWMatch `toml:"match"`
}

// Dataplane is uvs's own [dataplane] section.
type Dataplane struct {
	Pos        Pos          `toml:"-"`
	Keys       Positions    `toml:"-"`         // where each keyword was written
	Interface  string       `toml:"interface"` // Compile: the first VRRP instance's; empty: the default route's
	Link       LinkKind     `toml:"link"`      // Compile: afpacket
	Workers    int          `toml:"workers"`   // 0: one per CPU (decided by the daemon)
	MaxConns   int          `toml:"max_conns"` // connection table size; Compile: 1<<20
	Timeouts   Timeouts     `toml:"timeouts"`  // Compile: global lvs_timeouts, else IPVS defaults
	Neighbours []Neighbour  `toml:"neighbours"`
	Addresses  []netip.Addr `toml:"addresses"` // the director's own address, at most one per family
	FWMarks    []FWMarkRule `toml:"fwmark"`
}

// Control is uvs's own [control] section.
type Control struct {
	Pos     Pos    `toml:"-"`
	Socket  string `toml:"socket"`  // Compile: /run/uvs/uvs.sock
	Metrics string `toml:"metrics"` // host:port of the Prometheus endpoint; empty: off
}

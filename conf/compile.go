package conf

import (
	"fmt"
	"math"
	"net/netip"
	"time"
)

// Defaults, as keepalived and IPVS have them (keepalived.md §2, §3.5,
// §4.1; ipvs.md §4.1, §7.1).
const (
	defaultDelayLoop        = 60 * time.Second
	defaultConnectTimeout   = 5 * time.Second
	defaultDelayBeforeRetry = 1 * time.Second
	defaultHTTPDelayRetry   = 3 * time.Second // HTTP_GET/SSL_GET
	defaultAdvertInt        = 1 * time.Second
	defaultPersistence      = 360 * time.Second // ipvsadm -p with no value
	defaultTCPTimeout       = 900 * time.Second // IP_VS_TCP_S_ESTABLISHED
	defaultTCPFinTimeout    = 120 * time.Second // IP_VS_TCP_S_FIN_WAIT
	defaultUDPTimeout       = 300 * time.Second // IP_VS_UDP_S_NORMAL
	defaultSMTPTimeout      = 30 * time.Second
	defaultGarpDelay        = 5 * time.Second
	defaultGarpRepeat       = 5
	defaultDownTimerAdverts = 3
	defaultSyncPort         = 8848 // IP_VS_SYNC_PORT
	defaultMaxConns         = 1 << 20
	defaultSocket           = "/run/uvs/uvs.sock"
	priorityOwner           = 255 // RFC 3768 §5.3.4: the address owner
	priorityDefault         = 100 // RFC 3768 §5.3.4: default for backups
	maxV3AdvertInt          = 4095 * 10 * time.Millisecond
)

// compiler fills defaults and validates.
type compiler struct {
	c     *Config
	probs problems
}

func (k *compiler) errorf(at Pos, format string, args ...any) {
	k.probs.addf(at, SeverityError, format, args...)
}

func (k *compiler) warnf(at Pos, format string, args ...any) {
	k.probs.addf(at, SeverityWarning, format, args...)
}

func ptr[T any](v T) *T { return &v }

func setDur(p **time.Duration, d time.Duration) {
	if *p == nil {
		*p = ptr(d)
	}
}

// Compile fills every default into c (in place) and validates it: address
// families, ports, thresholds, scheduler flags, references between blocks.
// It returns every problem found. After Compile every enum is set and the
// pointers documented as "set by Compile" are non-nil.
func Compile(c *Config) []Problem {
	k := &compiler{c: c}
	k.global()
	k.scripts()
	k.instances()
	k.syncGroups()
	k.syncDaemon()
	groups := k.vsGroups()
	k.virtualServers(groups)
	k.dataplane()
	return k.probs.result()
}

func (k *compiler) global() {
	g := &k.c.Global
	if g.SMTPServer != "" && g.SMTPPort == 0 {
		g.SMTPPort = 25 // SMTP, RFC 5321 §4.5.4
	}
	if g.SMTPConnectTimeout == 0 {
		g.SMTPConnectTimeout = defaultSMTPTimeout
	}
	if g.SMTPAlert == nil {
		g.SMTPAlert = ptr(false)
	}
	if g.SMTPAlertVRRP == nil {
		g.SMTPAlertVRRP = ptr(*g.SMTPAlert)
	}
	if g.SMTPAlertChecker == nil {
		g.SMTPAlertChecker = ptr(*g.SMTPAlert)
	}
	if g.DefaultInterface == "" {
		g.DefaultInterface = "eth0"
	}
	if !g.VRRPMcastGroup4.IsValid() {
		g.VRRPMcastGroup4 = netip.MustParseAddr("224.0.0.18") // RFC 3768 §5.2.2
	}
	if !g.VRRPMcastGroup6.IsValid() {
		g.VRRPMcastGroup6 = netip.MustParseAddr("ff02::12") // RFC 5798 §5.1.2.2
	}
	if g.VRRPVersion == 0 {
		g.VRRPVersion = 2
	}
	if g.VRRPDownTimerAdverts == 0 {
		g.VRRPDownTimerAdverts = defaultDownTimerAdverts
	}
	if g.VRRPLowerPrioNoAdvert == nil {
		g.VRRPLowerPrioNoAdvert = ptr(g.VRRPStrict)
	}
	if g.VRRPHigherPrioSend == nil {
		g.VRRPHigherPrioSend = ptr(false)
	}
	if g.VRRPMinGarp {
		// vrrp_min_garp: one GARP, no second burst, no refresh.
		setDur(&g.Garp.MasterDelay, 0)
		if g.Garp.MasterRepeat == 0 {
			g.Garp.MasterRepeat = 1
		}
		setDur(&g.Garp.MasterRefresh, 0)
	}
	setDur(&g.Garp.MasterDelay, defaultGarpDelay)
	if g.Garp.MasterRepeat == 0 {
		g.Garp.MasterRepeat = defaultGarpRepeat
	}
	setDur(&g.Garp.MasterRefresh, 0)
	if g.Garp.MasterRefreshRepeat == 0 {
		g.Garp.MasterRefreshRepeat = 1
	}
	setDur(&g.Garp.LowerPrioDelay, *g.Garp.MasterDelay)
	if g.Garp.LowerPrioRepeat == nil {
		g.Garp.LowerPrioRepeat = ptr(g.Garp.MasterRepeat)
	}
	t := &g.LVSTimeouts
	if t.TCP == 0 {
		t.TCP = defaultTCPTimeout
	}
	if t.TCPFin == 0 {
		t.TCPFin = defaultTCPFinTimeout
	}
	if t.UDP == 0 {
		t.UDP = defaultUDPTimeout
	}
}

func (k *compiler) scripts() {
	seen := map[string]bool{}
	out := k.c.Scripts[:0]
	for _, s := range k.c.Scripts {
		if s.Name == "" {
			k.errorf(s.Pos, "vrrp_script has no name")
		}
		if s.Script.IsZero() {
			k.warnf(s.Pos, "no script set for vrrp_script %s - removing", s.Name)
			continue
		}
		if seen[s.Name] {
			k.errorf(s.Pos, "vrrp_script %s defined twice", s.Name)
			continue
		}
		seen[s.Name] = true
		if s.Interval == 0 {
			s.Interval = time.Second
		}
		if s.Timeout == 0 {
			s.Timeout = s.Interval
		}
		if s.Rise == 0 {
			s.Rise = 1
		}
		if s.Fall == 0 {
			s.Fall = 1
		}
		out = append(out, s)
	}
	k.c.Scripts = out
}

// addrFamily returns the Family of a.
func addrFamily(a netip.Addr) Family {
	if a.Is4() || a.Is4In6() {
		return IPv4
	}
	return IPv6
}

func (k *compiler) instances() {
	g := &k.c.Global
	names := map[string]bool{}
	type vridKey struct {
		ifname string
		fam    Family
		vrid   int
	}
	vrids := map[vridKey]string{}
	scripts := map[string]bool{}
	for _, s := range k.c.Scripts {
		scripts[s.Name] = true
	}
	for i := range k.c.Instances {
		vi := &k.c.Instances[i]
		if vi.Name == "" {
			k.errorf(vi.Pos, "vrrp_instance has no name")
		} else if names[vi.Name] {
			k.errorf(vi.Pos, "vrrp_instance %s defined twice", vi.Name)
		}
		names[vi.Name] = true
		if vi.VirtualRouterID == 0 {
			k.errorf(vi.Pos, "(%s) virtual_router_id is required", vi.Name)
		}
		if vi.Interface == "" && !vi.UnicastSrcIP.IsValid() {
			k.errorf(vi.Pos, "(%s) interface is required (unless unicast with unicast_src_ip)", vi.Name)
		}
		// Address family from the VIPs; all must agree.
		fam := Family(0)
		for _, ip := range vi.VirtualIPAddresses {
			if !ip.Prefix.IsValid() {
				continue
			}
			f := addrFamily(ip.Prefix.Addr())
			if fam == 0 {
				fam = f
			} else if f != fam {
				k.errorf(ip.Pos, "(%s) virtual_ipaddress %s: all VIPs of an instance must be the same family", vi.Name, ip.Prefix.Addr())
			}
		}
		if fam == 0 {
			fam = IPv4
			if vi.UnicastSrcIP.IsValid() {
				fam = addrFamily(vi.UnicastSrcIP)
			}
			if len(vi.VirtualIPAddresses) == 0 {
				k.warnf(vi.Pos, "(%s) no virtual_ipaddress specified", vi.Name)
			}
		}
		for _, up := range vi.UnicastPeers {
			if up.Addr.IsValid() && addrFamily(up.Addr) != fam {
				k.errorf(up.Pos, "(%s) unicast_peer %s is not the instance's address family", vi.Name, up.Addr)
			}
		}
		if vi.UnicastSrcIP.IsValid() && addrFamily(vi.UnicastSrcIP) != fam {
			k.errorf(vi.Keys.At(vi.Pos, "unicast_src_ip", "mcast_src_ip"), "(%s) unicast_src_ip %s is not the instance's address family", vi.Name, vi.UnicastSrcIP)
		}
		key := vridKey{vi.Interface, fam, vi.VirtualRouterID}
		if other, dup := vrids[key]; dup && vi.VirtualRouterID != 0 {
			k.errorf(vi.Keys.At(vi.Pos, "virtual_router_id"), "(%s) virtual_router_id %d is already used by %s on interface %s", vi.Name, vi.VirtualRouterID, other, vi.Interface)
		}
		vrids[key] = vi.Name

		// Version: IPv6 forces VRRPv3 (RFC 5798 is the only IPv6 VRRP).
		if vi.Version == 0 {
			vi.Version = g.VRRPVersion
		}
		if fam == IPv6 && vi.Version == 2 {
			if vi.Version != g.VRRPVersion {
				k.warnf(vi.Keys.At(vi.Pos, "version"), "(%s) IPv6 needs VRRP version 3; using 3", vi.Name)
			}
			vi.Version = 3
		}
		if vi.Strict == nil {
			vi.Strict = ptr(g.VRRPStrict)
		}
		strict := *vi.Strict

		// Priority and state defaults (keepalived.md §3.5).
		if vi.Priority == 0 {
			vi.Priority = priorityDefault
			if vi.State == StateMaster {
				vi.Priority = priorityOwner
			}
		}
		if vi.State == 0 {
			vi.State = StateBackup
			if vi.Priority == priorityOwner {
				vi.State = StateMaster
			}
		}
		owner := vi.Priority == priorityOwner
		if strict && (vi.State == StateMaster) != owner {
			k.warnf(vi.Keys.At(vi.Pos, "state", "priority"), "(%s) strict mode: state MASTER must match being address owner (priority 255); using state %s",
				vi.Name, map[bool]VRRPState{true: StateMaster, false: StateBackup}[owner])
			if owner {
				vi.State = StateMaster
			} else {
				vi.State = StateBackup
			}
		}

		if vi.AdvertInt == 0 {
			vi.AdvertInt = defaultAdvertInt
		}
		if vi.Version == 2 && vi.AdvertInt%time.Second != 0 {
			r := vi.AdvertInt.Round(time.Second)
			if r == 0 {
				r = time.Second
			}
			k.warnf(vi.Keys.At(vi.Pos, "advert_int"), "(%s) advert_int must be an integer for VRRPv2; rounding %s to %s", vi.Name, fmtSeconds(vi.AdvertInt), fmtSeconds(r))
			vi.AdvertInt = r
		}
		if vi.Version == 3 {
			if vi.AdvertInt > maxV3AdvertInt {
				k.errorf(vi.Keys.At(vi.Pos, "advert_int"), "(%s) advert_int %s is more than VRRPv3's 40.95s", vi.Name, fmtSeconds(vi.AdvertInt))
			}
			vi.AdvertInt = vi.AdvertInt.Round(10 * time.Millisecond)
		}

		// Authentication.
		switch {
		case vi.AuthType == 0 || vi.AuthType == AuthNone:
			vi.AuthType = AuthNone
		case vi.Version == 3:
			k.warnf(vi.Keys.At(vi.Pos, "authentication", "auth_type"), "(%s) authentication is not supported with VRRPv3; ignored", vi.Name)
			vi.AuthType, vi.AuthPass = AuthNone, ""
		case strict:
			k.warnf(vi.Keys.At(vi.Pos, "authentication", "auth_type"), "(%s) strict mode does not support authentication; ignored", vi.Name)
			vi.AuthType, vi.AuthPass = AuthNone, ""
		case vi.AuthType == AuthAH && vi.State == StateMaster && !owner:
			k.warnf(vi.Keys.At(vi.Pos, "authentication", "auth_type"), "(%s) initial state MASTER is incompatible with AH authentication; clearing", vi.Name)
			vi.AuthType, vi.AuthPass = AuthNone, ""
		case vi.AuthType == AuthAH:
			k.warnf(vi.Keys.At(vi.Pos, "authentication", "auth_type"), "(%s) AH authentication is not supported by uvs; ignored", vi.Name)
			vi.AuthType, vi.AuthPass = AuthNone, ""
		case vi.AuthPass == "":
			k.warnf(vi.Keys.At(vi.Pos, "authentication", "auth_type"), "(%s) authentication without auth_pass; ignored", vi.Name)
			vi.AuthType = AuthNone
		}

		// Preemption (keepalived.md §3.6).
		if vi.NoPreempt && (vi.State == StateMaster || owner) {
			k.warnf(vi.Keys.At(vi.Pos, "nopreempt"), "(%s) nopreempt is ignored with state MASTER or priority 255", vi.Name)
			vi.NoPreempt = false
		}
		if vi.PreemptDelay != 0 && (vi.State == StateMaster || owner || vi.NoPreempt || strict) {
			k.warnf(vi.Keys.At(vi.Pos, "preempt_delay"), "(%s) preempt_delay is ignored with state MASTER, priority 255, nopreempt or strict mode", vi.Name)
			vi.PreemptDelay = 0
		}
		if vi.Accept == nil {
			vi.Accept = ptr(!strict || owner)
		} else if *vi.Accept && strict && vi.Version == 2 && !owner {
			k.warnf(vi.Keys.At(vi.Pos, "accept"), "(%s) accept mode for VRRP version 2 does not comply with RFC 3768; resetting", vi.Name)
			*vi.Accept = false
		}
		if vi.SkipCheckAdvAddr == nil {
			vi.SkipCheckAdvAddr = ptr(g.VRRPSkipCheckAdvAddr)
		}
		if vi.LowerPrioNoAdvert == nil {
			vi.LowerPrioNoAdvert = ptr(*g.VRRPLowerPrioNoAdvert || strict)
		}
		if vi.HigherPrioSend == nil {
			vi.HigherPrioSend = ptr(*g.VRRPHigherPrioSend)
		}
		if vi.DownTimerAdverts == 0 {
			vi.DownTimerAdverts = g.VRRPDownTimerAdverts
		}
		if vi.SMTPAlert == nil {
			vi.SMTPAlert = ptr(*g.SMTPAlertVRRP)
		}
		if vi.UnicastTTL == nil && len(vi.UnicastPeers) > 0 && fam == IPv4 {
			vi.UnicastTTL = ptr(255) // keepalived's IPv4 unicast default
		}
		vi.CheckUnicastSrc = vi.CheckUnicastSrc || g.VRRPCheckUnicastSrc
		if !vi.McastDstIP.IsValid() && len(vi.UnicastPeers) == 0 {
			if fam == IPv4 {
				vi.McastDstIP = g.VRRPMcastGroup4
			} else {
				vi.McastDstIP = g.VRRPMcastGroup6
			}
		}
		if vi.McastDstIP.IsValid() && addrFamily(vi.McastDstIP) != fam {
			k.errorf(vi.Keys.At(vi.Pos, "mcast_dst_ip"), "(%s) mcast_dst_ip %s is not the instance's address family", vi.Name, vi.McastDstIP)
		}
		gi := &vi.Garp
		setDur(&gi.MasterDelay, *g.Garp.MasterDelay)
		if gi.MasterRepeat == 0 {
			gi.MasterRepeat = g.Garp.MasterRepeat
		}
		setDur(&gi.MasterRefresh, *g.Garp.MasterRefresh)
		if gi.MasterRefreshRepeat == 0 {
			gi.MasterRefreshRepeat = g.Garp.MasterRefreshRepeat
		}
		setDur(&gi.LowerPrioDelay, *g.Garp.LowerPrioDelay)
		if gi.LowerPrioRepeat == nil {
			gi.LowerPrioRepeat = ptr(*g.Garp.LowerPrioRepeat)
		}
		if strict {
			// Strict mode forces lower-priority GARPs off (keepalived.md §2.6).
			gi.LowerPrioDelay, gi.LowerPrioRepeat = ptr(time.Duration(0)), ptr(0)
		}
		if gi.Interval == 0 {
			gi.Interval = g.Garp.Interval
		}
		if gi.NAInterval == 0 {
			gi.NAInterval = g.Garp.NAInterval
		}
		if gi.ExtraIfInterval == 0 {
			gi.ExtraIfInterval, gi.ExtraIfAllInterfaces = g.Garp.ExtraIfInterval, g.Garp.ExtraIfAllInterfaces
		}
		// Tracked scripts must exist.
		ts := vi.TrackScripts[:0]
		for _, t := range vi.TrackScripts {
			if !scripts[t.Name] {
				k.warnf(t.Pos, "(%s) track script %s not found, ignoring", vi.Name, t.Name)
				continue
			}
			ts = append(ts, t)
		}
		vi.TrackScripts = ts
	}
}

func (k *compiler) syncGroups() {
	inst := map[string]*VRRPInstance{}
	for i := range k.c.Instances {
		inst[k.c.Instances[i].Name] = &k.c.Instances[i]
	}
	member := map[string]string{}
	for i := range k.c.SyncGroups {
		sg := &k.c.SyncGroups[i]
		var keep []string
		owners := 0
		for _, n := range sg.Group {
			vi, ok := inst[n]
			if !ok {
				k.warnf(sg.Pos, "vrrp_sync_group %s: instance %s does not exist; ignored", sg.Name, n)
				continue
			}
			if other, dup := member[n]; dup {
				k.errorf(sg.Pos, "vrrp_sync_group %s: instance %s is already in sync group %s", sg.Name, n, other)
				continue
			}
			member[n] = sg.Name
			if vi.Priority == priorityOwner {
				owners++
			}
			keep = append(keep, n)
		}
		sg.Group = keep
		switch {
		case len(keep) == 0:
			k.warnf(sg.Pos, "vrrp_sync_group %s has no members", sg.Name)
		case len(keep) == 1:
			k.warnf(sg.Pos, "vrrp_sync_group %s has only one member", sg.Name)
		}
		if owners != 0 && owners != len(keep) {
			k.warnf(sg.Pos, "vrrp_sync_group %s mixes address owners (priority 255) and non-owners; that won't work", sg.Name)
		}
		if sg.SMTPAlert == nil {
			sg.SMTPAlert = ptr(*k.c.Global.SMTPAlertVRRP)
		}
	}
}

func (k *compiler) syncDaemon() {
	sd := k.c.Global.LVSSyncDaemon
	if sd == nil {
		return
	}
	if sd.Port == 0 {
		sd.Port = defaultSyncPort
	}
	if sd.TTL == 0 {
		sd.TTL = 1
	}
	if !sd.Group.IsValid() {
		sd.Group = netip.MustParseAddr("224.0.0.81") // IP_VS_SYNC_GROUP
	}
	if sd.SyncID == nil {
		id := 0
		for _, vi := range k.c.Instances {
			if sd.Instance != "" && vi.Name == sd.Instance {
				id = vi.VirtualRouterID
			}
		}
		sd.SyncID = &id
	}
	if sd.Instance != "" {
		found := false
		for _, vi := range k.c.Instances {
			found = found || vi.Name == sd.Instance
		}
		if !found {
			k.errorf(sd.Pos, "lvs_sync_daemon: vrrp_instance %s does not exist", sd.Instance)
		}
	}
}

// vsGroups validates the virtual_server_groups and returns them by name.
func (k *compiler) vsGroups() map[string]*VirtualServerGroup {
	out := map[string]*VirtualServerGroup{}
	for i := range k.c.VirtualServerGroups {
		g := &k.c.VirtualServerGroups[i]
		if _, dup := out[g.Name]; dup {
			k.errorf(g.Pos, "virtual_server_group %s defined twice", g.Name)
			continue
		}
		if len(g.Entries) == 0 {
			k.warnf(g.Pos, "virtual_server_group %s has no entries", g.Name)
		}
		for _, e := range g.Entries {
			if _, err := e.Addrs(); err != nil {
				k.errorf(e.Pos, "virtual_server_group %s: %v", g.Name, err)
			}
		}
		out[g.Name] = g
	}
	return out
}

// groupFamily is the family of a group's address entries (0 if none).
func groupFamily(g *VirtualServerGroup) Family {
	for _, e := range g.Entries {
		switch {
		case e.Prefix.IsValid():
			return addrFamily(e.Prefix.Addr())
		case e.Addr.IsValid():
			return addrFamily(e.Addr)
		case e.Family != 0:
			return e.Family
		}
	}
	return 0
}

// vsName names a virtual server in messages.
func vsName(vs *VirtualServer) string {
	switch {
	case vs.FWMark != 0:
		return fmt.Sprintf("FWM %d", vs.FWMark)
	case vs.Group != "":
		return "group " + vs.Group
	}
	return netip.AddrPortFrom(vs.Addr, vs.Port).String()
}

func (k *compiler) virtualServers(groups map[string]*VirtualServerGroup) {
	type svcKey struct {
		proto  Protocol
		ap     netip.AddrPort
		fwmark uint32
		fam    Family
		group  string
	}
	seen := map[svcKey]bool{}
	g := &k.c.Global
	for i := range k.c.VirtualServers {
		vs := &k.c.VirtualServers[i]
		name := vsName(vs)
		forms := 0
		for _, set := range []bool{vs.Addr.IsValid(), vs.FWMark != 0, vs.Group != ""} {
			if set {
				forms++
			}
		}
		if forms != 1 {
			k.errorf(vs.Pos, "virtual_server needs exactly one of address, fwmark or group")
		}
		var fam Family
		switch {
		case vs.FWMark != 0:
			if vs.Protocol != 0 {
				k.warnf(vs.Keys.At(vs.Pos, "protocol"), "virtual server %s: protocol specified for fwmark - protocol will be ignored", name)
			}
			// IPVS fwmark services carry TCP (ipvsadm sends TCP for -f).
			vs.Protocol = TCP
			fam = vs.IPFamily
			for _, rs := range vs.RealServers {
				if fam == 0 && rs.Addr.IsValid() {
					fam = addrFamily(rs.Addr)
				}
			}
		case vs.Group != "":
			grp, ok := groups[vs.Group]
			if !ok {
				k.errorf(vs.Pos, "virtual_server group %s: no such virtual_server_group", vs.Group)
			} else {
				fam = groupFamily(grp)
			}
			if fam == 0 {
				fam = vs.IPFamily
			}
		case vs.Addr.IsValid():
			fam = addrFamily(vs.Addr)
			if vs.IPFamily != 0 && vs.IPFamily != fam {
				k.errorf(vs.Keys.At(vs.Pos, "ip_family"), "virtual server %s: ip_family %s does not match the address", name, vs.IPFamily)
			}
		}
		if fam == 0 {
			fam = IPv4
		}
		vs.IPFamily = fam
		if vs.Protocol == 0 {
			k.warnf(vs.Pos, "virtual server %s: no protocol specified - using UDP (keepalived's default)", name)
			vs.Protocol = UDP
		}
		if vs.Scheduler == "" {
			k.warnf(vs.Pos, "virtual server %s: no scheduler specified - using wlc", name)
			vs.Scheduler = "wlc"
		}
		if vs.Method == 0 {
			k.warnf(vs.Pos, "virtual server %s: no lvs_method specified - using NAT", name)
			vs.Method = MethodNAT
		}
		k.tunnel(vs.Keys.At(vs.Pos, "lvs_method", "lb_kind", "tun_type"), name, vs.Method, &vs.Tunnel)
		k.schedFlags(vs, name)
		if vs.OPS && vs.Protocol != UDP && vs.FWMark == 0 {
			k.warnf(vs.Keys.At(vs.Pos, "ops"), "virtual server %s: one-packet scheduling is only for UDP; ops reset", name)
			vs.OPS = false
		}
		if vs.PersistenceGranularity != 0 && vs.PersistenceTimeout == 0 {
			vs.PersistenceTimeout = defaultPersistence
		}
		if vs.Addr.IsValid() && vs.Port == 0 && vs.PersistenceTimeout == 0 {
			k.warnf(vs.Pos, "virtual server %s: port 0 needs persistence; using persistence_timeout 360", name)
			vs.PersistenceTimeout = defaultPersistence
		}
		maxBits := 32
		if fam == IPv6 {
			maxBits = 128
		}
		if vs.PersistenceGranularity > maxBits {
			k.errorf(vs.Keys.At(vs.Pos, "persistence_granularity"), "virtual server %s: persistence_granularity /%d is too long for %s", name, vs.PersistenceGranularity, fam)
		}
		if vs.PersistenceGranularity == 0 && vs.PersistenceTimeout != 0 {
			vs.PersistenceGranularity = maxBits
		}
		if vs.PersistenceEngine != "" && vs.PersistenceEngine != "sip" {
			k.errorf(vs.Keys.At(vs.Pos, "persistence_engine"), "virtual server %s: unknown persistence_engine %q (IPVS has only sip)", name, vs.PersistenceEngine)
		}
		if vs.Weight == 0 {
			vs.Weight = 1
		}
		if vs.SorryServerMethod == 0 {
			vs.SorryServerMethod = vs.Method
		}
		if vs.SorryServer.IsValid() {
			if vs.SorryServer.Port() == 0 && vs.Port != 0 {
				vs.SorryServer = netip.AddrPortFrom(vs.SorryServer.Addr(), vs.Port)
			}
			if addrFamily(vs.SorryServer.Addr()) != fam && vs.SorryServerMethod != MethodTUN {
				k.errorf(vs.Keys.At(vs.Pos, "sorry_server"), "virtual server %s: sorry_server %s is not the service's address family", name, vs.SorryServer.Addr())
			}
		}
		if vs.SMTPAlert == nil {
			vs.SMTPAlert = ptr(*g.SMTPAlertChecker)
		}
		key := svcKey{vs.Protocol, netip.AddrPortFrom(vs.Addr, vs.Port), vs.FWMark, fam, vs.Group}
		if seen[key] {
			k.errorf(vs.Pos, "virtual server %s %s is defined twice", vs.Protocol, name)
		}
		seen[key] = true
		k.realServers(vs, name)
		k.quorum(vs, name)
	}
}

// tunnel checks and defaults the tunnel options.
func (k *compiler) tunnel(at Pos, name string, m Method, t *Tunnel) {
	if m != MethodTUN {
		if *t != (Tunnel{}) {
			k.errorf(at, "%s: tunnel options conflict with forward method %s", name, m)
		}
		return
	}
	if t.Type == 0 {
		t.Type = TunnelIPIP
	}
	if t.Csum == 0 {
		t.Csum = TunnelNoCsum
	}
	if t.Type == TunnelGUE && t.Port == 0 {
		k.errorf(at, "%s: tunnel type gue needs a port", name)
	}
	if t.Type != TunnelGUE && t.Port != 0 {
		k.errorf(at, "%s: a tunnel port is only valid with type gue", name)
	}
}

// schedFlags validates the flags against the scheduler and removes
// duplicates.
func (k *compiler) schedFlags(vs *VirtualServer, name string) {
	var out []SchedFlag
	var bits uint32
	for _, f := range vs.SchedFlags {
		switch f {
		case SchedSHFallback, SchedSHPort:
			if vs.Scheduler != "sh" {
				k.errorf(vs.Keys.At(vs.Pos, f.String(), "sched_flags", "lvs_flags", "lb_flags"), "virtual server %s: %s is only valid with scheduler sh", name, f)
				continue
			}
		case SchedMHFallback, SchedMHPort:
			if vs.Scheduler != "mh" {
				k.errorf(vs.Keys.At(vs.Pos, f.String(), "sched_flags", "lvs_flags", "lb_flags"), "virtual server %s: %s is only valid with scheduler mh", name, f)
				continue
			}
		}
		if bits&f.Bits() != 0 {
			continue
		}
		bits |= f.Bits()
		out = append(out, f)
	}
	vs.SchedFlags = out
}

func (k *compiler) realServers(vs *VirtualServer, name string) {
	g := &k.c.Global
	type rsKey struct {
		a    netip.Addr
		port uint16
	}
	seen := map[rsKey]bool{}
	out := vs.RealServers[:0]
	for _, rs := range vs.RealServers {
		rname := fmt.Sprintf("real server %s", netip.AddrPortFrom(rs.Addr, rs.Port))
		if !rs.Addr.IsValid() {
			k.errorf(rs.Pos, "real server in virtual server %s has no address", name)
		}
		if rs.Weight == nil {
			rs.Weight = ptr(vs.Weight)
		}
		if rs.Method == 0 {
			rs.Method = vs.Method
			if rs.Tunnel == (Tunnel{}) {
				rs.Tunnel = vs.Tunnel
			}
		}
		k.tunnel(rs.Keys.At(rs.Pos, "lvs_method", "lb_kind", "tun_type"), rname, rs.Method, &rs.Tunnel)
		if rs.Addr.IsValid() && addrFamily(rs.Addr) != vs.IPFamily && rs.Method != MethodTUN {
			k.errorf(rs.Pos, "%s in virtual server %s: a different address family is allowed only for tunnelled (TUN) real servers", rname, name)
		}
		switch {
		case vs.FWMark != 0 && rs.Method != MethodNAT:
			if rs.Port != 0 {
				k.warnf(rs.Pos, "%s: the port of a %s real server of a fwmark service is ignored", rname, rs.Method)
			}
			rs.Port = 0
		case rs.Port == 0:
			rs.Port = vs.Port
		case rs.Method != MethodNAT && vs.Port != 0 && rs.Port != vs.Port:
			// DR and TUN cannot change the port: the packet is forwarded
			// unchanged (ipvs.md §6).
			k.warnf(rs.Pos, "%s: %s cannot map port %d to %d; using the service port %d", rname, rs.Method, vs.Port, rs.Port, vs.Port)
			rs.Port = vs.Port
		}
		if rs.LThreshold > rs.UThreshold && rs.UThreshold != 0 {
			k.errorf(rs.Keys.At(rs.Pos, "lthreshold"), "%s: lthreshold %d is above uthreshold %d", rname, rs.LThreshold, rs.UThreshold)
		}
		key := rsKey{rs.Addr, rs.Port}
		if seen[key] {
			k.warnf(rs.Pos, "%s is defined twice in virtual server %s; the duplicate is removed", rname, name)
			continue
		}
		seen[key] = true
		if rs.InhibitOnFailure == nil {
			rs.InhibitOnFailure = ptr(vs.InhibitOnFailure)
		}
		if rs.Alpha == nil {
			rs.Alpha = ptr(vs.Alpha)
		}
		if rs.SMTPAlert == nil {
			// keepalived's old inconsistency: yes unless the global is set.
			rs.SMTPAlert = ptr(true)
			if *g.SMTPAlertChecker || *g.SMTPAlert {
				rs.SMTPAlert = ptr(*g.SMTPAlertChecker)
			}
		}
		for ci := range rs.Checks {
			k.check(vs, &rs, &rs.Checks[ci])
		}
		out = append(out, rs)
	}
	vs.RealServers = out
}

// inherit returns the first non-nil of the chain.
func inherit[T any](def T, chain ...*T) *T {
	for _, p := range chain {
		if p != nil {
			return ptr(*p)
		}
	}
	return ptr(def)
}

func (k *compiler) check(vs *VirtualServer, rs *RealServer, c *Check) {
	delayLoop := inherit(defaultDelayLoop, c.DelayLoop, rs.DelayLoop, vs.DelayLoop)
	c.DelayLoop = delayLoop
	retry, dbr := 1, defaultDelayBeforeRetry
	switch c.Kind {
	case CheckMisc:
		retry = 0
	case CheckDNS:
		retry, dbr = 3, *delayLoop
	case CheckHTTP, CheckSSL:
		dbr = defaultHTTPDelayRetry
	}
	c.Retry = inherit(retry, c.Retry, rs.Retry, vs.Retry)
	c.DelayBeforeRetry = inherit(dbr, c.DelayBeforeRetry, rs.DelayBeforeRetry, vs.DelayBeforeRetry)
	c.ConnectTimeout = inherit(defaultConnectTimeout, c.ConnectTimeout, rs.ConnectTimeout, vs.ConnectTimeout)
	c.Warmup = inherit(0, c.Warmup, rs.Warmup, vs.Warmup)
	c.Alpha = inherit(false, c.Alpha, rs.Alpha)
	c.LogAllFailures = inherit(k.c.Global.CheckerLogAllFailures, c.LogAllFailures)
	switch c.Kind {
	case CheckMisc, CheckFile, CheckBFD:
	default:
		if !c.ConnectIP.IsValid() {
			c.ConnectIP = rs.Addr
		}
		if c.ConnectPort == 0 && c.Kind != CheckPing {
			c.ConnectPort = rs.Port
		}
		if c.ConnectPort == 0 && c.Kind != CheckPing {
			k.errorf(c.Pos, "%s of real server %s: no port to check (set connect_port)", c.Kind, rs.Addr)
		}
		if c.BindTo.IsValid() && c.ConnectIP.IsValid() && addrFamily(c.BindTo) != addrFamily(c.ConnectIP) {
			k.errorf(c.Keys.At(c.Pos, "bindto", "bind_to"), "%s: bindto %s and connect_ip %s are different families", c.Kind, c.BindTo, c.ConnectIP)
		}
	}
	switch c.Kind {
	case CheckHTTP, CheckSSL:
		if len(c.URLs) == 0 {
			k.errorf(c.Pos, "%s needs at least one url", c.Kind)
		}
		for i := range c.URLs {
			u := &c.URLs[i]
			if u.Path == "" {
				k.errorf(u.Pos, "%s url has no path", c.Kind)
			}
			if len(u.StatusCodes) == 0 {
				// keepalived's default, also with a digest: HTTP 2xx
				// (RFC 9110 §15.3).
				u.StatusCodes = []StatusRange{{200, 299}}
			}
		}
		if c.HTTPProtocol == "" {
			c.HTTPProtocol = "1.0"
		}
		if c.Virtualhost == "" {
			c.Virtualhost = vs.Virtualhost
		}
	case CheckSMTP:
		if c.HeloName == "" {
			c.HeloName = "smtpchecker.keepalived.org"
		}
	case CheckDNS:
		if c.DNSType == "" {
			c.DNSType = "SOA"
		}
		if c.DNSName == "" {
			c.DNSName = "."
		}
	case CheckMisc:
		if c.MiscPath.IsZero() {
			k.errorf(c.Pos, "MISC_CHECK needs misc_path")
		}
		if c.MiscTimeout == 0 {
			c.MiscTimeout = *delayLoop
		}
	case CheckUDP:
		if c.MaxReplyLength == 0 {
			c.MaxReplyLength = 255
		}
		if c.MinReplyLength > c.MaxReplyLength {
			k.errorf(c.Keys.At(c.Pos, "min_reply_length"), "UDP_CHECK min_reply_length %d is above max_reply_length %d", c.MinReplyLength, c.MaxReplyLength)
		}
	case CheckFile:
		k.warnf(c.Pos, "FILE_CHECK is not supported by uvs checkers (track_file is not implemented); the checker is ignored")
		if c.TrackFile == "" {
			k.errorf(c.Pos, "FILE_CHECK needs track_file")
		}
	case CheckBFD:
		k.warnf(c.Pos, "BFD_CHECK is not supported by uvs (no BFD); the checker is ignored")
	}
}

// quorum applies keepalived.md §4.5 validation.
func (k *compiler) quorum(vs *VirtualServer, name string) {
	if vs.Quorum == 0 {
		vs.Quorum = 1
	}
	total := 0
	for _, rs := range vs.RealServers {
		total += *rs.Weight
		if total > math.MaxInt32 {
			total = math.MaxInt32
		}
	}
	if total > 0 && vs.Quorum > total {
		k.warnf(vs.Keys.At(vs.Pos, "quorum"), "virtual server %s: quorum %d is more than the total weight %d; using %d", name, vs.Quorum, total, total)
		vs.Quorum = total
	}
	if vs.Hysteresis >= vs.Quorum {
		h := vs.Quorum - 1
		k.warnf(vs.Keys.At(vs.Pos, "hysteresis"), "virtual server %s: hysteresis %d must be below quorum %d; using %d", name, vs.Hysteresis, vs.Quorum, h)
		vs.Hysteresis = h
	}
}

func (k *compiler) dataplane() {
	d := &k.c.Dataplane
	if d.Interface == "" && len(k.c.Instances) > 0 {
		// DESIGN: [dataplane] interface, else the first VRRP instance's,
		// else (decided at run time) the default route's.
		d.Interface = k.c.Instances[0].Interface
	}
	if d.Link == 0 {
		d.Link = LinkAFPacket
	}
	if d.MaxConns == 0 {
		d.MaxConns = defaultMaxConns
	}
	if d.Workers < 0 {
		k.errorf(d.Keys.At(d.Pos, "workers"), "dataplane: workers must not be negative")
	}
	if d.MaxConns < 0 {
		k.errorf(d.Keys.At(d.Pos, "max_conns"), "dataplane: max_conns must not be negative")
	}
	gt := k.c.Global.LVSTimeouts
	if d.Timeouts.TCP == 0 {
		d.Timeouts.TCP = gt.TCP
	}
	if d.Timeouts.TCPFin == 0 {
		d.Timeouts.TCPFin = gt.TCPFin
	}
	if d.Timeouts.UDP == 0 {
		d.Timeouts.UDP = gt.UDP
	}
	fams := map[Family]bool{}
	for _, a := range d.Addresses {
		f := addrFamily(a)
		if fams[f] {
			k.errorf(d.Keys.At(d.Pos, "addresses"), "dataplane: more than one %s address", f)
		}
		fams[f] = true
	}
	marks := map[uint32]bool{}
	for _, r := range d.FWMarks {
		if r.Mark == 0 {
			k.errorf(r.Pos, "dataplane fwmark: mark must not be 0")
		}
		if len(r.Match) == 0 {
			k.warnf(r.Pos, "dataplane fwmark %d has no match and marks nothing", r.Mark)
		}
		marks[r.Mark] = true
	}
	for _, vs := range k.c.VirtualServers {
		if vs.FWMark != 0 && !marks[vs.FWMark] {
			k.warnf(vs.Pos, "virtual server FWM %d: no [[dataplane.fwmark]] rule gives packets mark %d, so it receives no traffic in uvs", vs.FWMark, vs.FWMark)
		}
	}
	if k.c.Control.Socket == "" {
		k.c.Control.Socket = defaultSocket
	}
}

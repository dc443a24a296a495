package conf

import (
	"io/fs"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// KeepalivedOptions are the settings keepalived takes from its command line
// that change how a file reads.
type KeepalivedOptions struct {
	// ConfigID selects `@ID` conditional lines (keepalived -i; keepalived's
	// default is the host name up to the first dot).
	ConfigID string
}

// ParseKeepalived reads a keepalived.conf (and its includes) from fsys
// into the model, without defaults. Problems carry file:line:col with the
// paths as used in fsys.
func ParseKeepalived(fsys fs.FS, name string, opts KeepalivedOptions) (*Config, []Problem) {
	return parseKeepalived(fsSource{fsys}, name, opts)
}

func parseKeepalived(src source, name string, opts KeepalivedOptions) (*Config, []Problem) {
	r := &reader{src: src, configID: opts.ConfigID, vars: map[string]string{}}
	r.readFile(name, Pos{}, true)
	cfg := &Config{Format: FormatKeepalived, Path: name}
	p := &kparser{lines: r.lines, cfg: cfg}
	p.top()
	return cfg, append(r.probs.result(), p.probs.result()...)
}

// keywords keepalived knows that uvs does not implement; they are reported
// as unsupported (and their blocks skipped).
func unsupportedTop(w string) bool {
	switch w {
	case "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "use_pid_dir", "instance",
		"child_wait_time", "linkbeat_use_polling", "linkbeat_interfaces", "interface_up_down_delays",
		"track_group", "track_file", "vrrp_track_file", "vrrp_track_process", "bfd_instance", "garp_group", "SSL":
		return true
	}
	return false
}

// top parses the top level.
func (p *kparser) top() {
	for p.i < len(p.lines) {
		l := &p.lines[p.i]
		p.i++
		switch {
		case l.isClose():
			p.errorf(l.Pos, "extra '}' found")
			continue
		case l.isOpen():
			p.errorf(l.Pos, "unexpected '{' (block skipped)")
			p.i--
			p.skipBlock(l)
			continue
		}
		switch w := l.word(); w {
		case "global_defs":
			p.cfg.Global.Pos = l.Pos
			p.body(l, p.globalDefs)
		case "static_ipaddress":
			p.valueBody(l, func(e *kline) {
				ip, ps := parseIPAddress(w, e.Toks)
				p.probs.add(ps...)
				p.cfg.StaticIPAddresses = append(p.cfg.StaticIPAddresses, ip)
			})
		case "static_routes", "static_rules":
			dst := &p.cfg.StaticRoutes
			if w == "static_rules" {
				dst = &p.cfg.StaticRules
			}
			p.valueBody(l, func(e *kline) {
				r, ps := parseRoute(w, e.Toks)
				p.probs.add(ps...)
				*dst = append(*dst, r)
			})
		case "vrrp_script":
			p.vrrpScript(l)
		case "vrrp_sync_group":
			p.syncGroup(l)
		case "vrrp_instance":
			p.vrrpInstance(l)
		case "virtual_server_group":
			p.vsGroup(l)
		case "virtual_server":
			p.virtualServer(l)
		default:
			if unsupportedTop(w) {
				p.unsupported(l)
				continue
			}
			p.unknown(l, "top level")
		}
	}
}

// valueBody runs fn for each entry line of a value block (one entry per
// line).
func (p *kparser) valueBody(kw *kline, fn func(e *kline)) {
	p.extra(kw, 0)
	p.body(kw, fn)
}

// name returns the block name (argument 1) of kw.
func (p *kparser) name(kw *kline) string {
	if len(kw.Toks) < 2 {
		p.errorf(kw.Pos, "'%s': missing name", kw.word())
		return ""
	}
	p.extra(kw, 1)
	return kw.Toks[1].Text
}

func (p *kparser) globalDefs(l *kline) {
	g := &p.cfg.Global
	g.Keys.record(l.word(), l.Pos)
	switch w := l.word(); w {
	case "router_id":
		g.RouterID = p.str(l)
	case "notification_email":
		p.valueBody(l, func(e *kline) {
			for _, t := range e.Toks {
				g.NotificationEmail = append(g.NotificationEmail, t.Text)
			}
		})
	case "notification_email_from":
		g.NotificationEmailFrom = p.str(l)
	case "smtp_server":
		if t, ok := p.arg(l, 1); ok {
			g.SMTPServer = t.Text
			if len(l.Toks) > 2 {
				g.SMTPPort, _ = p.portTok(l, l.Toks[2])
			}
			p.extra(l, 2)
		}
	case "smtp_helo_name":
		g.SMTPHeloName = p.str(l)
	case "smtp_connect_timeout":
		if n, ok := p.intArg(l, 1, math.MaxInt32); ok {
			g.SMTPConnectTimeout = time.Duration(n) * time.Second
		}
	case "smtp_alert":
		p.boolPtr(l, &g.SMTPAlert)
	case "smtp_alert_vrrp":
		p.boolPtr(l, &g.SMTPAlertVRRP)
	case "smtp_alert_checker":
		p.boolPtr(l, &g.SMTPAlertChecker)
	case "no_email_faults":
		g.NoEmailFaults = p.boolOpt(l)
	case "checker_log_all_failures":
		g.CheckerLogAllFailures = p.boolOpt(l)
	case "script_user":
		if t, ok := p.arg(l, 1); ok {
			g.ScriptUser = t.Text
			if len(l.Toks) > 2 {
				g.ScriptGroup = strings.TrimPrefix(l.Toks[2].Text, ":")
			}
			p.extra(l, 2)
		}
	case "enable_script_security":
		g.EnableScriptSecurity = p.boolOpt(l)
	case "startup_script":
		g.StartupScript = p.script(l)
	case "shutdown_script":
		g.ShutdownScript = p.script(l)
	case "default_interface":
		g.DefaultInterface = p.str(l)
	case "vrrp_mcast_group4", "vrrp_mcast_group6":
		a := p.addr(l)
		if a.IsValid() && (!a.IsMulticast() || a.Is4() != (w == "vrrp_mcast_group4")) {
			p.errorf(l.Toks[1].Pos, "'%s': %s is not an IPv%s multicast address", w, a, map[bool]string{true: "4", false: "6"}[w == "vrrp_mcast_group4"])
		} else if w == "vrrp_mcast_group4" {
			g.VRRPMcastGroup4 = a
		} else {
			g.VRRPMcastGroup6 = a
		}
	case "vrrp_version":
		if n, ok := p.intArg(l, 2, 3); ok {
			g.VRRPVersion = n
		}
	case "vrrp_strict":
		g.VRRPStrict = p.boolOpt(l)
	case "vrrp_check_unicast_src":
		g.VRRPCheckUnicastSrc = p.boolOpt(l)
	case "vrrp_skip_check_adv_addr":
		g.VRRPSkipCheckAdvAddr = p.boolOpt(l)
	case "vrrp_owner_ignore_adverts":
		g.VRRPOwnerIgnoreAdvert = p.boolOpt(l)
	case "v3_checksum_as_v2":
		g.V3ChecksumAsV2 = p.boolOpt(l)
	case "vrrp_startup_delay", "vrrp_delay_after_boot":
		if w == "vrrp_delay_after_boot" {
			p.warnf(l.Pos, "'%s' is read as vrrp_startup_delay", w)
		}
		if d, ok := p.dur(l, 0, maxTimer); ok {
			g.VRRPStartupDelay = d
		}
	case "vrrp_down_timer_adverts":
		if n, ok := p.intArg(l, 1, 100); ok {
			g.VRRPDownTimerAdverts = n
		}
	case "vrrp_lower_prio_no_advert":
		p.boolPtr(l, &g.VRRPLowerPrioNoAdvert)
	case "vrrp_higher_prio_send_advert":
		p.boolPtr(l, &g.VRRPHigherPrioSend)
	case "vrrp_min_garp":
		g.VRRPMinGarp = p.boolOpt(l)
	case "vrrp_garp_interval", "vrrp_gna_interval":
		// keepalived 2.2.7 rejects 0: the range is [0.000001, 4294.967295].
		if d, ok := p.dur(l, time.Microsecond, maxTimer); ok {
			if w == "vrrp_garp_interval" {
				g.Garp.Interval = d
			} else {
				g.Garp.NAInterval = d
			}
		}
	case "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl":
		if w == "vrrp_vmac_garp_intvl" {
			p.deprecated(l, "vrrp_garp_extra_if")
		}
		p.garpExtraIf(l, &g.Garp)
	case "lvs_timeouts":
		p.lvsTimeouts(l)
	case "lvs_sync_daemon":
		p.lvsSyncDaemon(l)
	case "lvs_flush":
		g.LVSFlush = p.boolOpt(l)
	case "lvs_flush_on_stop", "lvs_flush_onstop":
		if w == "lvs_flush_onstop" {
			p.deprecated(l, "lvs_flush_on_stop")
		}
		g.LVSFlushOnStop = true
	default:
		if strings.HasPrefix(w, "vrrp_garp_") {
			if p.garp(l, strings.TrimPrefix(w, "vrrp_garp_"), &g.Garp) {
				return
			}
		}
		if unsupportedGlobal(w) {
			p.unsupported(l)
			return
		}
		p.unknown(l, "global_defs")
	}
}

// unsupportedGlobal lists global_defs keywords of keepalived that uvs
// accepts but does not act on.
func unsupportedGlobal(w string) bool {
	switch w {
	case "vrrp_iptables", "vrrp_ipsets", "nftables", "nftables_priority", "nftables_counters", "nftables_ifindex",
		"vrrp_notify_priority_changes", "vmac_prefix", "vmac_addr_prefix", "dynamic_interfaces", "disable_local_igmp",
		"log_unknown_vrids", "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "process_names", "process_name",
		"vrrp_process_name", "checker_process_name", "bfd_process_name", "lvs_process_name", "max_auto_priority",
		"min_auto_priority_delay", "reload_check_config", "reload_time_file", "reload_repeat", "reload_file",
		"include_check", "config_save_dir", "tmp_config_directory", "data_use_instance", "state_dump_file",
		"stats_dump_file", "json_dump_file", "json_version", "umask", "random_seed", "snmp_socket", "enable_snmp_vrrp",
		"enable_snmp_keepalived", "enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3",
		"enable_traps", "snmp_vs_stats_update_interval", "snmp_rs_stats_update_interval", "enable_dbus",
		"dbus_service_name", "dbus_no_interface_name", "iproute_usr_dir", "iproute_etc_dir", "no_checker_emails",
		"rs_init_notifies", "set_supplementary_groups", "use_symlink_paths", "notify_fifo", "vrrp_notify_fifo",
		"lvs_notify_fifo", "notify_fifo_script", "vrrp_notify_fifo_script", "lvs_notify_fifo_script",
		"fifo_write_vrrp_states_on_reload", "startup_script_timeout", "shutdown_script_timeout", "vrrp_mcast_group",
		"vrrp_no_swap", "checker_no_swap", "bfd_no_swap", "vrrp_priority", "checker_priority", "bfd_priority",
		"vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority", "vrrp_cpu_affinity", "checker_cpu_affinity",
		"bfd_cpu_affinity", "vrrp_rlimit_rttime", "checker_rlimit_rttime", "bfd_rlimit_rttime", "vrrp_rlimit_rtime",
		"checker_rlimit_rtime", "bfd_rlimit_rtime", "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force",
		"vrrp_netlink_monitor_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs_force", "lvs_netlink_cmd_rcv_bufs",
		"lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs", "lvs_netlink_monitor_rcv_bufs_force",
		"process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force", "vrrp_startup_delay_after_boot",
		"linkbeat_use_polling", "vrrp_track_process", "smtp_alert_bfd", "bfd_instance":
		return true
	}
	return false
}

// garp handles the garp settings shared by global_defs (vrrp_garp_X) and
// instances (garp_X). It reports whether name was one of them.
func (p *kparser) garp(l *kline, name string, g *Garp) bool {
	// Delays are whole seconds in keepalived (read as integers).
	secs := func(dst **time.Duration) {
		if n, ok := p.intArg(l, 0, math.MaxInt32); ok {
			d := time.Duration(n) * time.Second
			*dst = &d
		}
	}
	switch name {
	case "master_delay":
		secs(&g.MasterDelay)
	case "master_repeat":
		if n, ok := p.intArg(l, 1, math.MaxInt32); ok {
			g.MasterRepeat = n
		}
	case "master_refresh":
		secs(&g.MasterRefresh)
	case "master_refresh_repeat":
		if n, ok := p.intArg(l, 1, math.MaxInt32); ok {
			g.MasterRefreshRepeat = n
		}
	case "lower_prio_delay":
		secs(&g.LowerPrioDelay)
	case "lower_prio_repeat":
		p.intPtr(l, 0, math.MaxInt32, &g.LowerPrioRepeat)
	default:
		return false
	}
	return true
}

// garpExtraIf handles `[vrrp_]garp_extra_if [all] SECS`.
func (p *kparser) garpExtraIf(l *kline, g *Garp) {
	i := 1
	if len(l.Toks) > 1 && l.Toks[1].Text == "all" {
		g.ExtraIfAllInterfaces = true
		i = 2
	}
	if i >= len(l.Toks) {
		p.errorf(l.Pos, "'%s': missing value", l.word())
		return
	}
	if n, ok := p.intTok(l, l.Toks[i], 0, 86400); ok {
		g.ExtraIfInterval = time.Duration(n) * time.Second
	}
}

// lvsTimeouts handles `lvs_timeouts [tcp S] [tcpfin S] [udp S]`.
func (p *kparser) lvsTimeouts(l *kline) {
	t := &p.cfg.Global.LVSTimeouts
	for i := 1; i < len(l.Toks); i += 2 {
		k := l.Toks[i]
		if i+1 >= len(l.Toks) {
			p.errorf(k.Pos, "lvs_timeouts: '%s' needs a value", k.Text)
			return
		}
		// The kernel takes at most 31 days (IP_VS timeouts are int seconds
		// times HZ; ipvsadm caps them there).
		n, ok := p.intTok(l, l.Toks[i+1], 1, 86400*31)
		if !ok {
			continue
		}
		d := time.Duration(n) * time.Second
		switch k.Text {
		case "tcp":
			t.TCP = d
		case "tcpfin":
			t.TCPFin = d
		case "udp":
			t.UDP = d
		default:
			p.errorf(k.Pos, "lvs_timeouts: unknown protocol '%s' (want tcp|tcpfin|udp)", k.Text)
		}
	}
}

// lvsSyncDaemon handles `lvs_sync_daemon IF [[inst] VI] [id N] [maxlen N]
// [port N] [ttl N] [group ADDR]`.
func (p *kparser) lvsSyncDaemon(l *kline) {
	t, ok := p.arg(l, 1)
	if !ok {
		return
	}
	sd := &LVSSyncDaemon{Pos: l.Pos, Interface: t.Text}
	for i := 2; i < len(l.Toks); i++ {
		k := l.Toks[i]
		if i+1 >= len(l.Toks) {
			if i == 2 {
				sd.Instance = k.Text
				continue
			}
			p.errorf(k.Pos, "lvs_sync_daemon: '%s' needs a value", k.Text)
			break
		}
		v := l.Toks[i+1]
		switch k.Text {
		case "inst":
			sd.Instance = v.Text
		case "id":
			if n, ok := p.intTok(l, v, 0, 255); ok {
				id := int(n)
				sd.SyncID = &id
			}
		case "maxlen":
			if n, ok := p.intTok(l, v, 1, 65507); ok {
				sd.MaxLen = int(n)
			}
		case "port":
			if n, ok := p.intTok(l, v, 1, 65535); ok {
				sd.Port = uint16(n)
			}
		case "ttl":
			if n, ok := p.intTok(l, v, 1, 255); ok {
				sd.TTL = int(n)
			}
		case "group":
			if a, ok := p.addrTok(l, v); ok {
				sd.Group = a
			}
		default:
			if i == 2 {
				sd.Instance = k.Text
				continue
			}
			p.errorf(k.Pos, "lvs_sync_daemon: unknown option '%s'", k.Text)
			continue
		}
		i++
	}
	p.cfg.Global.LVSSyncDaemon = sd
}

func (p *kparser) vrrpScript(kw *kline) {
	s := VRRPScript{Pos: kw.Pos, Name: p.name(kw)}
	p.body(kw, func(l *kline) {
		switch l.word() {
		case "script":
			s.Script = p.script(l)
		case "interval":
			if d, ok := p.dur(l, 0, maxTimer); ok {
				s.Interval = d
			}
		case "timeout":
			if d, ok := p.dur(l, 0, maxTimer); ok {
				s.Timeout = d
			}
		case "weight":
			if t, ok := p.arg(l, 1); ok {
				if n, ok := p.intTok(l, t, -253, 253); ok {
					s.Weight = int(n)
				}
				if len(l.Toks) > 2 {
					switch l.Toks[2].Text {
					case "reverse":
						s.Reverse = true
					case "noreverse":
					default:
						p.warnf(l.Toks[2].Pos, "'weight': unknown option '%s' (ignored)", l.Toks[2].Text)
					}
				}
			}
		case "rise":
			if n, ok := p.intArg(l, 1, math.MaxInt32); ok {
				s.Rise = n
			}
		case "fall":
			if n, ok := p.intArg(l, 1, math.MaxInt32); ok {
				s.Fall = n
			}
		case "user":
			if t, ok := p.arg(l, 1); ok {
				s.User = t.Text
				if len(l.Toks) > 2 {
					s.Group = strings.TrimPrefix(l.Toks[2].Text, ":")
				}
			}
		case "init_fail":
			s.InitFail = p.boolOpt(l)
		default:
			p.unknown(l, "vrrp_script")
		}
	})
	p.cfg.Scripts = append(p.cfg.Scripts, s)
}

// notify handles the notify* keywords shared by instances and sync
// groups. It reports whether w was one of them.
func (p *kparser) notify(l *kline, n *Notify) bool {
	switch l.word() {
	case "notify_master":
		n.Master = p.script(l)
	case "notify_backup":
		n.Backup = p.script(l)
	case "notify_fault":
		n.Fault = p.script(l)
	case "notify_stop":
		n.Stop = p.script(l)
	case "notify":
		n.Generic = p.script(l)
	case "notify_priority_changes":
		n.PriorityChanges = p.boolOpt(l)
	default:
		return false
	}
	return true
}

// trackList parses a track_* value block into dst.
func (p *kparser) trackList(kw *kline, lo, hi int, dst *[]Track) {
	p.valueBody(kw, func(e *kline) {
		tr, ps := parseTrack(kw.word(), e.Toks, lo, hi)
		p.probs.add(ps...)
		*dst = append(*dst, tr)
	})
}

func (p *kparser) syncGroup(kw *kline) {
	g := SyncGroup{Pos: kw.Pos, Name: p.name(kw)}
	p.body(kw, func(l *kline) {
		if p.notify(l, &g.Notify) {
			return
		}
		switch w := l.word(); w {
		case "group":
			p.valueBody(l, func(e *kline) {
				for _, t := range e.Toks {
					g.Group = append(g.Group, t.Text)
				}
			})
		case "track_interface":
			p.trackList(l, -253, 253, &g.TrackInterfaces)
		case "track_script":
			p.trackList(l, -253, 253, &g.TrackScripts)
		case "track_file":
			p.trackList(l, -253, 253, &g.TrackFiles)
		case "smtp_alert":
			p.boolPtr(l, &g.SMTPAlert)
		case "sync_group_tracking_weight":
			g.SyncGroupTrackingWeight = p.boolOpt(l)
		case "global_tracking":
			p.warnf(l.Pos, "'global_tracking' is deprecated, use track_* on the sync group (ignored)")
		case "track_process", "track_bfd":
			p.unsupported(l)
		default:
			if len(l.Toks) == 1 && !p.nextIsOpen() {
				p.warnf(l.Pos, "unknown keyword '%s' in vrrp_sync_group (ignored; member names go in group { })", w)
				return
			}
			p.unknown(l, "vrrp_sync_group")
		}
	})
	p.cfg.SyncGroups = append(p.cfg.SyncGroups, g)
}

func (p *kparser) vrrpInstance(kw *kline) {
	vi := VRRPInstance{Pos: kw.Pos, Name: p.name(kw)}
	p.body(kw, func(l *kline) {
		vi.Keys.record(l.word(), l.Pos)
		if p.notify(l, &vi.Notify) {
			return
		}
		switch w := l.word(); w {
		case "state":
			if t, ok := p.arg(l, 1); ok {
				p.extra(l, 1)
				st, ok := ParseVRRPState(t.Text)
				if !ok {
					p.warnf(t.Pos, "unknown state '%s', defaulting to BACKUP (MASTER and BACKUP are case-sensitive)", t.Text)
					st = StateBackup
				}
				if st == StateBackup && vi.State == StateMaster {
					p.warnf(t.Pos, "state BACKUP after state MASTER is ignored")
					st = StateMaster
				}
				vi.State = st
			}
		case "interface":
			vi.Interface = p.str(l)
		case "virtual_router_id":
			if n, ok := p.intArg(l, 1, 255); ok {
				vi.VirtualRouterID = n
			}
		case "priority":
			if n, ok := p.intArg(l, 1, 255); ok {
				vi.Priority = n
			}
		case "advert_int":
			// RFC 5798 §5.2.7: 12-bit centiseconds, at most 40.95 s; v2
			// takes whole seconds up to 255 (RFC 3768 §5.3.7).
			if d, ok := p.dur(l, 10*time.Millisecond, 255*time.Second); ok {
				vi.AdvertInt = d
			}
		case "version":
			if n, ok := p.intArg(l, 2, 3); ok {
				vi.Version = n
			}
		case "authentication":
			p.body(l, func(a *kline) {
				switch a.word() {
				case "auth_type":
					if t, ok := p.arg(a, 1); ok {
						at, ok := ParseAuthType(t.Text)
						if !ok || at == AuthNone {
							p.errorf(t.Pos, "auth_type: unknown type '%s' (want PASS|AH)", t.Text)
						} else {
							vi.AuthType = at
						}
					}
				case "auth_pass":
					pass := p.str(a)
					if len(pass) > 8 {
						// RFC 2338 §5.3.10: the password field is 8 bytes.
						p.warnf(a.Pos, "auth_pass longer than 8 characters is truncated to '%s'", pass[:8])
						pass = pass[:8]
					}
					vi.AuthPass = pass
				default:
					p.unknown(a, "authentication")
				}
			})
		case "virtual_ipaddress", "virtual_ipaddress_excluded":
			dst := &vi.VirtualIPAddresses
			if w == "virtual_ipaddress_excluded" {
				dst = &vi.VirtualIPAddressesExcluded
			}
			p.valueBody(l, func(e *kline) {
				ip, ps := parseIPAddress(w, e.Toks)
				p.probs.add(ps...)
				*dst = append(*dst, ip)
			})
		case "virtual_routes", "virtual_rules":
			dst := &vi.VirtualRoutes
			if w == "virtual_rules" {
				dst = &vi.VirtualRules
			}
			p.valueBody(l, func(e *kline) {
				r, ps := parseRoute(w, e.Toks)
				p.probs.add(ps...)
				*dst = append(*dst, r)
			})
		case "unicast_src_ip", "mcast_src_ip":
			vi.UnicastSrcIP = p.addr(l)
		case "unicast_peer":
			p.valueBody(l, func(e *kline) {
				up, ps := parseUnicastPeer(e.Toks)
				p.probs.add(ps...)
				vi.UnicastPeers = append(vi.UnicastPeers, up)
			})
		case "unicast_ttl":
			p.intPtr(l, 0, 255, &vi.UnicastTTL)
		case "unicast_fault_no_peer":
			vi.UnicastFaultNoPeer = p.boolOpt(l)
		case "check_unicast_src":
			vi.CheckUnicastSrc = p.boolOpt(l)
		case "mcast_dst_ip":
			a := p.addr(l)
			if a.IsValid() && !a.IsMulticast() {
				p.errorf(l.Toks[1].Pos, "mcast_dst_ip: %s is not a multicast address", a)
			} else {
				vi.McastDstIP = a
			}
		case "nopreempt":
			vi.NoPreempt = true
		case "preempt":
			vi.NoPreempt = false
		case "preempt_delay":
			if d, ok := p.dur(l, 0, 1000*time.Second); ok {
				vi.PreemptDelay = d
			}
		case "accept":
			t := true
			vi.Accept = &t
		case "no_accept":
			f := false
			vi.Accept = &f
		case "strict_mode":
			p.boolPtr(l, &vi.Strict)
		case "skip_check_adv_addr":
			p.boolPtr(l, &vi.SkipCheckAdvAddr)
		case "dont_track_primary":
			vi.DontTrackPrimary = true
		case "promote_secondaries":
			vi.PromoteSecondaries = true
		case "track_src_ip":
			vi.TrackSrcIP = true
		case "down_timer_adverts":
			if n, ok := p.intArg(l, 1, 100); ok {
				vi.DownTimerAdverts = n
			}
		case "lower_prio_no_advert":
			p.boolPtr(l, &vi.LowerPrioNoAdvert)
		case "higher_prio_send_advert":
			p.boolPtr(l, &vi.HigherPrioSend)
		case "use_vmac":
			vi.UseVMAC = true
			if len(l.Toks) > 1 {
				vi.VMACName = l.Toks[1].Text
			}
		case "track_interface":
			p.trackList(l, -253, 253, &vi.TrackInterfaces)
		case "track_script":
			p.trackList(l, -253, 253, &vi.TrackScripts)
		case "track_file":
			p.trackList(l, -253, 253, &vi.TrackFiles)
		case "notify_deleted":
			if len(l.Toks) > 1 {
				vi.Notify.Deleted = p.script(l)
			} else {
				vi.Notify.Deleted = Script{}
			}
		case "notify_master_rx_lower_pri":
			vi.Notify.MasterRxLowerPri = p.script(l)
		case "smtp_alert":
			p.boolPtr(l, &vi.SMTPAlert)
		case "garp_extra_if", "vmac_garp_intvl":
			if w == "vmac_garp_intvl" {
				p.deprecated(l, "garp_extra_if")
			}
			p.garpExtraIf(l, &vi.Garp)
		case "lvs_sync_daemon_interface":
			p.warnf(l.Pos, "lvs_sync_daemon_interface in a vrrp_instance is deprecated, use the global lvs_sync_daemon")
			if ifname := p.str(l); ifname != "" && p.cfg.Global.LVSSyncDaemon == nil {
				p.cfg.Global.LVSSyncDaemon = &LVSSyncDaemon{Pos: l.Pos, Interface: ifname, Instance: vi.Name}
			}
		case "native_ipv6":
			p.warnf(l.Pos, "'native_ipv6' is deprecated (the family comes from the VIPs); ignored")
		case "linkbeat_use_polling":
			p.warnf(l.Pos, "'linkbeat_use_polling' is deprecated; ignored")
		case "vrf", "track_process", "track_bfd", "auth_hmac", "use_vmac_addr", "vmac_xmit_base", "use_ipvlan",
			"old_unicast_checksum", "v3_checksum_as_v2", "timer_expired_backup", "thread_timer_expired",
			"owner_ignore_adverts", "debug", "kernel_rx_buf_size", "no_virtual_ipaddress", "garp_lower_prio_delay_ignore":
			p.unsupported(l)
		default:
			if strings.HasPrefix(w, "garp_") && p.garp(l, strings.TrimPrefix(w, "garp_"), &vi.Garp) {
				return
			}
			p.unknown(l, "vrrp_instance")
		}
	})
	p.cfg.Instances = append(p.cfg.Instances, vi)
}

func (p *kparser) vsGroup(kw *kline) {
	g := VirtualServerGroup{Pos: kw.Pos, Name: p.name(kw)}
	p.body(kw, func(l *kline) {
		e, ps := parseVSGEntry(l.Toks)
		p.probs.add(ps...)
		g.Entries = append(g.Entries, e)
	})
	p.cfg.VirtualServerGroups = append(p.cfg.VirtualServerGroups, g)
}

// timing handles the timing keywords shared by virtual servers, real
// servers and checkers. It reports whether w was one of them.
func (p *kparser) timing(l *kline, t *Timing) bool {
	switch l.word() {
	case "connect_timeout":
		p.durPtr(l, 0, maxTimer, &t.ConnectTimeout)
	case "retry":
		p.intPtr(l, 0, math.MaxInt32, &t.Retry)
	case "nb_get_retry":
		p.deprecated(l, "retry")
		p.intPtr(l, 0, math.MaxInt32, &t.Retry)
	case "delay_before_retry":
		p.durPtr(l, 0, maxTimer, &t.DelayBeforeRetry)
	case "delay_loop":
		p.durPtr(l, 0, maxTimer, &t.DelayLoop)
	case "warmup":
		p.durPtr(l, 0, maxTimer, &t.Warmup)
	default:
		return false
	}
	return true
}

// method parses `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
func (p *kparser) method(l *kline, m *Method, tun *Tunnel) {
	t, ok := p.arg(l, 1)
	if !ok {
		return
	}
	v, ok := ParseMethod(t.Text)
	if !ok {
		p.errorf(t.Pos, "'%s': unknown method '%s' (want NAT|DR|TUN, case-sensitive)", l.word(), t.Text)
		return
	}
	*m = v
	for i := 2; i < len(l.Toks); i++ {
		k := l.Toks[i]
		if v != MethodTUN || tun == nil {
			p.errorf(k.Pos, "'%s': '%s' is only valid with TUN", l.word(), k.Text)
			return
		}
		switch k.Text {
		case "type":
			if i+1 >= len(l.Toks) {
				p.errorf(k.Pos, "'%s': 'type' needs a value", l.word())
				return
			}
			i++
			tt, ok := ParseTunnelType(l.Toks[i].Text)
			if !ok {
				p.errorf(l.Toks[i].Pos, "'%s': unknown tunnel type '%s' (want ipip|gue|gre)", l.word(), l.Toks[i].Text)
				continue
			}
			tun.Type = tt
		case "port":
			if i+1 >= len(l.Toks) {
				p.errorf(k.Pos, "'%s': 'port' needs a value", l.word())
				return
			}
			i++
			if n, ok := p.intTok(l, l.Toks[i], 1, math.MaxUint16); ok {
				tun.Port = uint16(n)
			}
		default:
			c, ok := ParseTunnelCsum(k.Text)
			if !ok {
				p.errorf(k.Pos, "'%s': unknown option '%s'", l.word(), k.Text)
				continue
			}
			tun.Csum = c
		}
	}
}

// vsHeader parses `virtual_server ADDR [PORT] | fwmark N | group NAME`.
func (p *kparser) vsHeader(kw *kline, vs *VirtualServer) {
	if len(kw.Toks) < 2 {
		p.errorf(kw.Pos, "virtual_server: missing address, 'fwmark N' or 'group NAME'")
		return
	}
	switch t := kw.Toks[1]; t.Text {
	case "fwmark":
		if v, ok := p.arg(kw, 2); ok {
			if n, ok := p.intTok(kw, v, 1, math.MaxUint32); ok {
				vs.FWMark = uint32(n)
			}
		}
		p.extra(kw, 2)
	case "group":
		if v, ok := p.arg(kw, 2); ok {
			vs.Group = v.Text
		}
		p.extra(kw, 2)
	default:
		if a, ok := p.addrTok(kw, t); ok {
			vs.Addr = a
		}
		if len(kw.Toks) > 2 {
			vs.Port, _ = p.portTok(kw, kw.Toks[2])
		}
		p.extra(kw, 2)
	}
}

func (p *kparser) virtualServer(kw *kline) {
	vs := VirtualServer{Pos: kw.Pos}
	p.vsHeader(kw, &vs)
	p.body(kw, func(l *kline) {
		vs.Keys.record(l.word(), l.Pos)
		if p.timing(l, &vs.Timing) {
			return
		}
		switch w := l.word(); w {
		case "lvs_sched", "lb_algo":
			if t, ok := p.arg(l, 1); ok {
				p.extra(l, 1)
				if s := Scheduler(t.Text); s.Valid() {
					vs.Scheduler = s
				} else {
					p.errorf(t.Pos, "'%s': unknown scheduler '%s'", w, t.Text)
				}
			}
		case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			f, _ := ParseSchedFlag(w)
			vs.SchedFlags = append(vs.SchedFlags, f)
		case "lvs_flags", "lb_flags":
			for _, t := range l.Toks[1:] {
				if f, ok := ParseSchedFlag(t.Text); ok {
					vs.SchedFlags = append(vs.SchedFlags, f)
				} else {
					p.errorf(t.Pos, "'%s': unknown scheduler flag '%s'", w, t.Text)
				}
			}
		case "hashed":
			p.warnf(l.Pos, "'hashed' is accepted for compatibility and has no effect")
		case "ops":
			vs.OPS = p.boolOpt(l)
		case "lvs_method", "lb_kind":
			p.method(l, &vs.Method, &vs.Tunnel)
		case "persistence_timeout":
			// Up to 2678400 s (31 days, ipvsadm's limit); 0 means not
			// persistent; no value means 360 s (ipvsadm's default).
			if len(l.Toks) < 2 {
				vs.PersistenceTimeout = 360 * time.Second
				return
			}
			if n, ok := p.intArg(l, 0, 2678400); ok {
				vs.PersistenceTimeout = time.Duration(n) * time.Second
			}
		case "persistence_granularity":
			if t, ok := p.arg(l, 1); ok {
				p.extra(l, 1)
				if n, err := strconv.Atoi(t.Text); err == nil && n >= 1 && n <= 128 {
					vs.PersistenceGranularity = n
				} else if n, ok := mask2len(t.Text); ok {
					vs.PersistenceGranularity = n
				} else {
					p.errorf(t.Pos, "persistence_granularity: bad netmask '%s' (want an IPv4 netmask or an IPv6 prefix length)", t.Text)
				}
			}
		case "persistence_engine":
			vs.PersistenceEngine = p.str(l)
		case "protocol":
			if t, ok := p.arg(l, 1); ok {
				p.extra(l, 1)
				if pr, ok := ParseProtocol(t.Text); ok {
					vs.Protocol = pr
				} else {
					p.errorf(t.Pos, "protocol: unknown protocol '%s' (want TCP|UDP|SCTP)", t.Text)
				}
			}
		case "ip_family":
			if t, ok := p.arg(l, 1); ok {
				p.extra(l, 1)
				if f, ok := ParseFamily(t.Text); ok {
					vs.IPFamily = f
				} else {
					p.errorf(t.Pos, "ip_family: unknown family '%s' (want inet|inet6)", t.Text)
				}
			}
		case "inhibit_on_failure":
			vs.InhibitOnFailure = p.boolOpt(l)
		case "alpha":
			vs.Alpha = p.boolOpt(l)
		case "omega":
			vs.Omega = p.boolOpt(l)
		case "quorum":
			if n, ok := p.intArg(l, 1, math.MaxInt32); ok {
				vs.Quorum = n
			}
		case "hysteresis":
			if n, ok := p.intArg(l, 0, math.MaxInt32); ok {
				vs.Hysteresis = n
			}
		case "quorum_up":
			vs.QuorumUp = p.script(l)
		case "quorum_down":
			vs.QuorumDown = p.script(l)
		case "sorry_server":
			if t, ok := p.arg(l, 1); ok {
				a, ok := p.addrTok(l, t)
				var port uint16
				if len(l.Toks) > 2 {
					port, _ = p.portTok(l, l.Toks[2])
				}
				p.extra(l, 2)
				if ok {
					vs.SorryServer = netip.AddrPortFrom(a, port)
				}
			}
		case "sorry_server_inhibit":
			vs.SorryServerInhibit = p.boolOpt(l)
		case "sorry_server_lvs_method":
			p.method(l, &vs.SorryServerMethod, nil)
		case "ha_suspend":
			vs.HASuspend = p.boolOpt(l)
		case "virtualhost":
			vs.Virtualhost = p.str(l)
		case "weight":
			if n, ok := p.intArg(l, 1, math.MaxInt32); ok {
				vs.Weight = n
			}
		case "smtp_alert":
			p.boolPtr(l, &vs.SMTPAlert)
		case "real_server":
			p.realServer(l, &vs)
		case "snmp_name", "nat_mask":
			if w == "nat_mask" {
				p.unknown(l, "virtual_server")
				return
			}
			p.unsupported(l)
		default:
			p.unknown(l, "virtual_server")
		}
	})
	if !vs.Addr.IsValid() && vs.FWMark == 0 && vs.Group == "" {
		return // the header error is reported; leaving it out avoids follow-on errors
	}
	p.cfg.VirtualServers = append(p.cfg.VirtualServers, vs)
}

func (p *kparser) realServer(kw *kline, vs *VirtualServer) {
	rs := RealServer{Pos: kw.Pos}
	if t, ok := p.arg(kw, 1); ok {
		if a, ok := p.addrTok(kw, t); ok {
			rs.Addr = a
		}
		if len(kw.Toks) > 2 {
			rs.Port, _ = p.portTok(kw, kw.Toks[2])
		}
		p.extra(kw, 2)
	}
	p.body(kw, func(l *kline) {
		rs.Keys.record(l.word(), l.Pos)
		if p.timing(l, &rs.Timing) {
			return
		}
		switch w := l.word(); w {
		case "weight":
			p.intPtr(l, 0, math.MaxInt32, &rs.Weight)
		case "lvs_method", "lb_kind":
			p.method(l, &rs.Method, &rs.Tunnel)
		case "inhibit_on_failure":
			p.boolPtr(l, &rs.InhibitOnFailure)
		case "alpha":
			p.boolPtr(l, &rs.Alpha)
		case "uthreshold":
			if n, ok := p.intArg(l, 0, math.MaxInt32); ok {
				rs.UThreshold = uint32(n)
			}
		case "lthreshold":
			if n, ok := p.intArg(l, 0, math.MaxInt32); ok {
				rs.LThreshold = uint32(n)
			}
		case "virtualhost":
			rs.Virtualhost = p.str(l)
		case "smtp_alert":
			p.boolPtr(l, &rs.SMTPAlert)
		case "notify_up":
			rs.NotifyUp = p.script(l)
		case "notify_down":
			rs.NotifyDown = p.script(l)
		case "snmp_name":
			p.unsupported(l)
		default:
			if k, ok := ParseCheckKind(w); ok {
				rs.Checks = append(rs.Checks, p.check(l, k)...)
				return
			}
			p.unknown(l, "real_server")
		}
	})
	if !rs.Addr.IsValid() {
		return // already reported; leaving it out avoids follow-on errors
	}
	vs.RealServers = append(vs.RealServers, rs)
}

// connOpt handles the connection options of checkers. It reports whether
// w was one of them.
func (p *kparser) connOpt(l *kline, c *Check) bool {
	switch l.word() {
	case "connect_ip":
		c.ConnectIP = p.addr(l)
	case "connect_port":
		c.ConnectPort = p.port(l)
	case "bindto", "bind_to":
		c.BindTo = p.addr(l)
	case "bind_port":
		c.BindPort = p.port(l)
	case "bind_if":
		c.BindIf = p.str(l)
	case "fwmark":
		if n, ok := p.intArg(l, 0, math.MaxUint32); ok {
			c.FWMark = uint32(n)
		}
	default:
		return false
	}
	return true
}

// check parses a checker block. SMTP_CHECK with deprecated host { }
// blocks becomes one checker per host.
func (p *kparser) check(kw *kline, kind CheckKind) []Check {
	c := Check{Pos: kw.Pos, Kind: kind}
	var hosts []Check
	p.body(kw, func(l *kline) {
		w := l.word()
		c.Keys.record(w, l.Pos)
		if kind != CheckFile && kind != CheckBFD && kind != CheckMisc && p.connOpt(l, &c) {
			return
		}
		if kind != CheckFile && kind != CheckBFD && p.timing(l, &c.Timing) {
			return
		}
		switch {
		case w == "alpha":
			p.boolPtr(l, &c.Alpha)
			return
		case w == "log_all_failures":
			p.boolPtr(l, &c.LogAllFailures)
			return
		}
		switch kind {
		case CheckHTTP, CheckSSL:
			switch w {
			case "url":
				c.URLs = append(c.URLs, p.url(l))
			case "virtualhost":
				c.Virtualhost = p.str(l)
			case "http_protocol":
				if t, ok := p.arg(l, 1); ok {
					switch t.Text {
					case "1.0", "1.0C", "1.1":
						c.HTTPProtocol = t.Text
					default:
						p.errorf(t.Pos, "http_protocol: unknown version '%s' (want 1.0|1.0C|1.1)", t.Text)
					}
				}
			case "fast_recovery":
				c.FastRecovery = p.boolOpt(l)
			case "enable_sni":
				c.EnableSNI = p.boolOpt(l)
			case "sni_name":
				c.SNIName = p.str(l)
			case "tls_compliant":
				c.TLSCompliant = p.boolOpt(l)
			default:
				p.unknown(l, kind.String())
			}
		case CheckSMTP:
			switch w {
			case "helo_name":
				c.HeloName = p.str(l)
			case "host":
				p.warnf(l.Pos, "SMTP_CHECK 'host' blocks are deprecated, use one SMTP_CHECK per host")
				h := Check{Pos: l.Pos, Kind: CheckSMTP}
				p.body(l, func(hl *kline) {
					if !p.connOpt(hl, &h) {
						p.unknown(hl, "SMTP_CHECK host")
					}
				})
				hosts = append(hosts, h)
			default:
				p.unknown(l, kind.String())
			}
		case CheckDNS:
			switch w {
			case "type":
				if t, ok := p.arg(l, 1); ok {
					ty := strings.ToUpper(t.Text)
					switch ty {
					case "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY":
						c.DNSType = ty
					default:
						p.errorf(t.Pos, "DNS_CHECK type: unknown type '%s'", t.Text)
					}
				}
			case "name":
				c.DNSName = p.str(l)
			default:
				p.unknown(l, kind.String())
			}
		case CheckMisc:
			switch w {
			case "misc_path":
				c.MiscPath = p.script(l)
			case "misc_timeout":
				if n, ok := p.intArg(l, 1, math.MaxInt32); ok {
					c.MiscTimeout = time.Duration(n) * time.Second
				}
			case "misc_dynamic":
				c.MiscDynamic = p.boolOpt(l)
			case "user":
				if t, ok := p.arg(l, 1); ok {
					c.MiscPath.User = t.Text
					if len(l.Toks) > 2 {
						c.MiscPath.Group = strings.TrimPrefix(l.Toks[2].Text, ":")
					}
				}
			default:
				p.unknown(l, kind.String())
			}
		case CheckUDP:
			switch w {
			case "payload":
				c.Payload = p.hexArg(l, false)
			case "require_reply":
				c.RequireReply = p.hexArg(l, true)
			case "min_reply_length":
				if n, ok := p.intArg(l, 0, 65535); ok {
					c.MinReplyLength = n
				}
			case "max_reply_length":
				if n, ok := p.intArg(l, 0, 65535); ok {
					c.MaxReplyLength = n
				}
			default:
				p.unknown(l, kind.String())
			}
		case CheckFile:
			switch w {
			case "track_file":
				c.TrackFile = p.str(l)
			case "weight":
				if t, ok := p.arg(l, 1); ok {
					if n, ok := p.intTok(l, t, -254, 254); ok {
						v := int(n)
						c.Weight = &v
					}
					if len(l.Toks) > 2 && l.Toks[2].Text == "reverse" {
						c.Reverse = true
					}
				}
			default:
				p.unknown(l, kind.String())
			}
		case CheckBFD:
			switch w {
			case "name":
				c.BFDName = p.str(l)
			default:
				p.unknown(l, kind.String())
			}
		default:
			p.unknown(l, kind.String())
		}
	})
	if len(hosts) == 0 {
		return []Check{c}
	}
	out := make([]Check, len(hosts))
	for i, h := range hosts {
		hc := c
		hc.Pos = h.Pos
		hc.ConnectIP, hc.ConnectPort, hc.BindTo, hc.BindPort, hc.BindIf, hc.FWMark =
			h.ConnectIP, h.ConnectPort, h.BindTo, h.BindPort, h.BindIf, h.FWMark
		out[i] = hc
	}
	return out
}

// hexArg parses a hex string (UDP_CHECK payload / require_reply, where X
// is a wildcard nibble).
func (p *kparser) hexArg(l *kline, wild bool) string {
	t, ok := p.arg(l, 1)
	if !ok {
		return ""
	}
	s := strings.ToLower(strings.Join(tokText(l.Toks[1:]), ""))
	if len(s)%2 != 0 {
		p.errorf(t.Pos, "'%s': odd number of hex digits", l.word())
		return ""
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || wild && c == 'x') {
			p.errorf(t.Pos, "'%s': bad hex string '%s'", l.word(), s)
			return ""
		}
	}
	return s
}

func tokText(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Text
	}
	return out
}

// url parses a url block of HTTP_GET/SSL_GET.
func (p *kparser) url(kw *kline) URL {
	u := URL{Pos: kw.Pos}
	p.body(kw, func(l *kline) {
		switch w := l.word(); w {
		case "path":
			u.Path = p.str(l)
		case "digest":
			d := strings.ToLower(p.str(l))
			if _, err := strconv.ParseUint(d[:min(len(d), 16)], 16, 64); err != nil || len(d) != 32 {
				p.errorf(l.Pos, "digest: '%s' is not an MD5 (32 hex digits)", d)
				return
			}
			if _, err := strconv.ParseUint(d[16:], 16, 64); err != nil {
				p.errorf(l.Pos, "digest: '%s' is not an MD5 (32 hex digits)", d)
				return
			}
			u.Digest = d
		case "status_code":
			for _, t := range l.Toks[1:] {
				r, err := parseStatusRange(t.Text)
				if err != nil {
					p.errorf(t.Pos, "status_code: %v", err)
					continue
				}
				u.StatusCodes = append(u.StatusCodes, r)
			}
			if len(l.Toks) < 2 {
				p.errorf(l.Pos, "'status_code': missing value")
			}
		case "virtualhost":
			u.Virtualhost = p.str(l)
		case "regex":
			u.Regex = p.script(l).Command
		case "regex_no_match":
			u.RegexNoMatch = p.boolOpt(l)
		case "regex_options", "regex_min_offset", "regex_max_offset", "regex_stack", "tls_compliant":
			p.unsupported(l)
		default:
			p.unknown(l, "url")
		}
	})
	return u
}

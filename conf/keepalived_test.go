package conf

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loadMap loads main.conf from an in-memory file system.
func loadMap(files map[string]string, id string) (*Config, []Problem) {
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return LoadWith(FS(fsys), "main.conf", Options{ConfigID: id})
}

// parseMap parses (without compiling) main.conf from an in-memory FS.
func parseMap(files map[string]string, id string) (*Config, []Problem) {
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return ParseKeepalived(fsys, "main.conf", KeepalivedOptions{ConfigID: id})
}

func problemStrings(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

// hasProblem reports whether ps has a problem starting with prefix
// ("file:line:col: severity:") and containing substr.
func hasProblem(ps []Problem, prefix, substr string) bool {
	for _, p := range ps {
		s := p.Error()
		if strings.HasPrefix(s, prefix) && strings.Contains(s, substr) {
			return true
		}
	}
	return false
}

func TestKeepalivedProblems(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		prefix string // file:line:col: severity:
		substr string
	}{
		{"bad address", map[string]string{"main.conf": "virtual_server 10.0.0.300 80 {\n  protocol TCP\n}\n"},
			"main.conf:1:16: error:", "bad IP address '10.0.0.300'"},
		{"bad VIP", map[string]string{"main.conf": "vrrp_instance V {\n  virtual_ipaddress {\n    192.168.1.x/24\n  }\n}\n"},
			"main.conf:3:5: error:", "bad IP address '192.168.1.x/24'"},
		{"bad number", map[string]string{"main.conf": "vrrp_instance V {\n  priority abc\n}\n"},
			"main.conf:2:12: error:", "bad number 'abc'"},
		{"number out of range", map[string]string{"main.conf": "vrrp_instance V {\n\tpriority 256\n}\n"},
			"main.conf:2:11: error:", "256 is out of range [1, 255]"},
		{"bad timer", map[string]string{"main.conf": "virtual_server 10.0.0.1 80 {\n  delay_loop 1.2.3\n}\n"},
			"main.conf:2:14: error:", "bad number of seconds '1.2.3'"},
		{"unterminated block", map[string]string{"main.conf": "global_defs {\n  router_id r1\n"},
			"main.conf:1:1: error:", "unterminated block 'global_defs'"},
		{"unterminated nested block", map[string]string{"main.conf": "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n    weight 1\n}\n"},
			"main.conf:1:1: error:", "unterminated block 'virtual_server'"},
		{"unknown keyword", map[string]string{"main.conf": "global_defs {\n  router_id r1\n  routr_id r2\n}\n"},
			"main.conf:3:3: warning:", "unknown keyword 'routr_id' in global_defs"},
		{"unknown top-level keyword", map[string]string{"main.conf": "vrrp_instanse V {\n priority 1\n}\n"},
			"main.conf:1:1: warning:", "unknown block 'vrrp_instanse' in top level (skipped)"},
		{"unsupported keyword", map[string]string{"main.conf": "global_defs {\n  enable_snmp_vrrp\n}\n"},
			"main.conf:2:3: warning:", "'enable_snmp_vrrp' is not supported"},
		{"extra brace", map[string]string{"main.conf": "global_defs {\n}\n}\n"},
			"main.conf:3:1: error:", "extra '}'"},
		{"include loop", map[string]string{
			"main.conf": "include a.conf\n",
			"a.conf":    "global_defs {\n}\ninclude b.conf\n",
			"b.conf":    "  include a.conf\n",
		}, "b.conf:1:11: error:", "include loop"},
		{"include self", map[string]string{"main.conf": "include main.conf\n"},
			"main.conf:1:9: error:", "include loop"},
		{"missing include is a warning", map[string]string{"main.conf": "include nothere.conf\n"},
			"main.conf:1:9: warning:", "nothere.conf cannot be read"},
		{"includea makes it an error", map[string]string{"main.conf": "includea nothere.conf\n"},
			"main.conf:1:10: error:", "cannot read nothere.conf"},
		{"problem in an included file", map[string]string{
			"main.conf":     "include sub/vs.conf\n",
			"sub/vs.conf":   "include real.conf\n",
			"sub/real.conf": "virtual_server 10.0.0.1 80 {\n  lb_algo nope\n}\n",
		}, "sub/real.conf:2:11: error:", "unknown scheduler 'nope'"},
		{"missing value", map[string]string{"main.conf": "vrrp_instance V {\n  interface\n}\n"},
			"main.conf:2:3: error:", "'interface': missing value"},
		{"bad enum", map[string]string{"main.conf": "virtual_server 10.0.0.1 80 {\n  lb_kind nat\n}\n"},
			"main.conf:2:11: error:", "unknown method 'nat'"},
		{"second VIP on one line", map[string]string{"main.conf": "vrrp_instance V {\n  virtual_ipaddress { 10.0.0.1 10.0.0.2 }\n}\n"},
			"main.conf:2:32: warning:", "'10.0.0.2' ignored: one address per line"},
		{"block keyword without block", map[string]string{"main.conf": "global_defs\nvrrp_script x {\n}\n"},
			"main.conf:1:1: error:", "needs a block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := loadMap(tt.files, "x")
			if !hasProblem(probs, tt.prefix, tt.substr) {
				t.Errorf("Load(%q) problems =\n%s\nwant one starting %q containing %q", tt.files["main.conf"], strings.Join(problemStrings(probs), "\n"), tt.prefix, tt.substr)
			}
		})
	}
}

func TestUnknownBlockSkippedWhole(t *testing.T) {
	src := `vrrp_instance VI_1 {
    foo_block {
        bar 1
        baz { x }
    }
    interface eth0
    virtual_router_id 7
    priority 50
    virtual_ipaddress {
        10.0.0.1
    }
}
`
	cfg, probs := parseMap(map[string]string{"main.conf": src}, "x")
	if got := problemStrings(probs); !cmp.Equal(got, []string{"main.conf:2:5: warning: unknown block 'foo_block' in vrrp_instance (skipped)"}) {
		t.Errorf("ParseKeepalived problems = %q, want exactly one warning for foo_block", got)
	}
	if len(cfg.Instances) != 1 || cfg.Instances[0].Priority != 50 || len(cfg.Instances[0].VirtualIPAddresses) != 1 {
		t.Errorf("ParseKeepalived instance = %+v, want priority 50 and one VIP after the skipped block", cfg.Instances)
	}
}

func TestKeepalivedGrammar(t *testing.T) {
	files := map[string]string{
		"main.conf": `# comment
! another comment
$VIP=10.0.0.100
$PORT=80
$RS=\
real_server 10.0.0.2 80 { \
  weight 3 \
}
global_defs { router_id "my router" }   # trailing comment
@a vrrp_script chk { script "/bin/check arg1 'a b'" user1 grp1
@^a vrrp_script chk { script /bin/other
}
vrrp_instance VI_1
{
    state MASTER ; not a comment, an unknown option
    interface eth0
    virtual_router_id 51 # comment
    virtual_ipaddress {
        ${VIP}/24 dev eth0 label eth0:1
        10.0.0.101 }
    notify_master "/bin/notify.sh master" root
    track_script {
        chk weight -20
    }
    authentication {
        auth_type PASS
        auth_pass "p#ss!wd"
    }
}
include conf.d/*.conf
`,
		"conf.d/10-vs.conf": `virtual_server $VIP $PORT {
    lb_algo wrr
    lb_kind DR
    protocol tcp
    $RS
    real_server 10.0.0.3 80 {
        weight 0
        HTTP_GET {
            url { path /health
                  status_code 200 301-302 }
            nb_get_retry 4
        }
    }
}
`,
		"conf.d/20-vs.conf": "include ../other/vs.conf\n",
		"other/vs.conf":     "virtual_server fwmark 7 {\n  lvs_sched sh\n  sh-port\n}\n",
	}
	cfg, probs := parseMap(files, "a")
	g := cfg.Global
	if g.RouterID != "my router" {
		t.Errorf("router_id = %q, want %q", g.RouterID, "my router")
	}
	if len(cfg.Scripts) != 1 || cfg.Scripts[0].Script != (Script{"/bin/check arg1 'a b'", "user1", "grp1"}) {
		t.Errorf("vrrp_script = %+v, want the @a line's script with user1 grp1", cfg.Scripts)
	}
	if len(cfg.Instances) != 1 {
		t.Fatalf("instances = %d, want 1", len(cfg.Instances))
	}
	vi := cfg.Instances[0]
	if vi.State != StateMaster || vi.Interface != "eth0" || vi.VirtualRouterID != 51 {
		t.Errorf("instance = state %v interface %q vrid %d, want MASTER eth0 51", vi.State, vi.Interface, vi.VirtualRouterID)
	}
	wantVIPs := []string{"10.0.0.100/24 dev eth0 label eth0:1", "10.0.0.101"}
	var gotVIPs []string
	for _, ip := range vi.VirtualIPAddresses {
		gotVIPs = append(gotVIPs, ip.String())
	}
	if !cmp.Equal(gotVIPs, wantVIPs) {
		t.Errorf("VIPs = %q, want %q", gotVIPs, wantVIPs)
	}
	if vi.Notify.Master != (Script{Command: "/bin/notify.sh master", User: "root"}) {
		t.Errorf("notify_master = %+v", vi.Notify.Master)
	}
	if len(vi.TrackScripts) != 1 || vi.TrackScripts[0].Weight == nil || *vi.TrackScripts[0].Weight != -20 {
		t.Errorf("track_script = %+v, want chk weight -20", vi.TrackScripts)
	}
	if vi.AuthType != AuthPASS || vi.AuthPass != "p#ss!wd" {
		t.Errorf("authentication = %v %q, want PASS p#ss!wd (comment characters inside quotes)", vi.AuthType, vi.AuthPass)
	}
	if !hasProblem(probs, "main.conf:15:18: warning:", "extra argument ';'") {
		t.Errorf("problems = %q, want a warning about ';' at 15:18", problemStrings(probs))
	}
	if len(cfg.VirtualServers) != 2 {
		t.Fatalf("virtual servers = %d, want 2 (from conf.d/*.conf, in name order)", len(cfg.VirtualServers))
	}
	vs := cfg.VirtualServers[0]
	if vs.Addr != netip.MustParseAddr("10.0.0.100") || vs.Port != 80 || vs.Protocol != TCP || vs.Scheduler != "wrr" || vs.Method != MethodDR {
		t.Errorf("vs = %v:%d %v %v %v, want 10.0.0.100:80 TCP wrr DR", vs.Addr, vs.Port, vs.Protocol, vs.Scheduler, vs.Method)
	}
	if vs.Pos != (Pos{"conf.d/10-vs.conf", 1, 1}) {
		t.Errorf("vs.Pos = %v, want conf.d/10-vs.conf:1:1", vs.Pos)
	}
	if len(vs.RealServers) != 2 || vs.RealServers[0].Addr != netip.MustParseAddr("10.0.0.2") || *vs.RealServers[0].Weight != 3 || *vs.RealServers[1].Weight != 0 {
		t.Fatalf("real servers = %+v, want 10.0.0.2 (weight 3, from $RS) then 10.0.0.3 (weight 0), in file order", vs.RealServers)
	}
	ck := vs.RealServers[1].Checks
	if len(ck) != 1 || ck[0].Kind != CheckHTTP || *ck[0].Retry != 4 || len(ck[0].URLs) != 1 ||
		!cmp.Equal(ck[0].URLs[0].StatusCodes, []StatusRange{{200, 200}, {301, 302}}) || ck[0].URLs[0].Path != "/health" {
		t.Errorf("checks = %+v, want HTTP_GET retry 4 url /health 200 301-302", ck)
	}
	if !hasProblem(probs, "conf.d/10-vs.conf:11:13: warning:", "'nb_get_retry' is deprecated") {
		t.Errorf("problems = %q, want the nb_get_retry deprecation", problemStrings(probs))
	}
	fw := cfg.VirtualServers[1]
	if fw.FWMark != 7 || fw.Scheduler != "sh" || !cmp.Equal(fw.SchedFlags, []SchedFlag{SchedSHPort}) || fw.Pos.File != "other/vs.conf" {
		t.Errorf("fwmark vs = %+v, want fwmark 7 sh sh-port from other/vs.conf", fw)
	}
}

func TestOldSpellings(t *testing.T) {
	src := `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  lvs_sync_daemon_interface eth1
}
virtual_server 10.0.0.1 25 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.0.2 25 {
    SMTP_CHECK {
      helo_name mx.example
      host {
        connect_ip 10.0.0.2
        connect_port 25
      }
      host {
        connect_ip 10.0.1.2
      }
    }
  }
}
`
	cfg, _ := parseMap(map[string]string{"main.conf": src}, "x")
	sd := cfg.Global.LVSSyncDaemon
	if sd == nil || sd.Interface != "eth1" || sd.Instance != "VI_1" {
		t.Errorf("lvs_sync_daemon = %+v, want eth1 driven by VI_1", sd)
	}
	vs := cfg.VirtualServers[0]
	if vs.Scheduler != "rr" || vs.Method != MethodNAT {
		t.Errorf("lb_algo/lb_kind = %v/%v, want rr/NAT", vs.Scheduler, vs.Method)
	}
	ck := vs.RealServers[0].Checks
	if len(ck) != 2 || ck[0].ConnectIP != netip.MustParseAddr("10.0.0.2") || ck[1].ConnectIP != netip.MustParseAddr("10.0.1.2") ||
		ck[1].HeloName != "mx.example" || ck[0].Pos.Line != 13 {
		t.Errorf("SMTP_CHECK host{} = %+v, want two checkers (10.0.0.2, 10.0.1.2) sharing helo_name", ck)
	}
}

func TestKeepalivedDefaults(t *testing.T) {
	src := `vrrp_instance A {
  state MASTER
  interface eth0
  virtual_router_id 1
  virtual_ipaddress { 10.0.0.1 }
}
vrrp_instance B {
  interface eth0
  virtual_router_id 2
  virtual_ipaddress { 10.0.0.2 }
}
vrrp_instance C {
  interface eth0
  virtual_router_id 3
  priority 255
  advert_int 1.6
  virtual_ipaddress { 10.0.0.3 }
}
virtual_server 10.0.0.1 80 {
  real_server 10.0.0.2 80 {
    TCP_CHECK {
    }
    MISC_CHECK {
      misc_path "/bin/true"
    }
  }
}
`
	cfg, probs := loadMap(map[string]string{"main.conf": src}, "x")
	if HasErrors(probs) {
		t.Fatalf("Load: %q", problemStrings(probs))
	}
	a, b, c := cfg.Instances[0], cfg.Instances[1], cfg.Instances[2]
	if a.Priority != 255 || a.State != StateMaster {
		t.Errorf("state MASTER without priority: priority %d state %v, want 255 MASTER", a.Priority, a.State)
	}
	if b.Priority != 100 || b.State != StateBackup {
		t.Errorf("no state, no priority: priority %d state %v, want 100 BACKUP", b.Priority, b.State)
	}
	if c.State != StateMaster || c.AdvertInt != 2*time.Second || c.Version != 2 {
		t.Errorf("priority 255: state %v advert %v version %d, want MASTER, 2s (v2 rounds), 2", c.State, c.AdvertInt, c.Version)
	}
	if !hasProblem(probs, "main.conf:16:3: warning:", "advert_int must be an integer") {
		t.Errorf("problems = %q, want the advert_int rounding warning", problemStrings(probs))
	}
	vs := cfg.VirtualServers[0]
	if vs.Protocol != UDP || vs.Scheduler != "wlc" || vs.Method != MethodNAT || vs.Quorum != 1 || vs.Weight != 1 {
		t.Errorf("vs defaults = %v %v %v quorum %d weight %d, want UDP wlc NAT 1 1", vs.Protocol, vs.Scheduler, vs.Method, vs.Quorum, vs.Weight)
	}
	for _, want := range []string{"no protocol specified - using UDP", "no scheduler specified - using wlc", "no lvs_method specified - using NAT"} {
		if !hasProblem(probs, "main.conf:19:1: warning:", want) {
			t.Errorf("problems = %q, want warning %q", problemStrings(probs), want)
		}
	}
	rs := vs.RealServers[0]
	if *rs.Weight != 1 || rs.Method != MethodNAT || *rs.InhibitOnFailure || *rs.Alpha {
		t.Errorf("rs defaults = weight %d method %v inhibit %v alpha %v", *rs.Weight, rs.Method, *rs.InhibitOnFailure, *rs.Alpha)
	}
	tcp, misc := rs.Checks[0], rs.Checks[1]
	if *tcp.DelayLoop != 60*time.Second || *tcp.ConnectTimeout != 5*time.Second || *tcp.Retry != 1 || *tcp.DelayBeforeRetry != time.Second ||
		tcp.ConnectIP != rs.Addr || tcp.ConnectPort != 80 {
		t.Errorf("TCP_CHECK defaults = %+v", tcp)
	}
	if *misc.Retry != 0 || misc.MiscTimeout != 60*time.Second {
		t.Errorf("MISC_CHECK defaults = retry %d timeout %v, want 0 and the delay_loop 60s", *misc.Retry, misc.MiscTimeout)
	}
	if cfg.Dataplane.Timeouts != (Timeouts{900 * time.Second, 120 * time.Second, 300 * time.Second}) {
		t.Errorf("dataplane timeouts = %+v, want IPVS's 900s/120s/300s", cfg.Dataplane.Timeouts)
	}
}

func TestGenerators(t *testing.T) {
	src := `virtual_server 10.0.0.1 80 {
  ~SEQ(i, 2, 4) real_server 10.0.0.$i 80 { weight $i }
  ~SEQ(n, 3) ~LST(p, 81, 82) real_server 10.1.0.$n $p { }
  ~LST({a,w}, {10.2.0.1, 5}, {10.2.0.2, 6}) real_server ${a} 80 { weight $w }
  ~SEQx(h, 9, 3, f) real_server fd00::$h 80 { }
}
~SEQ(i, 0, 0, 1) x
`
	cfg, probs := parseMap(map[string]string{"main.conf": src}, "x")
	var got []string
	for _, rs := range cfg.VirtualServers[0].RealServers {
		s := netip.AddrPortFrom(rs.Addr, rs.Port).String()
		if rs.Weight != nil {
			s += fmt.Sprintf(" w%d", *rs.Weight)
		}
		got = append(got, s)
	}
	want := []string{
		"10.0.0.2:80 w2", "10.0.0.3:80 w3", "10.0.0.4:80 w4",
		"10.1.0.1:81", "10.1.0.1:82", "10.1.0.2:81", "10.1.0.2:82", "10.1.0.3:81", "10.1.0.3:82",
		"10.2.0.1:80 w5", "10.2.0.2:80 w6",
		"[fd00::9]:80", "[fd00::c]:80", "[fd00::f]:80",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("generated real servers (-want +got):\n%s\nproblems: %q", diff, problemStrings(probs))
	}
	if !hasProblem(probs, "main.conf:7:1: error:", "~SEQ: step 0 never reaches") {
		t.Errorf("problems = %q, want the step-0 error at 7:1", problemStrings(probs))
	}
}

func TestUnmatchedQuote(t *testing.T) {
	cfg, probs := parseMap(map[string]string{"main.conf": "global_defs {\n  router_id \"a b\n}\n"}, "x")
	if !hasProblem(probs, "main.conf:2:3: warning:", "unmatched '\"'") {
		t.Errorf("problems = %q, want an unmatched-quote warning at 2:3", problemStrings(probs))
	}
	if cfg.Global.RouterID != "a b" {
		t.Errorf("router_id = %q, want %q", cfg.Global.RouterID, "a b")
	}
}

func TestIncludeForms(t *testing.T) {
	files := map[string]string{
		"main.conf":     "include conf.d/{a,b}.conf\n",
		"conf.d/a.conf": "global_defs {\n  router_id ${_PWD}\n}\n",
		"conf.d/b.conf": "vrrp_script s {\n  script /bin/true\n}\n",
	}
	cfg, probs := parseMap(files, "x")
	if cfg.Global.RouterID != "conf.d" || len(cfg.Scripts) != 1 {
		t.Errorf("include {a,b}: router_id %q (want conf.d from ${_PWD}), %d scripts (want 1); problems %q", cfg.Global.RouterID, len(cfg.Scripts), problemStrings(probs))
	}

	// A chain deeper than maxIncludeDepth stops with an error at the
	// include line that goes too deep.
	deep := map[string]string{"main.conf": "include d1.conf\n"}
	for i := 1; i <= maxIncludeDepth+2; i++ {
		deep[fmt.Sprintf("d%d.conf", i)] = fmt.Sprintf("include d%d.conf\n", i+1)
	}
	_, probs = parseMap(deep, "x")
	want := fmt.Sprintf("d%d.conf:1:9: error:", maxIncludeDepth-1)
	if !hasProblem(probs, want, "nested deeper than") {
		t.Errorf("deep includes: problems %q, want one starting %q", problemStrings(probs), want)
	}
}

func TestMissingMainFile(t *testing.T) {
	_, probs := ParseKeepalived(fstest.MapFS{}, "etc/keepalived.conf", KeepalivedOptions{})
	if len(probs) != 1 || !strings.HasPrefix(probs[0].Error(), "etc/keepalived.conf: error: cannot read etc/keepalived.conf") {
		t.Errorf("ParseKeepalived(missing) = %q, want one cannot-read error naming the file", problemStrings(probs))
	}
}

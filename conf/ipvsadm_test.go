package conf

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The ipvsadm -S -n example of reference/ipvs.md §7.3.
const ipvsSaveExample = `-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 192.168.1.11:80 -m -w 1
-a -t 10.0.0.1:80 -r 192.168.1.12:8080 -m -w 3
-A -t 10.0.0.2:443 -s sh -p 360 -M 255.255.255.0 -b sh-port
-a -t 10.0.0.2:443 -r 192.168.1.13:443 -g -w 1
-A -u 10.0.0.1:53 -s rr -o
-a -u 10.0.0.1:53 -r 192.168.1.21:53 -g -w 1
-A -f 5 -s mh -b mh-fallback,mh-port
-a -f 5 -r 192.168.1.31:0 -i -w 2 --tun-type ipip
`

func TestParseIPVSRulesSaveExample(t *testing.T) {
	const f = "rules"
	at := func(line int) Pos { return Pos{File: f, Line: line, Col: 1} }
	a := netip.MustParseAddr
	want := []VirtualServer{
		{Pos: at(1), Addr: a("10.0.0.1"), Port: 80, Protocol: TCP, Scheduler: "wlc", Method: MethodNAT,
			RealServers: []RealServer{
				{Pos: at(2), Addr: a("192.168.1.11"), Port: 80, Weight: ldIptr(1), Method: MethodNAT},
				{Pos: at(3), Addr: a("192.168.1.12"), Port: 8080, Weight: ldIptr(3), Method: MethodNAT},
			}},
		{Pos: at(4), Addr: a("10.0.0.2"), Port: 443, Protocol: TCP, Scheduler: "sh", SchedFlags: []SchedFlag{SchedSHPort},
			PersistenceTimeout: 360 * time.Second, PersistenceGranularity: 24, Method: MethodDR,
			RealServers: []RealServer{
				{Pos: at(5), Addr: a("192.168.1.13"), Port: 443, Weight: ldIptr(1), Method: MethodDR},
			}},
		{Pos: at(6), Addr: a("10.0.0.1"), Port: 53, Protocol: UDP, Scheduler: "rr", OPS: true, Method: MethodDR,
			RealServers: []RealServer{
				{Pos: at(7), Addr: a("192.168.1.21"), Port: 53, Weight: ldIptr(1), Method: MethodDR},
			}},
		{Pos: at(8), FWMark: 5, IPFamily: IPv4, Scheduler: "mh", SchedFlags: []SchedFlag{SchedMHFallback, SchedMHPort}, Method: MethodTUN,
			RealServers: []RealServer{
				{Pos: at(9), Addr: a("192.168.1.31"), Port: 0, Weight: ldIptr(2), Method: MethodTUN, Tunnel: Tunnel{Type: TunnelIPIP}},
			}},
	}
	cfg, ps := ParseIPVSRules(f, []byte(ipvsSaveExample))
	if len(ps) != 0 {
		t.Fatalf("ParseIPVSRules(%q) problems:\n%s", f, strings.Join(ldProblemStrings(ps), "\n"))
	}
	if cfg.Format != FormatIPVSRules || cfg.Path != f {
		t.Errorf("ParseIPVSRules(%q) = format %v path %q, want ipvsadm %q", f, cfg.Format, cfg.Path, f)
	}
	if diff := cmp.Diff(want, cfg.VirtualServers, ldModelCmp); diff != "" {
		t.Errorf("ParseIPVSRules(%q) virtual servers (-want +got):\n%s", f, diff)
	}
	if !LooksLikeIPVSRules([]byte(ipvsSaveExample)) || LooksLikeLdirectord([]byte(ipvsSaveExample)) {
		t.Errorf("LooksLikeIPVSRules/LooksLikeLdirectord(save example) = %v/%v, want true/false",
			LooksLikeIPVSRules([]byte(ipvsSaveExample)), LooksLikeLdirectord([]byte(ipvsSaveExample)))
	}
}

func TestParseIPVSRulesApplyInOrder(t *testing.T) {
	const src = `-A -t 10.0.0.1:80 -s rr -p 60
-a -t 10.0.0.1:80 -r 10.1.0.1 -m
-a -t 10.0.0.1:80 -r 10.1.0.2 -m
-a -t 10.0.0.1:80 -r 10.1.0.3 -m
-e -t 10.0.0.1:80 -r 10.1.0.2 -w 7 -m -x 100 -y 10
-d -t 10.0.0.1:80 -r 10.1.0.1
-E -t 10.0.0.1:80 -s wrr
-A -u 10.0.0.1:53
-D -u 10.0.0.1:53
-A -t 10.0.0.7:80
-C
-A -t 10.0.0.8:80 -s lc
-a -t 10.0.0.8:80 -r 10.1.0.9:8080 -g
-A -t 10.0.0.1:80 -s rr
--set 900 0 300
`
	// Replays the first seven lines, then flushes: the table holds what
	// comes after -C, and the service added before it again.
	a := netip.MustParseAddr
	want := []VirtualServer{
		{Pos: Pos{"r", 12, 1}, Addr: a("10.0.0.8"), Port: 80, Protocol: TCP, Scheduler: "lc", Method: MethodDR,
			RealServers: []RealServer{
				// DR forces the real server's port to the service's.
				{Pos: Pos{"r", 13, 1}, Addr: a("10.1.0.9"), Port: 80, Weight: ldIptr(1), Method: MethodDR},
			}},
		{Pos: Pos{"r", 14, 1}, Addr: a("10.0.0.1"), Port: 80, Protocol: TCP, Scheduler: "rr", Method: MethodDR},
	}
	cfg, ps := ParseIPVSRules("r", []byte(src))
	wantP := []string{"r:13:22: warning: real server port 8080 ignored: with gate forwarding IPVS uses the service's port 80"}
	if diff := cmp.Diff(wantP, ldProblemStrings(ps)); diff != "" {
		t.Fatalf("ParseIPVSRules problems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, cfg.VirtualServers, ldModelCmp); diff != "" {
		t.Errorf("ParseIPVSRules virtual servers (-want +got):\n%s", diff)
	}
	wantT := Timeouts{TCP: 900 * time.Second, UDP: 300 * time.Second}
	if cfg.Global.LVSTimeouts != wantT {
		t.Errorf("ParseIPVSRules timeouts = %+v, want %+v", cfg.Global.LVSTimeouts, wantT)
	}

	// The same without the flush: -e kept 10.1.0.2 in place, -d removed
	// 10.1.0.1, -E replaced the scheduler and dropped persistence but kept
	// the real servers, -D removed the UDP service.
	before, _, _ := strings.Cut(src, "-A -t 10.0.0.7:80\n")
	cfg, ps = ParseIPVSRules("r", []byte(before))
	if len(ps) != 0 {
		t.Fatalf("ParseIPVSRules problems:\n%s", strings.Join(ldProblemStrings(ps), "\n"))
	}
	want = []VirtualServer{
		{Pos: Pos{"r", 1, 1}, Addr: a("10.0.0.1"), Port: 80, Protocol: TCP, Scheduler: "wrr", Method: MethodNAT,
			RealServers: []RealServer{
				{Pos: Pos{"r", 3, 1}, Addr: a("10.1.0.2"), Port: 80, Weight: ldIptr(7), Method: MethodNAT, UThreshold: 100, LThreshold: 10},
				{Pos: Pos{"r", 4, 1}, Addr: a("10.1.0.3"), Port: 80, Weight: ldIptr(1), Method: MethodNAT},
			}},
	}
	if diff := cmp.Diff(want, cfg.VirtualServers, ldModelCmp); diff != "" {
		t.Errorf("ParseIPVSRules(no flush) virtual servers (-want +got):\n%s", diff)
	}
}

func TestParseIPVSRulesSyntax(t *testing.T) {
	const src = `# saved by hand
ipvsadm -A -t [2001:db8::1]:http -s rr   # trailing comment
ipvsadm -a -t [2001:db8::1]:http -r [2001:db8::2]:8080 --masquerading --weight=5

--add-service --udp-service 10.0.0.1:domain --scheduler sh --sched-flags sh-port,flag-3 -p
-At 10.0.0.2:443 -p3 -M 255.255.0.0
-at 10.0.0.2:443 -r 2001:db8::9 -i --tun-type gue --tun-port 6080 --tun-csum -w3
-A -f 9 -6 -p -M 64
--sctp-service 10.0.0.3:5000 -A -s twos
`
	a := netip.MustParseAddr
	want := []VirtualServer{
		{Pos: Pos{"s", 2, 9}, Addr: a("2001:db8::1"), Port: 80, Protocol: TCP, Scheduler: "rr", Method: MethodNAT,
			RealServers: []RealServer{{Pos: Pos{"s", 3, 9}, Addr: a("2001:db8::2"), Port: 8080, Weight: ldIptr(5), Method: MethodNAT}}},
		{Pos: Pos{"s", 5, 1}, Addr: a("10.0.0.1"), Port: 53, Protocol: UDP, Scheduler: "sh",
			SchedFlags: []SchedFlag{SchedSHPort, SchedFlag3}, PersistenceTimeout: 360 * time.Second, PersistenceGranularity: 32, Method: MethodDR},
		{Pos: Pos{"s", 6, 1}, Addr: a("10.0.0.2"), Port: 443, Protocol: TCP, Scheduler: "wlc",
			PersistenceTimeout: 3 * time.Second, PersistenceGranularity: 16, Method: MethodTUN,
			RealServers: []RealServer{{Pos: Pos{"s", 7, 1}, Addr: a("2001:db8::9"), Port: 443, Weight: ldIptr(3), Method: MethodTUN,
				Tunnel: Tunnel{Type: TunnelGUE, Port: 6080, Csum: TunnelCsumOn}}}},
		{Pos: Pos{"s", 8, 1}, FWMark: 9, IPFamily: IPv6, Scheduler: "wlc", PersistenceTimeout: 360 * time.Second, PersistenceGranularity: 64, Method: MethodDR},
		{Pos: Pos{"s", 9, 1}, Addr: a("10.0.0.3"), Port: 5000, Protocol: SCTP, Scheduler: "twos", Method: MethodDR},
	}
	cfg, ps := ParseIPVSRules("s", []byte(src))
	if len(ps) != 0 {
		t.Fatalf("ParseIPVSRules problems:\n%s", strings.Join(ldProblemStrings(ps), "\n"))
	}
	if diff := cmp.Diff(want, cfg.VirtualServers, ldModelCmp); diff != "" {
		t.Errorf("ParseIPVSRules virtual servers (-want +got):\n%s", diff)
	}
}

func TestParseIPVSRulesProblems(t *testing.T) {
	const svc = "-A -t 10.0.0.1:80\n"
	const nat = svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -m\n"
	tests := []struct {
		name string
		src  string
		want []string // "line:col: severity: message"
	}{
		{"unknown scheduler", "-A -t 10.0.0.1:80 -s foo\n", []string{"1:1: error: Scheduler or persistence engine not found"}},
		{"unknown persistence engine", "-A -t 10.0.0.1:80 -p --pe ftp\n", []string{"1:1: error: Scheduler or persistence engine not found"}},
		{"zero port", "-A -t 10.0.0.1 -s rr\n", []string{"1:7: error: Zero port specified for non-persistent service"}},
		{"service exists", svc + svc, []string{"2:7: error: Service already exists"}},
		{"service not defined", "-a -t 10.0.0.1:80 -r 10.1.0.1\n", []string{"1:7: error: Service not defined"}},
		{"no such service", "-D -t 10.0.0.9:80\n", []string{"1:7: error: No such service"}},
		{"edit missing service", "-E -t 10.0.0.9:80 -s rr\n", []string{"1:7: error: No such service"}},
		{"destination exists", nat + "-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m\n", []string{"3:22: error: Destination already exists"}},
		{"no such destination", nat + "-e -t 10.0.0.1:80 -r 10.1.0.2 -m\n", []string{"3:22: error: No such destination"}},
		{"delete missing destination", nat + "-d -t 10.0.0.1:80 -r 10.1.0.1:81\n", []string{"3:22: error: No such destination"}},
		{"bad address", "-A -t 10.0.0.300:80\n", []string{"1:7: error: illegal virtual server address[:port] specified"}},
		{"host name", "-A -t web:80\n", []string{"1:7: error: illegal virtual server address[:port] specified (uvs does not resolve host names in rules files; use an IP address)"}},
		{"bad real address", svc + "-a -t 10.0.0.1:80 -r 10.1.0:80\n", []string{"2:22: error: illegal real server address[:port] specified"}},
		{"unknown port name", "-A -t 10.0.0.1:nosuch\n", []string{"1:7: error: illegal virtual server address[:port] specified"}},
		{"bad weight", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -w 70000\n", []string{"2:34: error: illegal weight specified"}},
		{"bad threshold", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -x -1\n", []string{"2:34: error: illegal u_threshold specified"}},
		{"lower above upper", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -y 10\n", []string{"2:1: error: Numerical result out of range"}},
		{"bad persistence", "-A -t 10.0.0.1:80 -p 0\n", []string{"1:22: error: invalid timeout value `0' specified"}},
		{"persistence too long", "-A -t 10.0.0.1:80 -p 2678401\n", []string{"1:22: error: invalid timeout value `2678401' specified"}},
		{"bad netmask", "-A -t 10.0.0.1:80 -p -M 255.255.0\n", []string{"1:25: error: illegal virtual server persistent mask specified"}},
		{"bad ipv6 netmask", "-A -t [2001:db8::1]:80 -p -M 129\n", []string{"1:30: error: illegal ipv6 netmask specified"}},
		{"non-contiguous netmask", "-A -t 10.0.0.1:80 -p -M 255.0.255.0\n", []string{"1:1: error: persistence netmask 255.0.255.0 is not contiguous"}},
		{"netmask without persistence", "-A -t 10.0.0.1:80 -M 255.255.255.0\n", []string{"1:22: warning: -M has no effect without -p (persistence)"}},
		{"pe without persistence", "-A -t 10.0.0.1:80 --pe sip\n", []string{"1:1: warning: --pe has no effect without -p (persistence)"}},
		{"ops on tcp", "-A -t 10.0.0.1:80 -o\n", []string{"1:1: error: One-Packet Scheduling is only for UDP virtual services"}},
		{"incompatible flag", "-A -t 10.0.0.1:80 -s rr -b sh-port\n", []string{"1:28: error: incompatible scheduler flag `sh-port'"}},
		{"invalid flag", "-A -t 10.0.0.1:80 -b foo\n", []string{"1:22: error: invalid scheduler flag `foo'"}},
		{"illegal option", "-A -t 10.0.0.1:80 -r 10.1.0.1\n", []string{"1:1: error: Illegal 'real-server' option with the 'add-service' command"}},
		{"missing option", "-a -t 10.0.0.1:80\n", []string{"1:1: error: You need to supply the 'real-server' option for the 'add-server' command"}},
		{"two commands", "-A -E -t 10.0.0.1:80\n", []string{"1:4: error: multiple commands specified"}},
		{"repeated option", "-A -t 10.0.0.1:80 -s rr -s wlc\n", []string{"1:25: error: multiple 'scheduler' options specified"}},
		{"set needs three", "--set 900 120\n", []string{"1:1: error: --set option requires 3 timeout values"}},
		{"set value", "--set 900 x 300\n", []string{"1:11: error: invalid timeout value `x' specified"}},
		{"unexpected argument", "-A -t 10.0.0.1:80 extra\n", []string{"1:19: error: unexpected argument extra"}},
		{"unknown long option", "-A -t 10.0.0.1:80 --bogus\n", []string{"1:19: error: --bogus: unknown option"}},
		{"unknown short option", "-A -t 10.0.0.1:80 -Q\n", []string{"1:20: error: -Q: unknown option"}},
		{"missing argument", "-A -t 10.0.0.1:80 -s\n", []string{"1:20: error: -s: missing argument"}},
		{"family mismatch", svc + "-a -t 10.0.0.1:80 -r [2001:db8::1]:80 -m\n", []string{"2:22: error: Different address family is allowed only for tunneling servers"}},
		{"tunnel options without tunnel", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -m --tun-type gue\n", []string{"2:1: error: Tunnel options conflict with forward method"}},
		{"gue needs a port", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue\n", []string{"2:1: error: You need to supply the 'tun-port' option for the 'gue' tunnel type"}},
		{"ipip takes no csum", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-csum\n", []string{"2:1: error: Illegal 'tun-csum' option with the 'ipip' tunnel type"}},
		{"gre takes no port", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gre --tun-port 1\n", []string{"2:1: error: Illegal 'tun-port' option with the 'gre' tunnel type"}},
		{"two csum options", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gre --tun-csum --tun-remcsum\n",
			[]string{"2:1: error: The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gre' tunnel type"}},
		{"bad tunnel type", svc + "-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type vxlan\n", []string{"2:45: error: illegal tunnel type specified"}},
		{"bad fwmark", "-A -f 0\n", []string{"1:7: error: invalid fwmark value `0' specified"}},
		{"-6 without -f", "-A -t 10.0.0.1:80 -6\n", []string{"1:19: error: -6 used before -f"}},
		{"no command", "-t 10.0.0.1:80\n", []string{"1:1: error: no command specified (want -A, -E, -D, -C, -a, -e, -d or --set)"}},
		{"list is ignored", "-L -n\n", []string{"1:1: warning: ipvsadm list command does not change the table; ignored"}},
		{"daemon is ignored", "--start-daemon master\n", []string{"1:1: warning: ipvsadm --start-daemon is not supported in a rules file (configure connection sync in uvs); ignored"}},
		{"restore inside", "-R\n", []string{"1:1: error: --restore inside a rules file"}},
		{"every line reported", "-A -t 10.0.0.1:80 -s foo\n-A -t 10.0.0.2\n-X\n",
			[]string{"1:1: error: Scheduler or persistence engine not found", "2:7: error: Zero port specified for non-persistent service",
				"3:1: error: no command specified (want -A, -E, -D, -C, -a, -e, -d or --set)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := ParseIPVSRules("r", []byte(tt.src))
			got := ldProblemStrings(ps)
			for i := range got {
				got[i] = strings.TrimPrefix(got[i], "r:")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseIPVSRules(%q) = %q, want %q", tt.src, got, tt.want)
			}
			for i := range tt.want {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("ParseIPVSRules(%q) problem %d = %q, want %q", tt.src, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLooksLikeIPVSRules(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{ipvsSaveExample, true},
		{"# comment\n\nipvsadm -C\n", true},
		{"--set 900 120 300\n", true},
		{"virtual=10.0.0.1:80\n", false},
		{"global_defs {\n}\n", false},
		{"-X foo\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := LooksLikeIPVSRules([]byte(tt.src)); got != tt.want {
			t.Errorf("LooksLikeIPVSRules(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

// TestIPVSRulesHugeInput checks that huge tokens and lines stay bounded.
func TestIPVSRulesHugeInput(t *testing.T) {
	huge := strings.Repeat("1", 1<<20)
	src := "-A -t " + huge + ":80\n-A -t 10.0.0.1:80 -s " + huge + "\n-A -b " + huge + "\n" +
		strings.Repeat("-w ", 1<<16) + "\n--" + huge + "\n"
	_, ps := ParseIPVSRules("big", []byte(src))
	if len(ps) != 5 {
		t.Errorf("ParseIPVSRules(big) = %d problems, want one per line:\n%s", len(ps), strings.Join(ldProblemStrings(ps), "\n"))
	}
	for _, p := range ps {
		if len(p.Msg) > 1024 {
			t.Errorf("ParseIPVSRules(big) problem of %d bytes at %v", len(p.Msg), p.Pos)
		}
	}
}

func FuzzIPVSRules(f *testing.F) {
	f.Add([]byte(ipvsSaveExample))
	f.Add([]byte("-At [2001:db8::1]:http -p -M 64\n-at [2001:db8::1]:80 -r 10.0.0.1 -i --tun-type gue --tun-port 1 --tun-remcsum\n-e -t [2001:db8::1]:80 -r 10.0.0.1 -w0\n"))
	f.Add([]byte("--set 1 2 3\n-C\n-D -f 7\n-A -f 7 -6 -s mh -b mh-port,flag-3,,\n"))
	f.Add([]byte("-A -t " + strings.Repeat("1", 2048) + ":80 " + strings.Repeat("-w ", 300) + "\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, ps := ParseIPVSRules("fuzz", src)
		if cfg == nil {
			t.Fatalf("ParseIPVSRules returned a nil Config")
		}
		lines := strings.Count(string(src), "\n") + 1
		for _, p := range ps {
			if p.Pos.Line < 1 || p.Pos.Line > lines || p.Pos.Col < 1 {
				t.Fatalf("problem %q has a position outside the input (%d lines)", p.Error(), lines)
			}
			if len(p.Msg) > 1024 {
				t.Fatalf("problem message of %d bytes: a huge token was copied into it", len(p.Msg))
			}
		}
		// Services are unique and real servers unique within them: the
		// table's invariants after any sequence of commands.
		for i, a := range cfg.VirtualServers {
			for _, b := range cfg.VirtualServers[i+1:] {
				if a.FWMark == b.FWMark && a.IPFamily == b.IPFamily && a.Protocol == b.Protocol && a.Addr == b.Addr && a.Port == b.Port {
					t.Fatalf("duplicate service %v:%d / fwmark %d", a.Addr, a.Port, a.FWMark)
				}
			}
			seen := map[netip.AddrPort]bool{}
			for _, r := range a.RealServers {
				k := netip.AddrPortFrom(r.Addr, r.Port)
				if seen[k] {
					t.Fatalf("duplicate real server %v in service %v:%d", k, a.Addr, a.Port)
				}
				seen[k] = true
			}
		}
		LooksLikeIPVSRules(src)
	})
}

// TestIPVSRulesTestdata is TestLdirectordTestdata for
// testdata/ipvsadm/*.rules.
func TestIPVSRulesTestdata(t *testing.T) {
	ldGoldenFiles(t, "ipvsadm", ".rules", ParseIPVSRules)
}

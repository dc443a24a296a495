package conf

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ldModelCmp compares model values, netip types included.
var ldModelCmp = cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{}, netip.Prefix{})

// ldProblemStrings renders problems as "file:line:col: severity: msg".
func ldProblemStrings(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

func TestParseLdirectordCorpusSamples(t *testing.T) {
	dir := corpusDir(t, "ldirectord-samples")
	// MANIFEST.md: ldirectord itself rejects only vincentmli-lvsadm.
	tests := []struct {
		sub       string
		wantError bool
		services  int
	}{
		{"resource-agents", false, 1},
		{"grimli-ScriptUtili", false, 70},
		{"vincentmli-lvsadm", true, 4},
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		if e.IsDir() {
			seen++
		}
	}
	if seen != len(tests) {
		t.Errorf("corpus has %d sample directories, the test knows %d: update the table", seen, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.sub, func(t *testing.T) {
			name := filepath.Join(dir, tt.sub, "ldirectord.cf")
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !LooksLikeLdirectord(src) {
				t.Errorf("LooksLikeLdirectord(%s) = false, want true", name)
			}
			if LooksLikeIPVSRules(src) {
				t.Errorf("LooksLikeIPVSRules(%s) = true, want false", name)
			}
			cfg, ps := ParseLdirectord(name, src)
			if got := HasErrors(ps); got != tt.wantError {
				t.Errorf("ParseLdirectord(%s): HasErrors = %v, want %v; problems:\n%s", name, got, tt.wantError, strings.Join(ldProblemStrings(ps), "\n"))
			}
			if got := len(cfg.VirtualServers); got != tt.services {
				t.Errorf("ParseLdirectord(%s): %d virtual servers, want %d", name, got, tt.services)
			}
			for _, p := range ps {
				if p.Pos.File != name || p.Pos.Line < 1 || p.Pos.Col < 1 {
					t.Errorf("ParseLdirectord(%s): problem without a position: %v", name, p)
				}
			}
		})
	}
}

func TestParseLdirectordCorpusContent(t *testing.T) {
	dir := corpusDir(t, "ldirectord-samples")
	name := filepath.Join(dir, "resource-agents", "ldirectord.cf")
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := ParseLdirectord(name, src)
	if len(cfg.VirtualServers) != 1 {
		t.Fatalf("ParseLdirectord(%s): %d virtual servers, want 1", name, len(cfg.VirtualServers))
	}
	vs := cfg.VirtualServers[0]
	var reals []string
	for _, r := range vs.RealServers {
		reals = append(reals, netip.AddrPortFrom(r.Addr, r.Port).String()+" "+r.Method.String())
	}
	want := []string{"192.168.6.2:80 DR", "192.168.6.3:80 DR", "192.168.6.6:80 DR"}
	if diff := cmp.Diff(want, reals); diff != "" {
		t.Errorf("ParseLdirectord(%s) real servers (-want +got):\n%s", name, diff)
	}
	if got, want := vs.SorryServer, netip.MustParseAddrPort("127.0.0.1:80"); got != want {
		t.Errorf("ParseLdirectord(%s) sorry server = %v, want %v", name, got, want)
	}
	if vs.Scheduler != "rr" || vs.InhibitOnFailure || *vs.DelayLoop != time.Second || *vs.ConnectTimeout != 3*time.Second {
		t.Errorf("ParseLdirectord(%s) = sched %s inhibit %v delay_loop %v connect_timeout %v, want rr false 1s 3s",
			name, vs.Scheduler, vs.InhibitOnFailure, *vs.DelayLoop, *vs.ConnectTimeout)
	}
	c := vs.RealServers[0].Checks
	wantCheck := []Check{{Pos: vs.Pos, Kind: CheckHTTP, ConnectPort: 80, URLs: []URL{{Pos: vs.Pos, Path: "/index.html", Regex: "Test Page"}}}}
	if diff := cmp.Diff(wantCheck, c, ldModelCmp); diff != "" {
		t.Errorf("ParseLdirectord(%s) checks (-want +got):\n%s", name, diff)
	}
	if vs.Virtualhost != "www.x.y.z" {
		t.Errorf("ParseLdirectord(%s) virtualhost = %q, want www.x.y.z", name, vs.Virtualhost)
	}
}

func ldDur(d time.Duration) *time.Duration { return &d }
func ldIptr(n int) *int                    { return &n }

func TestParseLdirectordModel(t *testing.T) {
	const src = `# globals
checktimeout=3
negotiatetimeout=20
checkinterval=5
failurecount=3
quiescent=yes
fallback=127.0.0.1:80 masq

virtual=192.168.6.240:80
	real=192.168.6.2:80 gate
	real=192.168.6.3 gate 5
	real=192.168.6.4:8080 masq 0 "alive", "OK" l:10 u:100
	service=http
	scheduler=rr
	persistent=600
	netmask=255.255.255.0
	request="index.html"
	receive="Test Page"
	virtualhost=www.example.com
	quiescent=no
virtual=7
    real=10.0.0.1->10.0.0.3 ipip 2
# a comment at column 1 does not end the section
    checktype=connect
    checkport=443
    scheduler=mh
    schedflags=mh-port
    fallbackcommand="/usr/local/bin/fb"

virtual6=[2001:db8::5]:53
	real6=[2001:db8::10]:53 gate
	request="example.com"
	negotiatetimeout=9

virtual=10.0.0.9:25
	real=10.0.0.10:25 masq
	checktype=external
	checkcommand="/bin/check smtp"
	checktimeout=7
	fallback=10.0.0.99 gate
`
	const f = "ld.cf"
	at := func(line, col int) Pos { return Pos{File: f, Line: line, Col: col} }
	want := []VirtualServer{
		{
			Pos: at(9, 1), Addr: netip.MustParseAddr("192.168.6.240"), Port: 80, Protocol: TCP,
			Scheduler: "rr", Method: MethodDR,
			PersistenceTimeout: 600 * time.Second, PersistenceGranularity: 24,
			Timing:      Timing{ConnectTimeout: ldDur(20 * time.Second), Retry: ldIptr(2), DelayBeforeRetry: ldDur(5 * time.Second), DelayLoop: ldDur(5 * time.Second)},
			Alpha:       true,
			Virtualhost: "www.example.com",
			SorryServer: netip.MustParseAddrPort("127.0.0.1:80"), SorryServerMethod: MethodNAT,
			RealServers: []RealServer{
				{Pos: at(10, 7), Addr: netip.MustParseAddr("192.168.6.2"), Port: 80, Weight: ldIptr(1), Method: MethodDR,
					Checks: []Check{{Pos: at(9, 1), Kind: CheckHTTP, URLs: []URL{{Pos: at(9, 1), Path: "/index.html", Regex: "Test Page"}}}}},
				{Pos: at(11, 7), Addr: netip.MustParseAddr("192.168.6.3"), Port: 80, Weight: ldIptr(5), Method: MethodDR,
					Checks: []Check{{Pos: at(9, 1), Kind: CheckHTTP, URLs: []URL{{Pos: at(9, 1), Path: "/index.html", Regex: "Test Page"}}}}},
				{Pos: at(12, 7), Addr: netip.MustParseAddr("192.168.6.4"), Port: 8080, Weight: ldIptr(0), Method: MethodNAT,
					LThreshold: 10, UThreshold: 100,
					Checks: []Check{{Pos: at(9, 1), Kind: CheckHTTP, URLs: []URL{{Pos: at(9, 1), Path: "/alive", Regex: "OK"}}}}},
			},
		},
		{
			Pos: at(21, 1), FWMark: 7, IPFamily: IPv4, Scheduler: "mh", SchedFlags: []SchedFlag{SchedMHPort}, Method: MethodTUN,
			Timing:           Timing{ConnectTimeout: ldDur(3 * time.Second), Retry: ldIptr(2), DelayBeforeRetry: ldDur(5 * time.Second), DelayLoop: ldDur(5 * time.Second)},
			InhibitOnFailure: true, Alpha: true,
			QuorumDown:  Script{Command: "/usr/local/bin/fb start 7 fwm"},
			QuorumUp:    Script{Command: "/usr/local/bin/fb stop 7 fwm"},
			SorryServer: netip.MustParseAddrPort("127.0.0.1:80"), SorryServerMethod: MethodNAT,
			RealServers: []RealServer{
				{Pos: at(22, 10), Addr: netip.MustParseAddr("10.0.0.1"), Weight: ldIptr(2), Method: MethodTUN,
					Checks: []Check{{Pos: at(21, 1), Kind: CheckTCP, ConnectPort: 443}}},
				{Pos: at(22, 10), Addr: netip.MustParseAddr("10.0.0.2"), Weight: ldIptr(2), Method: MethodTUN,
					Checks: []Check{{Pos: at(21, 1), Kind: CheckTCP, ConnectPort: 443}}},
				{Pos: at(22, 10), Addr: netip.MustParseAddr("10.0.0.3"), Weight: ldIptr(2), Method: MethodTUN,
					Checks: []Check{{Pos: at(21, 1), Kind: CheckTCP, ConnectPort: 443}}},
			},
		},
		{
			Pos: at(30, 1), Addr: netip.MustParseAddr("2001:db8::5"), Port: 53, Protocol: UDP,
			Scheduler: "wrr", Method: MethodDR,
			Timing:           Timing{ConnectTimeout: ldDur(9 * time.Second), Retry: ldIptr(2), DelayBeforeRetry: ldDur(5 * time.Second), DelayLoop: ldDur(5 * time.Second)},
			InhibitOnFailure: true, Alpha: true,
			RealServers: []RealServer{
				{Pos: at(31, 8), Addr: netip.MustParseAddr("2001:db8::10"), Port: 53, Weight: ldIptr(1), Method: MethodDR,
					Checks: []Check{{Pos: at(30, 1), Kind: CheckDNS, DNSType: "A", DNSName: "example.com"}}},
			},
		},
		{
			Pos: at(35, 1), Addr: netip.MustParseAddr("10.0.0.9"), Port: 25, Protocol: TCP,
			Scheduler: "wrr", Method: MethodNAT,
			Timing:           Timing{ConnectTimeout: ldDur(7 * time.Second), Retry: ldIptr(2), DelayBeforeRetry: ldDur(5 * time.Second), DelayLoop: ldDur(5 * time.Second)},
			InhibitOnFailure: true, Alpha: true,
			SorryServer: netip.MustParseAddrPort("10.0.0.99:25"), SorryServerMethod: MethodDR,
			RealServers: []RealServer{
				{Pos: at(36, 7), Addr: netip.MustParseAddr("10.0.0.10"), Port: 25, Weight: ldIptr(1), Method: MethodNAT,
					Checks: []Check{{Pos: at(35, 1), Kind: CheckMisc, MiscPath: Script{Command: "/bin/check smtp 10.0.0.9 25 10.0.0.10 25"}, MiscTimeout: 7 * time.Second}}},
			},
		},
	}
	cfg, ps := ParseLdirectord(f, []byte(src))
	if HasErrors(ps) {
		t.Fatalf("ParseLdirectord(%q) problems:\n%s", f, strings.Join(ldProblemStrings(ps), "\n"))
	}
	if cfg.Format != FormatLdirectord || cfg.Path != f {
		t.Errorf("ParseLdirectord(%q) = format %v path %q, want ldirectord %q", f, cfg.Format, cfg.Path, f)
	}
	if diff := cmp.Diff(want, cfg.VirtualServers, ldModelCmp); diff != "" {
		t.Errorf("ParseLdirectord(%q) virtual servers (-want +got):\n%s", f, diff)
	}
}

func TestParseLdirectordProblems(t *testing.T) {
	const v = "virtual=10.0.0.1:80\n"
	tests := []struct {
		name string
		src  string
		want []string // "line:col: severity: message prefix"
	}{
		{"bad virtual address", "virtual=192.168.1.300:80\n\treal=10.0.0.2:80 gate\n",
			[]string{`1:9: error: invalid address "192.168.1.300" for virtual server`}},
		{"virtual without port", "virtual=10.0.0.1\n",
			[]string{`1:9: error: virtual service "10.0.0.1" has no port`}},
		{"IPv6 in virtual", "virtual=[2001:db8::1]:80\n",
			[]string{`1:9: error: cannot specify an IPv6 address here. please use "virtual6" instead.`}},
		{"unknown port name", "virtual=10.0.0.1:nosuchsvc\n",
			[]string{`1:18: error: invalid port "nosuchsvc" for virtual server`}},
		{"port too large", "virtual=10.0.0.1:65536\n",
			[]string{`1:18: error: invalid port "65536" for virtual server: must be 0..65535`}},
		{"zero port", "virtual=10.0.0.1:0\n",
			[]string{`1:18: error: Zero port specified for non-persistent service`}},
		{"bad number", "checktimeout=abc\n",
			[]string{`1:14: error: invalid check timeout value: "abc"`}},
		{"zero interval", "checkinterval=0\n",
			[]string{`1:15: error: invalid check interval value: "0" (must be a positive number)`}},
		{"number too large", "failurecount=99999999999\n",
			[]string{`1:14: error: invalid failure count value: "99999999999" is too large`}},
		{"number with junk", "checkinterval=5s\n",
			[]string{`1:16: warning: ignoring "s" after the number`}},
		{"unknown global directive", "frobnicate=1\n",
			[]string{`1:1: error: unknown directive "frobnicate"`}},
		{"not a directive", "[vip]\n",
			[]string{`1:1: error: unknown command "[vip]"`}},
		{"section directive at top level", "scheduler=rr\n",
			[]string{`1:1: error: "scheduler" is only allowed inside a virtual section`}},
		{"unknown section directive", v + "\treal=10.0.0.2:80 gate\n\tfoo=bar\n",
			[]string{`3:2: error: unknown command "foo=bar"`}},
		{"blank line ends the section", v + "\treal=10.0.0.2:80 gate\n\n\tscheduler=rr\n",
			[]string{`4:1: error: unknown command "scheduler=rr": indented line outside a virtual section`}},
		{"3-space indent ends the section", v + "   scheduler=rr\n",
			[]string{`2:1: error: unknown command "scheduler=rr": indented line outside a virtual section`}},
		{"tab-only line ends the section", v + "\t\n\tscheduler=rr\n",
			[]string{`3:1: error: unknown command "scheduler=rr"`}},
		{"two-tab line is an error", v + "\t\t\n\tscheduler=rr\n",
			[]string{`2:1: error: a line of only blanks inside a virtual section`}},
		{"bad forward method", v + "\treal=10.0.0.2:80 nat\n",
			[]string{`2:19: error: forward method must be gate, masq or ipip, not "nat"`}},
		{"missing forward method", v + "\treal=10.0.0.2:80\n",
			[]string{`2:7: error: invalid address for real server (wrong format)`}},
		{"bad weight", v + "\treal=10.0.0.2:80 gate 70000\n",
			[]string{`2:24: error: illegal weight "70000": must be 0..65535`}},
		{"junk after real", v + "\treal=10.0.0.2:80 gate 1 junk\n",
			[]string{`2:26: error: Invalid real server line, around "junk"`}},
		{"junk after real, then a comment", v + "\treal=10.0.0.2:80  gate  gate  # c\n",
			[]string{`2:26: error: Invalid real server line, around "gate"`}},
		{"method repeated in the address", v + "\treal=10.0.0.2:80 gate gate\n",
			[]string{`2:24: error: Invalid real server line, around "gate"`}},
		{"tabs inside a real line", v + "\treal=10.0.0.2:80\tgate\tjunk\n",
			[]string{`2:24: error: Invalid real server line, around "junk"`}},
		{"trailing blanks after a real", v + "\treal=10.0.0.2:80 gate 2 \"/x\", \"y\" l:1 u:9   \n", nil},
		{"real host name", v + "\treal=web1:80 gate\n",
			[]string{`2:7: error: invalid address "web1" for real server: uvs does not resolve host names`}},
		{"real6 in an IPv4 section", v + "\treal6=[2001:db8::2]:80 gate\n",
			[]string{`2:2: error: cannot specify "real6" here.  please use "real" instead`}},
		{"reversed range", v + "\treal=10.0.0.5->10.0.0.1:80 gate\n",
			[]string{`2:7: error: Invalid Range: 10.0.0.5-10.0.0.1`}},
		{"huge range", v + "\treal=10.0.0.0->10.1.0.0:80 gate\n",
			[]string{`2:7: error: range 10.0.0.0->10.1.0.0 has 65537 addresses`}},
		{"real port with gate", v + "\treal=10.0.0.2:8080 gate\n",
			[]string{`2:7: warning: real server port 8080 ignored: with gate forwarding IPVS uses the virtual service's port 80`}},
		{"duplicate real", v + "\treal=10.0.0.2:80 gate\n\treal=10.0.0.2:80 gate 3\n",
			[]string{`3:7: warning: duplicate real server 10.0.0.2:80 (first at line 2) ignored`}},
		{"quiescent with a trailing blank", "quiescent=no \n",
			[]string{`1:11: error: quiescent must be 'yes' or 'no': "no " has blanks around it`}},
		{"quiescent in section with comment", v + "\tquiescent=yes # comment\n",
			[]string{`2:12: error: quiescent must be 'yes' or 'no': "yes " has blanks around it`}},
		{"comment after a global yes/no", "quiescent=yes # always\n",
			[]string{`1:11: error: quiescent must be 'yes' or 'no', not "yes # always" (ldirectord does not strip comments at the end of global lines)`}},
		{"comment after the virtual header", "virtual=10.0.0.1:80 # web\n\treal=10.0.0.2 gate\n", nil},
		{"junk after the virtual header", "virtual=10.0.0.1:80 web\n\treal=10.0.0.2 gate\n",
			[]string{`1:21: warning: ignoring "web" after the virtual service address (ldirectord ignores it too)`}},
		{"unquoted request", v + "\trequest=index.html\n",
			[]string{`2:10: error: request needs a quoted value`}},
		{"bad checktype", v + "\tchecktype=bogus\n",
			[]string{`2:12: error: checktype must be "connect"`}},
		{"bad service", v + "\tservice=ssh\n",
			[]string{`2:10: error: service must be dns, ftp`}},
		{"bad scheduler", v + "\tscheduler=WRR\n",
			[]string{`2:12: error: invalid scheduler, should be only lowercase letters (a-z)`}},
		{"unknown scheduler", v + "\tscheduler=foo\n",
			[]string{`2:12: error: unknown scheduler "foo"`}},
		{"bad schedflags", v + "\tscheduler=rr\n\tschedflags=sh-port\n",
			[]string{"3:13: error: incompatible scheduler flag `sh-port'"}},
		{"bad netmask", v + "\tpersistent=60\n\tnetmask=24\n",
			[]string{`3:10: error: invalid netmask: dotted quad notation is required`}},
		{"protocol on fwmark", "virtual=5\n\tprotocol=tcp\n",
			[]string{`2:11: error: protocol must be fwm if the virtual service is a fwmark`}},
		{"duplicate virtual", v + "\treal=10.0.0.2:80 gate\n" + v + "\treal=10.0.0.3:80 gate\n",
			[]string{`3:1: error: duplicate virtual server tcp:10.0.0.1:80 (first defined at line 1)`}},
		{"connecttimeout", "connecttimeout=5\n",
			[]string{`1:1: error: connecttimeout directive deprecated in favour of negotiatetimeout`}},
		{"checkcount", "checkcount=3\n",
			[]string{`1:1: warning: checkcount option is deprecated`}},
		{"unsupported directive", "emailalert=\"root@example.com\"\n",
			[]string{`1:1: warning: ldirectord directive "emailalert" is not supported by uvs; ignored`}},
		{"unquoted logfile", "logfile=/var/log/ld.log\n",
			[]string{`1:9: error: logfile needs a quoted value`}},
		{"checkinterval without fork", v + "\tcheckinterval=3\n",
			[]string{`2:16: warning: checkinterval in virtual service tcp:10.0.0.1:80 ignored when fork=no`}},
		{"bare supervised", "supervised\n",
			[]string{`1:1: warning: please update your config not to use a bare supervised directive`,
				`1:1: warning: ldirectord directive "supervised" is not supported by uvs; ignored`}},
		{"several problems, all reported", "a=1\nb=2\n" + v + "\tc=3\n",
			[]string{`1:1: error: unknown directive "a"`, `2:1: error: unknown directive "b"`, `4:2: error: unknown command "c=3"`}},
		{"CRLF line ends", "virtual=10.0.0.1:80\r\n\treal=10.0.0.2:80 gate\r\n\tscheduler=rr\r\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := ParseLdirectord("f.cf", []byte(tt.src))
			var got []Problem
			for _, p := range ps {
				if !strings.Contains(p.Msg, "is not supported by uvs; using") && !strings.HasPrefix(p.Msg, "checktype=off") {
					got = append(got, p)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseLdirectord(%q) = %d problems, want %d:\n%s", tt.src, len(got), len(tt.want), strings.Join(ldProblemStrings(got), "\n"))
			}
			for i, w := range tt.want {
				if g := strings.TrimPrefix(got[i].Error(), "f.cf:"); !strings.HasPrefix(g, w) {
					t.Errorf("ParseLdirectord(%q) problem %d = %q, want prefix %q", tt.src, i, g, w)
				}
			}
		})
	}
}

func TestParseLdirectordSemantics(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, vs []VirtualServer)
	}{
		{"udp for port 53 and domain", "virtual=10.0.0.1:domain\n\treal=10.0.0.2:domain gate\nvirtual=10.0.0.1:53\n\treal=10.0.0.2 gate\n\tprotocol=tcp\n",
			func(t *testing.T, vs []VirtualServer) {
				if vs[0].Protocol != UDP || vs[0].Port != 53 || vs[1].Protocol != TCP || vs[1].RealServers[0].Port != 53 {
					t.Errorf("got %v:%d and %v:%d, want UDP:53 and TCP:53", vs[0].Protocol, vs[0].Port, vs[1].Protocol, vs[1].RealServers[0].Port)
				}
			}},
		{"checktype on and off", "virtual=10.0.0.1:80\n\treal=10.0.0.2 gate\n\tchecktype=on\nvirtual=10.0.0.1:81\n\treal=10.0.0.2 gate\n\tchecktype=off\n",
			func(t *testing.T, vs []VirtualServer) {
				if len(vs[0].RealServers) != 1 || len(vs[0].RealServers[0].Checks) != 0 || len(vs[1].RealServers) != 0 {
					t.Errorf("got %d reals (%d checks) and %d reals, want 1 (0) and 0", len(vs[0].RealServers), len(vs[0].RealServers[0].Checks), len(vs[1].RealServers))
				}
			}},
		{"connect on udp pings", "virtual=10.0.0.1:5000\n\treal=10.0.0.2 gate\n\tprotocol=udp\n\tchecktype=connect\n",
			func(t *testing.T, vs []VirtualServer) {
				if k := vs[0].RealServers[0].Checks[0].Kind; k != CheckPing {
					t.Errorf("check kind = %v, want PING_CHECK", k)
				}
			}},
		{"timeouts default to each other", "checktimeout=4\nvirtual=10.0.0.1:80\n\treal=10.0.0.2 gate\nvirtual=10.0.0.1:81\n\treal=10.0.0.2 gate\n\tchecktype=connect\n\tnegotiatetimeout=8\n",
			func(t *testing.T, vs []VirtualServer) {
				// negotiate: no negotiatetimeout anywhere, so the global
				// checktimeout (4); connect: the virtual negotiatetimeout (8)
				// comes before the global checktimeout.
				if *vs[0].ConnectTimeout != 4*time.Second || *vs[1].ConnectTimeout != 8*time.Second {
					t.Errorf("connect_timeout = %v, %v, want 4s, 8s", *vs[0].ConnectTimeout, *vs[1].ConnectTimeout)
				}
			}},
		{"defaults", "virtual=10.0.0.1:80\n\treal=10.0.0.2 gate\n",
			func(t *testing.T, vs []VirtualServer) {
				v := vs[0]
				if v.Scheduler != "wrr" || *v.DelayLoop != 10*time.Second || *v.ConnectTimeout != 30*time.Second || *v.Retry != 0 || v.InhibitOnFailure || !v.Alpha {
					t.Errorf("got sched %s delay_loop %v connect_timeout %v retry %d inhibit %v alpha %v, want wrr 10s 30s 0 false true",
						v.Scheduler, *v.DelayLoop, *v.ConnectTimeout, *v.Retry, v.InhibitOnFailure, v.Alpha)
				}
			}},
		{"checkinterval per virtual with fork", "fork=yes\ncheckinterval=20\nvirtual=10.0.0.1:80\n\treal=10.0.0.2 gate\n\tcheckinterval=2\n",
			func(t *testing.T, vs []VirtualServer) {
				if *vs[0].DelayLoop != 2*time.Second {
					t.Errorf("delay_loop = %v, want 2s", *vs[0].DelayLoop)
				}
			}},
		{"global fallback without port takes the virtual port", "fallback=127.0.0.1\nvirtual=10.0.0.1:8080\n\treal=10.0.0.2 masq\n",
			func(t *testing.T, vs []VirtualServer) {
				if vs[0].SorryServer != netip.MustParseAddrPort("127.0.0.1:8080") || vs[0].SorryServerMethod != MethodDR {
					t.Errorf("sorry server = %v %v, want 127.0.0.1:8080 DR", vs[0].SorryServer, vs[0].SorryServerMethod)
				}
			}},
		{"IPv6 fwmark", "virtual6=3\n\treal6=[2001:db8::2] masq\n\tfallback6=[::1]:80\n",
			func(t *testing.T, vs []VirtualServer) {
				if vs[0].FWMark != 3 || vs[0].IPFamily != IPv6 || vs[0].SorryServer != netip.MustParseAddrPort("[::1]:80") {
					t.Errorf("got fwmark %d family %v sorry %v, want 3 inet6 [::1]:80", vs[0].FWMark, vs[0].IPFamily, vs[0].SorryServer)
				}
			}},
		{"http_proxy checks the absolute URL through the proxy", "virtual=10.0.0.1:3128\n\treal=10.0.0.2 gate\n\trequest=\"http://www.example.com/\"\n",
			func(t *testing.T, vs []VirtualServer) {
				c := vs[0].RealServers[0].Checks[0]
				if c.Kind != CheckHTTP || c.URLs[0].Path != "http://www.example.com/" {
					t.Errorf("check = %v path %q, want HTTP_GET http://www.example.com/", c.Kind, c.URLs[0].Path)
				}
			}},
		{"absolute URL on an address", "virtual=10.0.0.1:80\n\treal=10.0.0.2 gate 1 \"http://192.0.2.7:8080/health?x=1\", \"ok\"\n",
			func(t *testing.T, vs []VirtualServer) {
				c := vs[0].RealServers[0].Checks[0]
				want := Check{Pos: vs[0].Pos, Kind: CheckHTTP, ConnectIP: netip.MustParseAddr("192.0.2.7"), ConnectPort: 8080,
					URLs: []URL{{Pos: vs[0].Pos, Path: "/health?x=1", Regex: "ok"}}}
				if diff := cmp.Diff(want, c, ldModelCmp); diff != "" {
					t.Errorf("check (-want +got):\n%s", diff)
				}
			}},
		{"absolute URL on a host name", "virtual=10.0.0.1:443\n\treal=10.0.0.2 gate\n\trequest=\"https://status.example.com/x\"\n",
			func(t *testing.T, vs []VirtualServer) {
				c := vs[0].RealServers[0].Checks[0]
				want := Check{Pos: vs[0].Pos, Kind: CheckSSL, URLs: []URL{{Pos: vs[0].Pos, Path: "/x", Virtualhost: "status.example.com"}}}
				if diff := cmp.Diff(want, c, ldModelCmp); diff != "" {
					t.Errorf("check (-want +got):\n%s", diff)
				}
			}},
		{"DNS check of an address", "virtual=10.0.0.1:53\n\treal=10.0.0.2 gate\n\trequest=\"192.0.2.1\"\n",
			func(t *testing.T, vs []VirtualServer) {
				c := vs[0].RealServers[0].Checks[0]
				if c.Kind != CheckDNS || c.DNSType != "SOA" || c.DNSName != "." {
					t.Errorf("check = %v %s %q, want DNS_CHECK SOA \".\"", c.Kind, c.DNSType, c.DNSName)
				}
			}},
		{"tabs in strings become 4 spaces", "virtual=10.0.0.1:80\n\treal=10.0.0.2 gate\n\treceive=\"a\tb\"\n",
			func(t *testing.T, vs []VirtualServer) {
				if got := vs[0].RealServers[0].Checks[0].URLs[0].Regex; got != "a    b" {
					t.Errorf("regex = %q, want %q", got, "a    b")
				}
			}},
		{"hash in quotes is a comment inside sections", "virtual=10.0.0.1:80\n\treal=10.0.0.2 gate\n\treceive=\"a#b\"\n",
			func(t *testing.T, vs []VirtualServer) {
				// ldirectord strips from the '#', so the value is unquoted
				// and refused; the receive string stays unset.
				if got := vs[0].RealServers[0].Checks[0].URLs[0].Regex; got != "" {
					t.Errorf("regex = %q, want empty", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps := ParseLdirectord("f.cf", []byte(tt.src))
			if HasErrors(ps) && !strings.Contains(tt.name, "hash") {
				t.Fatalf("ParseLdirectord(%q) problems:\n%s", tt.src, strings.Join(ldProblemStrings(ps), "\n"))
			}
			tt.check(t, cfg.VirtualServers)
		})
	}
}

func TestLooksLikeLdirectord(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"virtual=10.0.0.1:80\n\treal=10.0.0.2 gate\n", true},
		{"# c\nvirtual6 = [::1]:80\n", true},
		{"\treal=10.0.0.2:80 gate\n", true},
		{"virtual_server 10.0.0.1 80 {\n}\n", false},
		{"-A -t 10.0.0.1:80 -s wlc\n", false},
		{"[[virtual_server]]\naddress = \"10.0.0.1\"\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := LooksLikeLdirectord([]byte(tt.src)); got != tt.want {
			t.Errorf("LooksLikeLdirectord(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

// TestLdirectordHugeInput checks that hostile sizes stay bounded: huge
// tokens are not copied into messages, ranges are capped per line and per
// file, and duplicates from ranges give one warning per line.
func TestLdirectordHugeInput(t *testing.T) {
	huge := strings.Repeat("9", 1<<20)
	var b strings.Builder
	b.WriteString("virtual=10.0.0.1:80\n\treal=" + huge + " gate\n\trequest=\"" + huge + "\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "\treal=10.%d.0.0->10.%d.15.255 gate\n", i, i)
	}
	b.WriteString("\treal=10.0.0.0->10.0.15.255 gate\n")
	b.WriteString("virtual=" + huge + "\n")
	b.WriteString(huge + "x=1\n")
	b.WriteString("virtual=10.0.0.1:81\n\tscheduler=" + strings.Repeat("a", 1<<20) + "\n")
	src := b.String()
	cfg, ps := ParseLdirectord("big.cf", []byte(src))
	if n := len(cfg.VirtualServers[0].RealServers); n != ldMaxReals {
		t.Errorf("ParseLdirectord(big) = %d real servers, want the cap %d", n, ldMaxReals)
	}
	if len(ps) > 30 {
		t.Errorf("ParseLdirectord(big) = %d problems, want at most one per line:\n%s", len(ps), strings.Join(ldProblemStrings(ps[:30]), "\n"))
	}
	for _, p := range ps {
		if len(p.Msg) > 1024 {
			t.Errorf("ParseLdirectord(big) problem of %d bytes at %v", len(p.Msg), p.Pos)
		}
	}
	var wantTooMany int
	for _, p := range ps {
		if strings.HasPrefix(p.Msg, "too many real servers") {
			wantTooMany++
		}
	}
	if wantTooMany != 4 { // the ranges are lines 4..23; 16 ranges fill the cap
		t.Errorf("ParseLdirectord(big): %d \"too many real servers\" errors, want 4:\n%s", wantTooMany, strings.Join(ldProblemStrings(ps), "\n"))
	}
}

func FuzzLdirectord(f *testing.F) {
	f.Add([]byte("virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate 2 \"/\", \"ok\"\n\tservice=http\n"))
	f.Add([]byte("checktimeout=3\nfallback=127.0.0.1:80\nvirtual=7\n    real=10.0.0.1->10.0.0.9 ipip\n"))
	f.Add([]byte("virtual6=[2001:db8::1]:53\n\treal6=[2001:db8::2]:53 masq l:1 u:2\n\tnetmask=64\n\tpersistent=60\n"))
	f.Add([]byte("virtual=10.0.0.1:80\n\t\t\n\treal=" + strings.Repeat("9", 2048) + " gate\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, ps := ParseLdirectord("fuzz.cf", src)
		if cfg == nil {
			t.Fatalf("ParseLdirectord returned a nil Config")
		}
		lines := strings.Count(string(src), "\n") + 1
		reals := 0
		for _, vs := range cfg.VirtualServers {
			reals += len(vs.RealServers)
		}
		if reals > lines*ldMaxRange || reals > ldMaxReals {
			t.Fatalf("ParseLdirectord made %d real servers from %d lines", reals, lines)
		}
		for _, p := range ps {
			if p.Pos.Line < 1 || p.Pos.Line > lines || p.Pos.Col < 1 {
				t.Fatalf("problem %q has a position outside the input (%d lines)", p.Error(), lines)
			}
			if len(p.Msg) > 1024 {
				t.Fatalf("problem message of %d bytes: a huge token was copied into it", len(p.Msg))
			}
		}
		LooksLikeLdirectord(src)
	})
}

// TestLdirectordTestdata parses testdata/ldirectord/*.cf and compares the
// problems and the converted TOML with the .golden files next to them
// (go test ./conf -update rewrites them). Converting that TOML again must
// give the same TOML.
func TestLdirectordTestdata(t *testing.T) {
	ldGoldenFiles(t, "ldirectord", ".cf", ParseLdirectord)
}

// ldGoldenFiles runs parse over testdata/dir/*ext and compares with
// dir/NAME.golden: the problems, a separator, then the TOML.
func ldGoldenFiles(t *testing.T, dir, ext string, parse func(string, []byte) (*Config, []Problem)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/%s/*%s files (%v)", dir, ext, err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			cfg, ps := parse(name, src)
			out := cfg.MarshalTOML()
			var b strings.Builder
			for _, p := range ps {
				b.WriteString(p.Error() + "\n")
			}
			b.WriteString("--- converted\n")
			b.Write(out)
			golden(t, filepath.Join(dir, strings.TrimSuffix(filepath.Base(name), ext)+".golden"), []byte(b.String()))
			again, tps := ParseTOML("converted.toml", out)
			if HasErrors(tps) {
				t.Fatalf("ParseTOML(convert(%s)) problems:\n%s", name, strings.Join(ldProblemStrings(tps), "\n"))
			}
			if diff := cmp.Diff(string(out), string(again.MarshalTOML())); diff != "" {
				t.Errorf("convert(convert(%s)) differs (-first +second):\n%s", name, diff)
			}
		})
	}
}

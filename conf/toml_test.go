package conf

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTOMLRoundTrip(t *testing.T) {
	src, err := os.ReadFile("testdata/toml/native.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, probs := ParseTOML("native.toml", src)
	if len(probs) != 0 {
		t.Fatalf("ParseTOML(native.toml) problems: %q", problemStrings(probs))
	}
	if got := string(cfg.MarshalTOML()); got != string(src) {
		t.Errorf("MarshalTOML(ParseTOML(native.toml)) is not the input (-want +got):\n%s", cmp.Diff(string(src), got))
	}
	d := cfg.Dataplane
	if d.Interface != "eth0" || d.Link != LinkAFPacket || d.Workers != 2 || d.MaxConns != 262144 {
		t.Errorf("dataplane = %+v", d)
	}
	if d.Timeouts.TCP != 90*time.Minute || d.Timeouts.UDP != 90*time.Second {
		t.Errorf("dataplane timeouts = %+v, want tcp 1h30m udp 1m30s", d.Timeouts)
	}
	mac, _ := net.ParseMAC("02:00:00:00:00:02")
	if len(d.Neighbours) != 2 || d.Neighbours[0].IP != netip.MustParseAddr("10.0.0.2") || d.Neighbours[0].MAC.String() != mac.String() {
		t.Errorf("neighbours = %v", d.Neighbours)
	}
	if len(d.FWMarks) != 1 || len(d.FWMarks[0].Match) != 2 || d.FWMarks[0].Match[0].Ports != (PortRange{80, 81}) ||
		d.FWMarks[0].Match[1].Protocol != UDP || d.FWMarks[0].Match[0].Prefix != netip.MustParsePrefix("10.0.0.100/32") {
		t.Errorf("fwmark rules = %+v", d.FWMarks)
	}
	if cfg.Control != (Control{Pos: Pos{"native.toml", 45, 1}, Socket: "/run/uvs/test.sock", Metrics: "127.0.0.1:9100"}) {
		t.Errorf("control = %+v", cfg.Control)
	}
	vs := cfg.VirtualServers[0]
	if vs.Pos != (Pos{"native.toml", 72, 1}) || vs.RealServers[1].Pos != (Pos{"native.toml", 99, 1}) || vs.RealServers[1].Checks[0].URLs[0].Pos.Line != 107 {
		t.Errorf("positions: vs %v, second real server %v, url %v; want lines 72, 99, 107", vs.Pos, vs.RealServers[1].Pos, vs.RealServers[1].Checks[0].URLs[0].Pos)
	}
	if w0, w1 := vs.RealServers[0].Weight, vs.RealServers[1].Weight; w0 == nil || *w0 != 0 || w1 == nil || *w1 != 3 {
		t.Errorf("weights = %v, %v; want an explicit 0 and 3", w0, w1)
	}
	if cfg.Scripts[0].Script != (Script{"/usr/local/bin/check 'a b'", "nobody", ""}) {
		t.Errorf("script = %+v", cfg.Scripts[0].Script)
	}
	if probs := Compile(cfg); HasErrors(probs) {
		t.Errorf("Compile(native.toml): %q", problemStrings(probs))
	}
}

func TestTOMLProblems(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		prefix string
		substr string
	}{
		{"unknown top-level key", "[global_defs]\nrouter_id = \"a\"\n\nfoo = 1\n",
			"t.toml:4:1: error:", "unknown key 'foo' in [global_defs]"},
		{"unknown table", "[dataplan]\ninterface = \"eth0\"\n",
			"t.toml:1:1: error:", "unknown key 'dataplan'"},
		{"unknown key in the second real server", "[[virtual_server]]\naddress = \"10.0.0.1\"\n[[virtual_server.real_server]]\naddress = \"10.0.0.2\"\n[[virtual_server.real_server]]\naddress = \"10.0.0.3\"\n  wieght = 2\n",
			"t.toml:7:3: error:", "unknown key 'wieght' in [virtual_server.real_server]"},
		{"bad address", "[[virtual_server]]\nport = 80\naddress = \"10.0.0.300\"\n",
			"t.toml:3:1: error:", "bad IP address \"10.0.0.300\""},
		{"bad duration", "[[virtual_server]]\ndelay_loop = \"6x\"\n",
			"t.toml:2:1: error:", "bad duration \"6x\""},
		{"wrong type", "[[virtual_server]]\nport = \"80\"\n",
			"t.toml:2:1: error:", "port: want an integer, got a string"},
		{"out of range", "[[virtual_server]]\nport = 70000\n",
			"t.toml:2:1: error:", "70000 is out of range"},
		{"bad enum", "[[virtual_server]]\nlvs_method = \"nat\"\n",
			"t.toml:2:1: error:", "unknown value \"nat\""},
		{"bad entry", "[[vrrp_instance]]\nvirtual_ipaddress = [\"10.0.0.1\", \"x\"]\n",
			"t.toml:2:1: error:", "bad IP address 'x'"},
		{"syntax error", "[global_defs]\nrouter_id = \"a\"\nrouter_id == 1\n",
			"t.toml:3:", "TOML syntax"},
		{"bad neighbour", "[dataplane]\nneighbours = [\"10.0.0.2=zz\"]\n",
			"t.toml:2:1: error:", "bad neighbour MAC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := ParseTOML("t.toml", []byte(tt.src))
			if !hasProblem(probs, tt.prefix, tt.substr) {
				t.Errorf("ParseTOML(%q) problems =\n%s\nwant one starting %q containing %q", tt.src, strings.Join(problemStrings(probs), "\n"), tt.prefix, tt.substr)
			}
		})
	}
}

func TestTOMLAllProblemsReported(t *testing.T) {
	src := "[[virtual_server]]\naddress = \"x\"\nport = \"y\"\nfoo = 1\n"
	_, probs := ParseTOML("t.toml", []byte(src))
	if len(probs) != 3 {
		t.Errorf("ParseTOML(%q) = %q, want 3 problems (all of them, not just the first)", src, problemStrings(probs))
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		src  string
		want Format
	}{
		{"# c\n[global_defs]\n", FormatTOML},
		{"\n[[virtual_server]]\naddress = \"10.0.0.1\"\n", FormatTOML},
		{"control.socket = \"/x\"\n", FormatTOML},
		{"! c\nglobal_defs {\n}\n", FormatKeepalived},
		{"$VIP=10.0.0.1\nvirtual_server $VIP 80 {\n}\n", FormatKeepalived},
		{"include /etc/keepalived/*.conf\n", FormatKeepalived},
		{"", FormatKeepalived},
		{"-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1\n", FormatIPVSRules},
		{"checktimeout=3\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n", FormatLdirectord},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.src)); got != tt.want {
			t.Errorf("Detect(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{6 * time.Second, "6s"},
		{15 * time.Minute, "15m"},
		{90 * time.Minute, "1h30m"},
		{1500 * time.Millisecond, "1.5s"},
		{500 * time.Millisecond, "500ms"},
		{time.Microsecond, "1us"},
		{2*time.Hour + 3*time.Second, "2h3s"},
	}
	for _, tt := range tests {
		got := formatDuration(tt.d)
		if got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != tt.d {
			t.Errorf("time.ParseDuration(formatDuration(%v)) = %v, %v", tt.d, back, err)
		}
	}
}

func TestTOMLCompileProblems(t *testing.T) {
	tests := []struct {
		src    string
		prefix string
		substr string
	}{
		{"[[virtual_server]]\nport = 80\n", "t.toml:1:1: error:", "needs exactly one of address, fwmark or group"},
		{"[[virtual_server]]\naddress = \"10.0.0.1\"\nfwmark = 1\n", "t.toml:1:1: error:", "needs exactly one of address, fwmark or group"},
		{"[[virtual_server]]\nfwmark = 1\n\n[[virtual_server.real_server]]\nport = 80\n", "t.toml:4:1: error:", "has no address"},
		{"[[vrrp_script]]\nscript = \"/bin/true\"\n", "t.toml:1:1: error:", "vrrp_script has no name"},
		{"[[virtual_server]]\naddress = \"10.0.0.1\"\nprotocol = \"TCP\"\n  ops = true\n", "t.toml:4:3: warning:", "one-packet scheduling is only for UDP"},
	}
	for _, tt := range tests {
		cfg, probs := ParseTOML("t.toml", []byte(tt.src))
		probs = append(probs, Compile(cfg)...)
		if !hasProblem(probs, tt.prefix, tt.substr) {
			t.Errorf("ParseTOML+Compile(%q) problems =\n%s\nwant one starting %q containing %q", tt.src, strings.Join(problemStrings(probs), "\n"), tt.prefix, tt.substr)
		}
	}
}

func TestTOMLPositionsSkipMultilineStrings(t *testing.T) {
	src := "[[vrrp_script]]\nname = \"s\"\nscript = \"\"\"\nfoo = 1\n[[virtual_server]]\n\"\"\"\n  bogus = 2\n"
	_, probs := ParseTOML("t.toml", []byte(src))
	if !hasProblem(probs, "t.toml:7:3: error:", "unknown key 'bogus' in [vrrp_script]") {
		t.Errorf("ParseTOML(%q) problems = %q, want bogus at 7:3 (lines inside the multi-line string are not keys)", src, problemStrings(probs))
	}
}

func TestTOMLBadPointerValueLeavesFieldUnset(t *testing.T) {
	cfg, probs := ParseTOML("t.toml", []byte("[[virtual_server]]\naddress = \"10.0.0.1\"\n[[virtual_server.real_server]]\naddress = \"10.0.0.2\"\nweight = \"x\"\n"))
	if len(probs) != 1 {
		t.Errorf("ParseTOML problems = %q, want one", problemStrings(probs))
	}
	if w := cfg.VirtualServers[0].RealServers[0].Weight; w != nil {
		t.Errorf("weight after a bad value = %d, want unset", *w)
	}
}

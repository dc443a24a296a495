package conf

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompileValidation(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		prefix string
		substr string
	}{
		{"real server family", `virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 2001:db8::1 80 {
  }
}`, "main.conf:3:3: error:", "different address family is allowed only for tunnelled"},
		{"DR port must equal the service port", `virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind DR
  real_server 10.0.0.2 8080 {
  }
}`, "main.conf:4:3: warning:", "DR cannot map port 80 to 8080"},
		{"thresholds", `virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 10.0.0.2 80 {
    uthreshold 10
    lthreshold 20
  }
}`, "main.conf:5:5: error:", "lthreshold 20 is above uthreshold 10"},
		{"persistence granularity", `virtual_server 10.0.0.1 80 {
  protocol TCP
  persistence_granularity 64
}`, "main.conf:3:3: error:", "persistence_granularity /64 is too long for inet"},
		{"bad netmask", `virtual_server 10.0.0.1 80 {
  persistence_granularity 255.0.255.0
}`, "main.conf:2:27: error:", "bad netmask"},
		{"scheduler flag needs its scheduler", `virtual_server 10.0.0.1 80 {
  protocol TCP
  lvs_sched rr
  mh-port
}`, "main.conf:4:3: error:", "mh-port is only valid with scheduler mh"},
		{"gue needs a port", `virtual_server 10.0.0.1 80 {
  protocol TCP
  lvs_method TUN type gue
}`, "main.conf:3:3: error:", "tunnel type gue needs a port"},
		{"tunnel options need TUN", `virtual_server 10.0.0.1 80 {
  protocol TCP
  lvs_method DR type gue
}`, "main.conf:3:17: error:", "only valid with TUN"},
		{"quorum capped", `virtual_server 10.0.0.1 80 {
  protocol TCP
  quorum 10
  hysteresis 3
  real_server 10.0.0.2 80 {
    weight 2
  }
}`, "main.conf:3:3: warning:", "quorum 10 is more than the total weight 2"},
		{"hysteresis below quorum", `virtual_server 10.0.0.1 80 {
  protocol TCP
  quorum 2
  hysteresis 5
}`, "main.conf:4:3: warning:", "hysteresis 5 must be below quorum 2"},
		{"missing group", `virtual_server group G {
  protocol TCP
}`, "main.conf:1:1: error:", "no such virtual_server_group"},
		{"duplicate service", `virtual_server 10.0.0.1 80 {
  protocol TCP
}
virtual_server 10.0.0.1 80 {
  protocol TCP
}`, "main.conf:4:1: error:", "defined twice"},
		{"duplicate real server", `virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 10.0.0.2 80 {
  }
  real_server 10.0.0.2 80 {
  }
}`, "main.conf:5:3: warning:", "defined twice"},
		{"http check needs a url", `virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 10.0.0.2 80 {
    HTTP_GET {
    }
  }
}`, "main.conf:4:5: error:", "HTTP_GET needs at least one url"},
		{"ops only for UDP", `virtual_server 10.0.0.1 80 {
  protocol TCP
  ops
}`, "main.conf:3:3: warning:", "one-packet scheduling is only for UDP"},
		{"vrid required", `vrrp_instance V {
  interface eth0
}`, "main.conf:1:1: error:", "virtual_router_id is required"},
		{"duplicate vrid", `vrrp_instance V {
  interface eth0
  virtual_router_id 9
  virtual_ipaddress { 10.0.0.1 }
}
vrrp_instance W {
  interface eth0
  virtual_router_id 9
  virtual_ipaddress { 10.0.0.2 }
}`, "main.conf:8:3: error:", "virtual_router_id 9 is already used by V"},
		{"mixed VIP families", `vrrp_instance V {
  interface eth0
  virtual_router_id 9
  virtual_ipaddress {
    10.0.0.1
    2001:db8::1
  }
}`, "main.conf:6:5: error:", "must be the same family"},
		{"sync group member in two groups", `vrrp_sync_group A {
  group { V }
}
vrrp_sync_group B {
  group { V }
}
vrrp_instance V {
  interface eth0
  virtual_router_id 9
  virtual_ipaddress { 10.0.0.1 }
}`, "main.conf:4:1: error:", "already in sync group A"},
		{"nopreempt ignored for MASTER", `vrrp_instance V {
  state MASTER
  nopreempt
  interface eth0
  virtual_router_id 9
  virtual_ipaddress { 10.0.0.1 }
}`, "main.conf:3:3: warning:", "nopreempt is ignored"},
		{"sync daemon instance must exist", `global_defs {
  lvs_sync_daemon eth0 VI_9
}`, "main.conf:2:3: error:", "vrrp_instance VI_9 does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := loadMap(map[string]string{"main.conf": tt.src}, "x")
			if !hasProblem(probs, tt.prefix, tt.substr) {
				t.Errorf("Load(%q) problems =\n%s\nwant one starting %q containing %q", tt.src, strings.Join(problemStrings(probs), "\n"), tt.prefix, tt.substr)
			}
		})
	}
}

func TestCompilePorts(t *testing.T) {
	src := `virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind DR
  real_server 10.0.0.2 {
  }
  real_server 10.0.0.3 8080 {
    lb_kind NAT
  }
}
virtual_server fwmark 5 {
  lb_kind DR
  real_server 10.0.0.4 80 {
  }
}
virtual_server 10.0.0.9 0 {
  protocol UDP
}
`
	cfg, _ := loadMap(map[string]string{"main.conf": src}, "x")
	rs := cfg.VirtualServers[0].RealServers
	if rs[0].Port != 80 || rs[1].Port != 8080 {
		t.Errorf("ports = %d, %d; want 80 (the service port) and 8080 (NAT may map ports)", rs[0].Port, rs[1].Port)
	}
	if p := cfg.VirtualServers[1].RealServers[0].Port; p != 0 {
		t.Errorf("fwmark DR real server port = %d, want 0", p)
	}
	if vs := cfg.VirtualServers[1]; vs.Protocol != TCP || vs.IPFamily != IPv4 {
		t.Errorf("fwmark service = %v %v, want TCP inet", vs.Protocol, vs.IPFamily)
	}
	if p := cfg.VirtualServers[2].PersistenceTimeout; p.Seconds() != 360 {
		t.Errorf("port 0 service persistence = %v, want 360s", p)
	}
}

func TestCompileIsIdempotent(t *testing.T) {
	src := `virtual_server 10.0.0.1 80 {
  real_server 10.0.0.2 80 {
    HTTP_GET { url { path / } }
  }
}
vrrp_instance V {
  interface eth0
  virtual_router_id 9
  virtual_ipaddress { 10.0.0.1 }
}
`
	cfg, _ := loadMap(map[string]string{"main.conf": src}, "x")
	first := string(cfg.Dump())
	Compile(cfg)
	if second := string(cfg.Dump()); first != second {
		t.Errorf("Compile(Compile(c)) != Compile(c) (-once +twice):\n%s", cmp.Diff(first, second))
	}
}

func TestGroupEntryAddrs(t *testing.T) {
	tests := []struct {
		entry   string
		want    []string
		wantErr bool
	}{
		{"10.0.0.1 80", []string{"10.0.0.1"}, false},
		{"10.0.0.1-3 80", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, false},
		{"ae00::2-4 80", []string{"ae00::2", "ae00::3", "ae00::4"}, false},
		{"10.0.0.4/30", []string{"10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"}, false},
		{"fwmark 3", nil, false},
		{"10.0.0.0/8 80", nil, true},
		{"2001:db8::/64", nil, true},
	}
	for _, tt := range tests {
		e, ps := parseVSGEntry(tokenize(Pos{"t", 1, 1}, tt.entry))
		if len(ps) != 0 {
			t.Fatalf("parseVSGEntry(%q) problems %q", tt.entry, problemStrings(ps))
		}
		got, err := e.Addrs()
		if (err != nil) != tt.wantErr {
			t.Errorf("Addrs(%q) error = %v, want error %v", tt.entry, err, tt.wantErr)
			continue
		}
		var gs []string
		for _, a := range got {
			gs = append(gs, a.String())
		}
		if !cmp.Equal(gs, tt.want) {
			t.Errorf("Addrs(%q) = %q, want %q", tt.entry, gs, tt.want)
		}
	}
}

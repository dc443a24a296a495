package director

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/uvslb/uvs/scheduler"
)

var (
	tDirMAC = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	tCliMAC = net.HardwareAddr{2, 0, 0, 0, 1, 0x10}
)

// writePcap writes frames (one per millisecond) to a classic pcap file.
func writePcap(t *testing.T, path string, frames [][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1_700_000_000, 0)
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
}

func tcpFrame(t *testing.T, src, dst netip.Addr, sport, dport uint16, syn bool) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), SYN: syn, ACK: !syn, Window: 1024}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: tCliMAC, DstMAC: tDirMAC, EthernetType: layers.EthernetTypeIPv4}, ip, tcp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeLoad mirrors what conntrack does for SYN-only connections: each
// scheduled connection is one more active connection of its real server.
type fakeLoad struct {
	c map[scheduler.DestID]*scheduler.Counters
}

func (f *fakeLoad) Counters(id scheduler.DestID) *scheduler.Counters {
	if f.c[id] == nil {
		f.c[id] = new(scheduler.Counters)
	}
	return f.c[id]
}

// TestReplaySpread: a capture of SYNs from many clients spreads over the
// real servers exactly as the scheduler package predicts when fed the same
// list (file order A, B, C, so kernel order C, B, A) and the same load.
func TestReplaySpread(t *testing.T) {
	reals := []struct {
		addr   string
		weight int
	}{{"192.0.2.21", 1}, {"192.0.2.22", 2}, {"192.0.2.23", 3}}
	vipA := netip.MustParseAddr("198.51.100.100")
	const clients = 60
	var frames [][]byte
	var srcs []netip.Addr
	for i := 0; i < clients; i++ {
		src := netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + i*4)})
		srcs = append(srcs, src)
		frames = append(frames, tcpFrame(t, src, vipA, uint16(30000+i), 80, true))
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	writePcap(t, in, frames)
	for _, sched := range []string{"rr", "wrr", "wlc", "lc", "sh", "mh", "dh", "sed", "nq", "fo"} {
		t.Run(sched, func(t *testing.T) {
			var cfg strings.Builder
			fmt.Fprintf(&cfg, "virtual_server %s 80 {\n  lb_algo %s\n  lb_kind NAT\n  protocol TCP\n", vipA, sched)
			for _, r := range reals {
				fmt.Fprintf(&cfg, "  real_server %s 8080 {\n    weight %d\n  }\n", r.addr, r.weight)
			}
			cfg.WriteString("}\n")
			cpath := filepath.Join(dir, sched+".conf")
			if err := os.WriteFile(cpath, []byte(cfg.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			var trace bytes.Buffer
			neigh := []Neighbour{}
			for i, r := range reals {
				neigh = append(neigh, Neighbour{IP: netip.MustParseAddr(r.addr), MAC: [6]byte{2, 0, 0, 0, 2, byte(0x21 + i)}})
			}
			res, err := Replay(ReplayOptions{Config: cpath, In: in, Out: filepath.Join(dir, sched+".out.pcap"), TraceW: &trace, Neighbours: neigh})
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			if res.In != clients || res.Out != clients {
				t.Fatalf("Replay: %d in, %d out; want %d, %d", res.In, res.Out, clients, clients)
			}
			// The prediction: the scheduler alone, list built in file order.
			load := &fakeLoad{c: map[scheduler.DestID]*scheduler.Counters{}}
			s, err := scheduler.New(sched, 0, load, scheduler.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var l scheduler.List
			for i, r := range reals {
				if err := l.Add(scheduler.Dest{ID: scheduler.DestID(i + 1), Addr: netip.MustParseAddr(r.addr), Port: 8080, Weight: int32(r.weight)}); err != nil {
					t.Fatal(err)
				}
				if err := s.Update(l.Dests()); err != nil {
					t.Fatal(err)
				}
			}
			sc := bufio.NewScanner(&trace)
			i := 0
			count := map[string]int{}
			for sc.Scan() {
				var rec traceRecord
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("trace line %d: %v", i+1, err)
				}
				d, ok := s.Pick(&scheduler.Input{Src: srcs[i], Dst: vipA, SrcPort: uint16(30000 + i), Now: int64(i)})
				if !ok {
					t.Fatalf("prediction %d: no real server", i)
				}
				load.Counters(d.ID).Active.Add(1)
				want := netip.AddrPortFrom(d.Addr, 8080).String()
				if rec.Dest == nil || *rec.Dest != want || rec.Action != "nat" || rec.Conn != "new" {
					t.Fatalf("frame %d: dest %v action %s conn %s; scheduler predicts %s", i+1, rec.Dest, rec.Action, rec.Conn, want)
				}
				if i == 0 && (sched == "rr" || sched == "wrr") && want != "192.0.2.23:8080" {
					t.Fatalf("first %s pick %s: the real server added last (192.0.2.23) heads the kernel list and must come first", sched, want)
				}
				count[want]++
				i++
			}
			if i != clients {
				t.Fatalf("trace has %d records, want %d", i, clients)
			}
			t.Logf("%s spread: %v", sched, count)
		})
	}
}

// TestReplayDownAndSorry: with --down for every real server the sorry
// server takes the connections; with no sorry server the client gets ICMP
// port unreachable.
func TestReplayDownAndSorry(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	vipA := netip.MustParseAddr("198.51.100.100")
	writePcap(t, in, [][]byte{tcpFrame(t, netip.MustParseAddr("203.0.113.7"), vipA, 40000, 80, true)})
	neigh := []Neighbour{{IP: netip.MustParseAddr("192.0.2.99"), MAC: [6]byte{2, 0, 0, 0, 2, 0x99}}}
	down := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.21:80"), netip.MustParseAddrPort("192.0.2.22:80")}
	for _, tc := range []struct {
		sorry      string
		action     string
		dest, outs string
	}{
		{"  sorry_server 192.0.2.99 80\n", "nat", "192.0.2.99:80", "TCP 203.0.113.7:40000 > 192.0.2.99:80"},
		{"", "icmp", "", "port unreachable"},
	} {
		cfg := "virtual_server 198.51.100.100 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n" + tc.sorry +
			"  real_server 192.0.2.21 80 {\n    weight 1\n  }\n  real_server 192.0.2.22 80 {\n    weight 1\n  }\n}\n"
		cpath := filepath.Join(dir, "k.conf")
		if err := os.WriteFile(cpath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		var trace bytes.Buffer
		if _, err := Replay(ReplayOptions{Config: cpath, In: in, Out: filepath.Join(dir, "out.pcap"), TraceW: &trace, Neighbours: neigh, Down: down, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}); err != nil {
			t.Fatal(err)
		}
		var rec traceRecord
		if err := json.Unmarshal(bytes.TrimSpace(trace.Bytes()), &rec); err != nil {
			t.Fatalf("trace %q: %v", trace.String(), err)
		}
		dest := ""
		if rec.Dest != nil {
			dest = *rec.Dest
		}
		if rec.Action != tc.action || dest != tc.dest || rec.Out == nil || !strings.Contains(*rec.Out, tc.outs) {
			t.Errorf("sorry %q: action %s dest %q out %v; want %s %q containing %q", tc.sorry, rec.Action, dest, rec.Out, tc.action, tc.dest, tc.outs)
		}
	}
}

package header

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/uvslb/uvs/internal/link"
)

// fusedOp is one fused rewrite and the sequence of single-field rewrites
// it must equal.
type fusedOp struct {
	name     string
	ttl      bool
	fused    func(p *Parsed, f []byte, a netip.Addr, port uint16) (ok, expired bool)
	separate func(p *Parsed, f []byte, a netip.Addr, port uint16) (ok, expired bool)
}

var fusedOps = []fusedOp{
	{"NATDst", false,
		func(p *Parsed, f []byte, a netip.Addr, port uint16) (bool, bool) { return p.NATDst(f, a, port), false },
		func(p *Parsed, f []byte, a netip.Addr, port uint16) (bool, bool) {
			return p.SetDstAddr(f, a) && p.SetDstPort(f, port), false
		}},
	{"NATSrc", false,
		func(p *Parsed, f []byte, a netip.Addr, port uint16) (bool, bool) { return p.NATSrc(f, a, port), false },
		func(p *Parsed, f []byte, a netip.Addr, port uint16) (bool, bool) {
			return p.SetSrcAddr(f, a) && p.SetSrcPort(f, port), false
		}},
	{"ForwardNATDst", true,
		func(p *Parsed, f []byte, a netip.Addr, port uint16) (bool, bool) { return p.ForwardNATDst(f, a, port) },
		func(p *Parsed, f []byte, a netip.Addr, port uint16) (bool, bool) {
			if !p.DecrementTTL(f) {
				return false, true
			}
			return p.SetDstAddr(f, a) && p.SetDstPort(f, port), false
		}},
	{"ForwardNATSrc", true,
		func(p *Parsed, f []byte, a netip.Addr, port uint16) (bool, bool) { return p.ForwardNATSrc(f, a, port) },
		func(p *Parsed, f []byte, a netip.Addr, port uint16) (bool, bool) {
			if !p.DecrementTTL(f) {
				return false, true
			}
			return p.SetSrcAddr(f, a) && p.SetSrcPort(f, port), false
		}},
}

// checkFused applies op both ways to copies of frame and fails t unless
// the results agree: same verdict, byte-identical frames, same Parsed. A
// refused fused call must leave the frame and p unchanged.
func checkFused(t *testing.T, frame []byte, op fusedOp, a netip.Addr, port uint16) {
	t.Helper()
	var p, q Parsed
	if r := p.Decode(frame, link.Ethernet); r != OK {
		t.Fatalf("Decode = %v", r)
	}
	q = p
	fs := append([]byte(nil), frame...)
	ff := append([]byte(nil), frame...)
	sok, sexp := op.separate(&p, fs, a, port)
	fok, fexp := op.fused(&q, ff, a, port)
	if sok != fok || sexp != fexp {
		t.Fatalf("%s(%v, %d) = %v, %v; separate calls give %v, %v\nframe %x", op.name, a, port, fok, fexp, sok, sexp, frame)
	}
	if !fok {
		var orig Parsed
		orig.Decode(frame, link.Ethernet)
		if string(ff) != string(frame) || q != orig {
			t.Fatalf("%s(%v, %d) = false but changed the frame or Parsed\nframe %x", op.name, a, port, frame)
		}
		return
	}
	if string(fs) != string(ff) {
		t.Fatalf("%s(%v, %d) frame differs from the separate calls\nin       %x\nseparate %x\nfused    %x", op.name, a, port, frame, fs, ff)
	}
	if p != q {
		t.Fatalf("%s(%v, %d) Parsed differs from the separate calls:\nseparate %+v\nfused    %+v", op.name, a, port, p, q)
	}
}

// randFrame builds a random TCP or UDP frame with gopacket: IPv4 (some
// with options, some first fragments) or IPv6, an optional VLAN tag,
// random addresses, ports, TTL and payload, and on UDP/IPv4 sometimes no
// checksum. It reports false when Decode does not accept the result (a
// martian or LAND source).
func randFrame(t *testing.T, rng *rand.Rand) ([]byte, bool) {
	v6 := rng.IntN(3) == 0
	isUDP := rng.IntN(2) == 0
	randIP := func() net.IP {
		n := 4
		if v6 {
			n = 16
		}
		b := make(net.IP, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	ttl := uint8(rng.UintN(256))
	if rng.IntN(4) == 0 {
		ttl = uint8(rng.UintN(3)) // 0, 1, 2: the TTL edge
	}
	var ls []gopacket.SerializableLayer
	e := eth(layers.EthernetTypeIPv4)
	if v6 {
		e.EthernetType = layers.EthernetTypeIPv6
	}
	if rng.IntN(4) == 0 {
		ls = append(ls, &layers.Ethernet{SrcMAC: e.SrcMAC, DstMAC: e.DstMAC, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: uint16(rng.UintN(4095)), Type: e.EthernetType})
	} else {
		ls = append(ls, e)
	}
	proto := layers.IPProtocolTCP
	if isUDP {
		proto = layers.IPProtocolUDP
	}
	if v6 {
		ls = append(ls, &layers.IPv6{Version: 6, HopLimit: ttl, NextHeader: proto, SrcIP: randIP(), DstIP: randIP(),
			FlowLabel: rng.Uint32() & 0xFFFFF})
	} else {
		h := &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, TOS: uint8(rng.UintN(256)), Id: uint16(rng.UintN(65536)),
			Protocol: proto, SrcIP: randIP(), DstIP: randIP()}
		if rng.IntN(5) == 0 {
			h.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		if rng.IntN(6) == 0 {
			h.Flags = layers.IPv4MoreFragments // a first fragment
		}
		ls = append(ls, h)
	}
	sp, dp := uint16(rng.UintN(65536)), uint16(rng.UintN(65536))
	if isUDP {
		ls = append(ls, udp(sp, dp))
	} else {
		ls = append(ls, &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp),
			Seq: rng.Uint32(), Ack: rng.Uint32(), ACK: true, PSH: rng.IntN(2) == 0, Window: uint16(rng.UintN(65536))})
	}
	pl := make([]byte, rng.IntN(80))
	for i := range pl {
		pl[i] = byte(rng.UintN(256))
	}
	ls = append(ls, gopacket.Payload(pl))
	f := serialize(t, ls...)
	var p Parsed
	if p.Decode(f, link.Ethernet) != OK {
		return nil, false
	}
	if isUDP && !v6 && rng.IntN(3) == 0 {
		binary.BigEndian.PutUint16(f[p.L4Off+udpCsum:], 0) // "no checksum"
	}
	return f, true
}

// TestFusedNATMatchesSeparate is the property behind the fused rewrites:
// on random packets each one leaves the same bytes and Parsed as the
// single-field rewrites it replaces.
func TestFusedNATMatchesSeparate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 4000
	if testing.Short() {
		n = 500
	}
	for done := 0; done < n; {
		f, ok := randFrame(t, rng)
		if !ok {
			continue
		}
		done++
		var p Parsed
		p.Decode(f, link.Ethernet)
		for _, op := range fusedOps {
			b := make([]byte, 16)
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			a := netip.AddrFrom16([16]byte(b))
			switch {
			case rng.IntN(20) == 0: // the other family: refused
			case p.IPVersion == 4:
				a = netip.AddrFrom4([4]byte(b[:4]))
			}
			if rng.IntN(10) == 0 { // no change at all
				a = p.Dst
			}
			port := uint16(rng.UintN(65536))
			checkFused(t, f, op, a, port)
		}
	}
}

// TestFusedNATEveryPort runs every destination and source port through
// the fused and separate rewrites of UDP frames, so each lands on the
// ports whose new checksum is computed as 0 and sent as 0xFFFF (RFC 768),
// with and without a checksum in the original.
func TestFusedNATEveryPort(t *testing.T) {
	none := udp4Frame(t, 5)
	none[EthHdrLen+IPv4MinLen+udpCsum], none[EthHdrLen+IPv4MinLen+udpCsum+1] = 0, 0
	for _, tc := range []struct {
		name  string
		frame []byte
		a     netip.Addr
	}{
		{"udp4", udp4Frame(t, 5), addr(rs4)},
		{"udp4 no checksum", none, addr(rs4)},
		{"udp6", udp6Frame(t, 4), addr(rs6)},
		{"tcp4", tcp4Frame(t, 3), addr(rs4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for port := range 1 << 16 {
				op := fusedOps[port%len(fusedOps)]
				checkFused(t, tc.frame, op, tc.a, uint16(port))
				if port%len(fusedOps) == 0 {
					checkFused(t, tc.frame, fusedOps[1], tc.a, uint16(port))
				}
			}
		})
	}
}

// TestFusedNATRefusals checks the fused rewrites refuse what the separate
// ones refuse, changing nothing: SCTP ports, no ports, the other family,
// an expired TTL, ARP.
func TestFusedNATRefusals(t *testing.T) {
	sctp := serialize(t, eth(layers.EthernetTypeIPv4), ipv4(cli4, vip4, layers.IPProtocolSCTP),
		&layers.SCTP{SrcPort: 1, DstPort: 2}, payload(4))
	icmp := icmp4ErrFrame(t)
	ttl1 := tcp4Frame(t, 0)
	ttl1[EthHdrLen+v4TTL] = 1
	fixIPv4Csum(ttl1, EthHdrLen)
	for _, tc := range []struct {
		name  string
		frame []byte
		a     netip.Addr
	}{
		{"sctp", sctp, addr(rs4)},
		{"icmp", icmp, addr(rs4)},
		{"other family", tcp4Frame(t, 0), addr(rs6)},
		{"ttl 1", ttl1, addr(rs4)},
		{"arp", arpFrame(t, 1), addr(rs4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range fusedOps {
				var p Parsed
				if r := p.Decode(tc.frame, link.Ethernet); r != OK {
					t.Fatalf("Decode = %v", r)
				}
				f := append([]byte(nil), tc.frame...)
				before := p
				ok, expired := op.fused(&p, f, tc.a, 8080)
				wantExpired := op.ttl && tc.name == "ttl 1"
				wantOK := !op.ttl && tc.name == "ttl 1" // only the TTL is at its limit
				if ok != wantOK || expired != wantExpired {
					t.Errorf("%s(%v, 8080) = %v, %v; want %v, %v", op.name, tc.a, ok, expired, wantOK, wantExpired)
				}
				if !ok && (string(f) != string(tc.frame) || p != before) {
					t.Errorf("%s(%v, 8080) refused but changed the frame or Parsed", op.name, tc.a)
				}
				if tc.name != "arp" {
					checkFused(t, tc.frame, op, tc.a, 8080)
				}
			}
		})
	}
}

func TestFusedNATAllocs(t *testing.T) {
	f4 := tcp4Frame(t, 100)
	f6 := udp6Frame(t, 100)
	var p Parsed
	rs4a, rs6a := addr(rs4), addr(rs6)
	n := testing.AllocsPerRun(100, func() {
		p.Decode(f4, link.Ethernet)
		p.NATDst(f4, rs4a, 8080)
		p.Decode(f4, link.Ethernet)
		p.ForwardNATSrc(f4, rs4a, 80)
		p.Decode(f6, link.Ethernet)
		p.ForwardNATDst(f6, rs6a, 8080)
		p.Decode(f6, link.Ethernet)
		p.NATSrc(f6, rs6a, 1)
	})
	if n != 0 {
		t.Errorf("fused NAT allocs = %v, want 0", n)
	}
}

// refSetAddr is SetSrcAddr/SetDstAddr as first written, with Update32 and
// UpdateAddr on netip.Addrs: the reference for the word arithmetic of
// putAddr4 and putAddr6.
func refSetAddr(p *Parsed, frame []byte, a netip.Addr, dst bool) bool {
	if !p.sameFamily(a) {
		return false
	}
	off4, off6, old := v4Src, v6Src, p.Src
	if dst {
		off4, off6, old = v4Dst, v6Dst, p.Dst
		p.Dst = a
	} else {
		p.Src = a
	}
	ip := frame[p.L3Off:]
	if p.IPVersion == 4 {
		n := a.As4()
		copy(ip[off4:off4+4], n[:])
		binary.BigEndian.PutUint16(ip[v4Csum:], Update32(be16(ip[v4Csum:]), old.As4(), n))
	} else {
		n := a.As16()
		copy(ip[off6:off6+16], n[:])
	}
	if p.FragOff != 0 {
		return true
	}
	upd := func(at int) {
		c := frame[p.L4Off+at:]
		v := UpdateAddr(be16(c), old, a)
		if v == 0 && p.Proto == ProtoUDP {
			v = 0xFFFF
		}
		binary.BigEndian.PutUint16(c, v)
	}
	switch p.Proto {
	case ProtoTCP:
		upd(tcpCsum)
	case ProtoUDP:
		if p.udpNone(frame) {
			p.fullUDP(frame)
			return true
		}
		upd(udpCsum)
	case ProtoICMPv6:
		if p.IPVersion == 6 {
			upd(icmpCsum)
		}
	}
	return true
}

// TestSetAddrMatchesReference checks SetSrcAddr and SetDstAddr against
// refSetAddr on random TCP/UDP frames and on ICMP errors.
func TestSetAddrMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	frames := [][]byte{icmp4ErrFrame(t), icmp6ErrFrame(t), nsFrame(t)}
	for len(frames) < 3000 {
		if f, ok := randFrame(t, rng); ok {
			frames = append(frames, f)
		}
	}
	for _, f := range frames {
		var p Parsed
		if r := p.Decode(f, link.Ethernet); r != OK {
			t.Fatalf("Decode = %v", r)
		}
		for _, dst := range []bool{false, true} {
			b := make([]byte, 16)
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			a := netip.AddrFrom16([16]byte(b))
			if p.IPVersion == 4 && rng.IntN(20) != 0 {
				a = netip.AddrFrom4([4]byte(b[:4]))
			}
			q, r := p, p
			fq := append([]byte(nil), f...)
			fr := append([]byte(nil), f...)
			var got bool
			if dst {
				got = q.SetDstAddr(fq, a)
			} else {
				got = q.SetSrcAddr(fq, a)
			}
			want := refSetAddr(&r, fr, a, dst)
			if got != want || string(fq) != string(fr) || q != r {
				t.Fatalf("Set(dst=%v)Addr(%v) = %v, reference %v\nin   %x\ngot  %x\nwant %x", dst, a, got, want, f, fq, fr)
			}
		}
	}
}

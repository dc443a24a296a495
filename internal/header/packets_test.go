package header

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Test packets are built with gopacket (tests only; the hot path never
// uses it) so the decoder is checked against an independent encoder.

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
)

const (
	cli4 = "192.0.2.10"
	vip4 = "198.51.100.1"
	rs4  = "10.0.0.5"
	cli6 = "2001:db8::10"
	vip6 = "2001:db8:1::1"
	rs6  = "fd00::5"
)

func ip(s string) net.IP { return net.ParseIP(s) }

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for _, l := range ls {
		if c, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			for _, n := range ls {
				if nl, ok := n.(gopacket.NetworkLayer); ok {
					if err := c.SetNetworkLayerForChecksum(nl); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatalf("SerializeLayers: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(typ layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: typ}
}

func ipv4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, TOS: 0x10, Id: 7, Flags: layers.IPv4DontFragment,
		Protocol: proto, SrcIP: ip(src).To4(), DstIP: ip(dst).To4()}
}

func ipv6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, TrafficClass: 0x20, NextHeader: next,
		SrcIP: ip(src), DstIP: ip(dst)}
}

func tcp(sport, dport uint16, syn, ack bool) *layers.TCP {
	return &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport),
		Seq: 1000, Ack: 5, SYN: syn, ACK: ack, Window: 65535}
}

func udp(sport, dport uint16) *layers.UDP {
	return &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
}

func payload(n int) gopacket.Payload {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// tcp4Frame is an Ethernet TCP/IPv4 SYN client → VIP:80 with payload n.
func tcp4Frame(t testing.TB, n int) []byte {
	return serialize(t, eth(layers.EthernetTypeIPv4), ipv4(cli4, vip4, layers.IPProtocolTCP),
		tcp(40000, 80, true, false), payload(n))
}

func udp4Frame(t testing.TB, n int) []byte {
	return serialize(t, eth(layers.EthernetTypeIPv4), ipv4(cli4, vip4, layers.IPProtocolUDP),
		udp(40000, 7000), payload(n))
}

func tcp6Frame(t testing.TB, n int) []byte {
	return serialize(t, eth(layers.EthernetTypeIPv6), ipv6(cli6, vip6, layers.IPProtocolTCP),
		tcp(40000, 443, false, true), payload(n))
}

func udp6Frame(t testing.TB, n int) []byte {
	return serialize(t, eth(layers.EthernetTypeIPv6), ipv6(cli6, vip6, layers.IPProtocolUDP),
		udp(40000, 7000), payload(n))
}

// icmp4ErrFrame is a port unreachable from a client about a UDP packet
// VIP:53 → client:40000 (what a client sends back to the director).
func icmp4ErrFrame(t testing.TB) []byte {
	quoted := serialize(t, ipv4(vip4, cli4, layers.IPProtocolUDP), udp(53, 40000), payload(20))
	return serialize(t, eth(layers.EthernetTypeIPv4), ipv4(cli4, vip4, layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(quoted))
}

// icmp6ErrFrame is a packet too big from a router about TCP VIP:443 →
// client:40000.
func icmp6ErrFrame(t testing.TB) []byte {
	quoted := serialize(t, ipv6(vip6, cli6, layers.IPProtocolTCP), tcp(443, 40000, false, true), payload(40))
	return serialize(t, eth(layers.EthernetTypeIPv6), ipv6("2001:db8:ff::1", vip6, layers.IPProtocolICMPv6),
		&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(2, 0)},
		gopacket.Payload(append([]byte{0, 0, 0x05, 0xdc}, quoted...)))
}

func arpFrame(t testing.TB, op uint16) []byte {
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: op, SourceHwAddress: macA, SourceProtAddress: ip(cli4).To4(),
			DstHwAddress: make([]byte, 6), DstProtAddress: ip(vip4).To4()})
}

func nsFrame(t testing.TB) []byte {
	i6 := ipv6(cli6, "ff02::1:ff00:1", layers.IPProtocolICMPv6)
	i6.HopLimit = 255
	return serialize(t, eth(layers.EthernetTypeIPv6), i6,
		&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(135, 0)},
		&layers.ICMPv6NeighborSolicitation{TargetAddress: ip(vip6),
			Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: macA}}})
}

// fixIPv4Csum recomputes the IPv4 header checksum at off after a test
// mutated the header.
func fixIPv4Csum(b []byte, off int) {
	ihl := int(b[off]&0xF) * 4
	b[off+10], b[off+11] = 0, 0
	binary.BigEndian.PutUint16(b[off+10:], Checksum(b[off:off+ihl]))
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// gopacketChecksums decodes frame with gopacket and returns an error for
// any decode failure or checksum mismatch it reports.
func gopacketChecksums(frame []byte, first gopacket.LayerType) error {
	pkt := gopacket.NewPacket(frame, first, gopacket.Default)
	// An application payload gopacket cannot parse (port 53 that is not
	// DNS) is not our concern once the transport layer decoded.
	if el := pkt.ErrorLayer(); el != nil && pkt.TransportLayer() == nil {
		return fmt.Errorf("gopacket decode: %v", el.Error())
	}
	// Each L4 layer's pseudo-header comes from the nearest IP layer before
	// it (the inner one in a tunnel).
	var nl gopacket.NetworkLayer
	for _, l := range pkt.Layers() {
		if n, ok := l.(gopacket.NetworkLayer); ok {
			nl = n
		}
		if c, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok && nl != nil {
			if err := c.SetNetworkLayerForChecksum(nl); err != nil {
				return err
			}
		}
	}
	err, bad := pkt.VerifyChecksums()
	if err != nil {
		return fmt.Errorf("gopacket VerifyChecksums: %v", err)
	}
	if len(bad) != 0 {
		return fmt.Errorf("gopacket VerifyChecksums: mismatches %+v", bad)
	}
	return nil
}

// verifyGopacket fails t unless gopacket decodes frame with valid checksums.
func verifyGopacket(t testing.TB, frame []byte, first gopacket.LayerType) {
	t.Helper()
	if err := gopacketChecksums(frame, first); err != nil {
		t.Fatal(err)
	}
}

func TestGopacketChecksumsCatchesCorruption(t *testing.T) {
	for _, f := range [][]byte{tcp4Frame(t, 10), udp6Frame(t, 10), icmp4ErrFrame(t), icmp6ErrFrame(t)} {
		if err := gopacketChecksums(f, layers.LayerTypeEthernet); err != nil {
			t.Fatalf("gopacketChecksums(good) = %v", err)
		}
		f[len(f)-1] ^= 0x55
		if err := gopacketChecksums(f, layers.LayerTypeEthernet); err == nil {
			t.Errorf("gopacketChecksums(corrupted %x) = nil, want a mismatch", f[:20])
		}
	}
}

package pkttest

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Verify decodes frame (of the given gopacket link type) with gopacket and
// fails the test unless every layer decodes and the IPv4 header, TCP, UDP,
// ICMPv4 and ICMPv6 checksums are correct. It returns the packet.
func Verify(t testing.TB, frame []byte, lt gopacket.Decoder) gopacket.Packet {
	t.Helper()
	pk := gopacket.NewPacket(frame, lt, gopacket.Default)
	if el := pk.ErrorLayer(); el != nil {
		t.Fatalf("frame does not decode: %v (%x)", el.Error(), frame)
	}
	var nl gopacket.NetworkLayer
	for _, l := range pk.Layers() {
		switch x := l.(type) {
		case *layers.IPv4:
			c := append([]byte(nil), x.Contents...)
			c[10], c[11] = 0, 0
			if got, want := x.Checksum, ipChecksum(c); got != want {
				t.Fatalf("IPv4 header checksum %#04x, want %#04x (%x)", got, want, frame)
			}
			nl = x
		case *layers.IPv6:
			nl = x
		case *layers.TCP:
			x.SetNetworkLayerForChecksum(nl)
		case *layers.UDP:
			x.SetNetworkLayerForChecksum(nl)
		case *layers.ICMPv6:
			x.SetNetworkLayerForChecksum(nl)
		}
		if v, ok := l.(interface {
			VerifyChecksum() (error, gopacket.ChecksumVerificationResult)
		}); ok {
			if err, res := v.VerifyChecksum(); err != nil || !res.Valid {
				t.Fatalf("%s checksum invalid (%v, %+v) in %x", l.LayerType(), err, res, frame)
			}
		}
	}
	return pk
}

// ipChecksum is the RFC 1071 checksum, written plainly (independent of
// internal/header's).
func ipChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

package pkttest

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// fakeT records failures instead of stopping the test.
type fakeT struct {
	testing.TB
	failed bool
}

// Verify only calls Helper and Fatalf; the embedded nil TB is never used.
func (f *fakeT) Helper()               {}
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic(f) }

func verifies(frame []byte) (ok bool) {
	f := &fakeT{}
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
		ok = !f.failed
	}()
	Verify(f, frame, layers.LayerTypeEthernet)
	return true
}

// TestVerifyCatchesCorruption: Verify accepts a good frame and rejects one
// with a corrupted TCP or IPv4 checksum.
func TestVerifyCatchesCorruption(t *testing.T) {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: []byte{192, 0, 2, 1}, DstIP: []byte{192, 0, 2, 2}}
	tcp := &layers.TCP{SrcPort: 1, DstPort: 2, SYN: true}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4}, ip, tcp)
	good := buf.Bytes()
	if !verifies(good) {
		t.Fatal("Verify rejected a correct frame")
	}
	for _, at := range []int{14 + 10, 14 + 20 + 16} { // IPv4 checksum, TCP checksum
		bad := append([]byte(nil), good...)
		bad[at] ^= 0x5a
		if verifies(bad) {
			t.Errorf("Verify accepted a frame with byte %d corrupted", at)
		}
	}
}

package link

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// DefaultMTU is the MTU pcap links report until SetMTU: Ethernet's.
const DefaultMTU = 1500

// DefaultSnaplen is the snap length NewPcapWriter uses for snaplen ≤ 0:
// tcpdump's default (MAXIMUM_SNAPLEN).
const DefaultSnaplen = 262144

// ErrReadOnly is returned by WriteBatch on a pcap reader link.
var ErrReadOnly = errors.New("link: pcap reader: link is read-only")

// ErrWriteOnly is returned by ReadBatch on a pcap writer link.
var ErrWriteOnly = errors.New("link: pcap writer: link is write-only")

// pcapngMagic is the pcapng Section Header Block type (pcapng §4.1); it
// reads the same in either byte order.
const pcapngMagic = 0x0A0D0D0A

// linkTypeRawOpenBSD is DLT_RAW's value on OpenBSD (12), found in old
// captures in place of LINKTYPE_RAW (101); pcap-linktype(7).
const linkTypeRawOpenBSD layers.LinkType = 12

// typeOf maps a pcap LINKTYPE_ to a link.Type.
func typeOf(lt layers.LinkType) (Type, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return Ethernet, true
	case layers.LinkTypeRaw, linkTypeRawOpenBSD, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return RawIP, true
	}
	return 0, false
}

type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// PcapReader is a read-only link replaying a capture: classic pcap
// (microsecond or nanosecond, either byte order, optionally gzipped) or
// pcapng. Frames are read with pcapgo's zero-copy reader (no allocation
// per frame) and copied once into the caller's buffers at Headroom, since
// the dataplane needs headroom in front of each frame. It is not safe for
// concurrent use.
type PcapReader struct {
	src     packetSource
	typ     Type
	mtu     int
	records int   // records read so far
	pending error // error met after the last batch's frames; returned next
	closed  bool
}

var _ Link = (*PcapReader)(nil)

// OpenPcapReader reads the capture header from r and returns a link over
// its frames. Link types Ethernet (1) and raw IP (101, 12, 228, 229) are
// supported; anything else is an error. In pcapng, a record from an
// interface whose link type differs from the first interface's is a read
// error (even 228 after 229, both raw IP).
func OpenPcapReader(r io.Reader) (*PcapReader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("link: pcap: reading file header: %w", noEOF(err))
	}
	p := &PcapReader{mtu: DefaultMTU}
	var lt layers.LinkType
	if binary.LittleEndian.Uint32(magic) == pcapngMagic {
		// A record from an interface whose link type differs from the
		// first interface's is an error, not silently skipped (libpcap's
		// behaviour): a replay must account for every input frame.
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{ErrorOnMismatchingLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("link: pcapng: %w", noEOF(err))
		}
		p.src, lt = ng, ng.LinkType()
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("link: pcap: %w", noEOF(err))
		}
		p.src, lt = pr, pr.LinkType()
	}
	t, ok := typeOf(lt)
	if !ok {
		return nil, fmt.Errorf("link: pcap: link type %d (%v) not supported (want Ethernet 1 or raw IP 101)", uint32(lt), lt)
	}
	p.typ = t
	return p, nil
}

// noEOF turns an io.EOF in the middle of a header into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadBatch fills up to b.Cap() of b's own buffers with the next frames at
// Headroom (a frame longer than the buffer is cut to it; the decoder then
// sees a bad length) and sets b.N. Meta.Time is the capture timestamp in
// nanoseconds. At the end of the capture it returns io.EOF with b.N == 0; a
// damaged capture (truncated record, bad block) gives an error naming the
// record after the frames before it were returned.
func (p *PcapReader) ReadBatch(b *Batch) error {
	b.N = 0
	if p.closed {
		return ErrClosed
	}
	if p.pending != nil {
		return p.pending
	}
	for b.N < b.Cap() {
		data, ci, err := p.src.ZeroCopyReadPacketData()
		if err != nil {
			if err == io.EOF {
				p.pending = io.EOF
			} else {
				p.pending = fmt.Errorf("link: pcap record %d: %w", p.records+1, noEOF(err))
			}
			if b.N == 0 {
				return p.pending
			}
			return nil
		}
		p.records++
		i := b.N
		off := Headroom
		if len(b.Bufs[i]) < Headroom+len(data) {
			off = max(0, len(b.Bufs[i])-len(data))
		}
		b.Off[i] = off
		b.Len[i] = copy(b.Bufs[i][off:], data)
		b.Meta[i] = Meta{Time: ci.Timestamp.UnixNano()}
		b.N++
	}
	return nil
}

// WriteBatch returns ErrReadOnly.
func (p *PcapReader) WriteBatch(*Batch) (int, error) { return 0, ErrReadOnly }

// Type returns the capture's kind of frames.
func (p *PcapReader) Type() Type { return p.typ }

// MTU returns DefaultMTU or the value given to SetMTU.
func (p *PcapReader) MTU() int { return p.mtu }

// SetMTU sets the MTU the link reports; call it before use.
func (p *PcapReader) SetMTU(mtu int) { p.mtu = mtu }

// Close makes later reads return ErrClosed. It does not close the
// io.Reader, which the caller owns.
func (p *PcapReader) Close() error {
	p.closed = true
	return nil
}

// PcapWriter is a write-only link recording frames as a classic pcap file.
// It writes microsecond-resolution classic pcap (magic 0xa1b2c3d4,
// little-endian, version 2.4): the format every tool reads (tcpdump,
// Wireshark, scapy, old libpcap). Timestamps come from Meta.Time, truncated
// to microseconds, so the same frames and times always give the same bytes.
// It is safe for concurrent use.
type PcapWriter struct {
	mu      sync.Mutex
	w       *pcapgo.Writer // guarded by mu
	closed  bool           // guarded by mu
	typ     Type
	snaplen int
	mtu     int
}

var _ Link = (*PcapWriter)(nil)

// NewPcapWriter writes a classic pcap file header for frames of type typ
// (LINKTYPE_ETHERNET 1 or LINKTYPE_RAW 101) and snap length snaplen
// (DefaultSnaplen when ≤ 0) to w, and returns a link writing frames to w.
// Frames longer than snaplen are recorded cut to it, with their original
// length. The caller owns w: buffer, flush and close it as needed.
func NewPcapWriter(w io.Writer, typ Type, snaplen int) (*PcapWriter, error) {
	var lt layers.LinkType
	switch typ {
	case Ethernet:
		lt = layers.LinkTypeEthernet
	case RawIP:
		lt = layers.LinkTypeRaw
	default:
		return nil, fmt.Errorf("link: pcap writer: invalid link type %v", typ)
	}
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(uint32(snaplen), lt); err != nil {
		return nil, fmt.Errorf("link: pcap writer: %w", err)
	}
	return &PcapWriter{w: pw, typ: typ, snaplen: snaplen, mtu: DefaultMTU}, nil
}

// WriteBatch records b's N frames, stamped with b.Meta[i].Time, and
// returns how many were written before any error from the io.Writer.
func (p *PcapWriter) WriteBatch(b *Batch) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	for i := 0; i < b.N; i++ {
		f := b.Frame(i)
		c := min(len(f), p.snaplen)
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, b.Meta[i].Time), CaptureLength: c, Length: len(f)}
		if err := p.w.WritePacket(ci, f[:c]); err != nil {
			return i, fmt.Errorf("link: pcap writer: %w", err)
		}
	}
	return b.N, nil
}

// ReadBatch returns ErrWriteOnly.
func (p *PcapWriter) ReadBatch(b *Batch) error {
	b.N = 0
	return ErrWriteOnly
}

// Type returns the link type given to NewPcapWriter.
func (p *PcapWriter) Type() Type { return p.typ }

// MTU returns DefaultMTU or the value given to SetMTU.
func (p *PcapWriter) MTU() int { return p.mtu }

// SetMTU sets the MTU the link reports; call it before use.
func (p *PcapWriter) SetMTU(mtu int) { p.mtu = mtu }

// Close makes later writes return ErrClosed. It does not close the
// io.Writer, which the caller owns.
func (p *PcapWriter) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return nil
}

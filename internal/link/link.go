package link

import "errors"

// Headroom is the space a link leaves in front of every received frame so
// the dataplane can prepend an outer header (IPIP: 20 bytes, IPv6-in-IPv6:
// 40, plus a possible Ethernet header change) in place, without a copy.
const Headroom = 128

// MaxFrame is the largest frame a link hands out or accepts (a 9000-byte
// jumbo payload plus Ethernet and one 802.1Q tag, rounded up).
const MaxFrame = 9216

// Type is the kind of frames a link carries.
type Type uint8

const (
	_ Type = iota
	// Ethernet frames (LINKTYPE_ETHERNET 1): AF_PACKET, veth, most pcaps.
	Ethernet
	// RawIP packets with no link header (LINKTYPE_RAW 101): TUN devices.
	RawIP
)

// String returns the link type's name.
func (t Type) String() string {
	switch t {
	case Ethernet:
		return "ethernet"
	case RawIP:
		return "raw-ip"
	}
	return "invalid"
}

// MetaFlags are per-frame facts a link knows and the dataplane needs.
type MetaFlags uint8

const (
	// CsumNotReady marks a frame from a local stack whose L4 checksum is
	// partial (TP_STATUS_CSUMNOTREADY): the dataplane completes it.
	CsumNotReady MetaFlags = 1 << iota
)

// Meta is what a link reports about one frame besides its bytes.
type Meta struct {
	// Time is the frame's receive time in nanoseconds since the Unix epoch
	// (pcap: the capture timestamp; live links: the kernel's or now).
	Time  int64
	Flags MetaFlags
}

// Batch is a set of frames moved through a link in one call.
//
// Frame i occupies Bufs[i][Off[i] : Off[i]+Len[i]]. The space before Off[i]
// is headroom the dataplane may use to prepend headers (it then lowers
// Off[i]); the space after is tailroom. Who owns Bufs is said by each call:
// ReadBatch may point Bufs[i] into the link's own memory (zero-copy links:
// pcap readers, AF_XDP UMEM) or fill the buffers the caller placed there.
type Batch struct {
	Bufs [][]byte
	Off  []int
	Len  []int
	Meta []Meta
	// N is the number of frames in the batch.
	N int
}

// NewBatch returns a batch of n caller-owned buffers, each MaxFrame bytes
// plus Headroom.
func NewBatch(n int) *Batch {
	b := &Batch{
		Bufs: make([][]byte, n),
		Off:  make([]int, n),
		Len:  make([]int, n),
		Meta: make([]Meta, n),
	}
	backing := make([]byte, n*(Headroom+MaxFrame))
	for i := range b.Bufs {
		b.Bufs[i] = backing[i*(Headroom+MaxFrame) : (i+1)*(Headroom+MaxFrame) : (i+1)*(Headroom+MaxFrame)]
		b.Off[i] = Headroom
	}
	return b
}

// Frame returns frame i of the batch.
func (b *Batch) Frame(i int) []byte {
	return b.Bufs[i][b.Off[i] : b.Off[i]+b.Len[i]]
}

// Cap returns the number of frames the batch can hold.
func (b *Batch) Cap() int { return len(b.Bufs) }

// Link is a frame I/O device: AF_PACKET, TUN, a pcap file or an in-memory
// pair. The dataplane cannot tell them apart.
type Link interface {
	// ReadBatch receives up to b.Cap() frames and sets b.N. It blocks until
	// at least one frame is available, the link is closed (ErrClosed) or the
	// input ends (io.EOF). Frames are valid until the next ReadBatch; a link
	// may point b.Bufs[i] into its own memory instead of copying, so the
	// caller must restore its own buffers before reusing them elsewhere.
	ReadBatch(b *Batch) error
	// WriteBatch transmits b's N frames, using b.Meta[i].Time where the link
	// records times (pcap). The link does not keep the buffers after it
	// returns. It returns how many frames were sent.
	WriteBatch(b *Batch) (int, error)
	// Type is the kind of frames this link carries.
	Type() Type
	// MTU is the largest IP packet the link carries.
	MTU() int
	// Close releases the link; a blocked ReadBatch returns ErrClosed.
	Close() error
}

// ErrClosed is returned by operations on a closed link.
var ErrClosed = errors.New("link: closed")

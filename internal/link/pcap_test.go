package link

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func writePcap(t *testing.T, typ Type, snaplen int, fs [][]byte, times []int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, typ, snaplen)
	if err != nil {
		t.Fatalf("NewPcapWriter(%v) = %v", typ, err)
	}
	b := NewBatch(len(fs))
	fill(b, fs, 0)
	for i := range times {
		b.Meta[i].Time = times[i]
	}
	if n, err := w.WriteBatch(b); n != len(fs) || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	return buf.Bytes()
}

// readAll reads every frame of a capture in batches of batch.
func readAll(t *testing.T, r *PcapReader, batch int) (out [][]byte, times []int64, err error) {
	t.Helper()
	b := NewBatch(batch)
	for {
		if err := r.ReadBatch(b); err != nil {
			return out, times, err
		}
		for i := 0; i < b.N; i++ {
			out = append(out, append([]byte(nil), b.Frame(i)...))
			times = append(times, b.Meta[i].Time)
		}
	}
}

func TestPcapRoundTrip(t *testing.T) {
	times := []int64{1_700_000_000_123_456_789, 1_700_000_000_123_457_000, 1_700_000_001_000_000_999}
	for _, typ := range []Type{Ethernet, RawIP} {
		fs := frames(3, 60)
		data := writePcap(t, typ, 0, fs, times)
		if again := writePcap(t, typ, 0, fs, times); !bytes.Equal(data, again) {
			t.Errorf("%v: writing the same frames twice gave different bytes", typ)
		}
		r, err := OpenPcapReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("OpenPcapReader = %v", err)
		}
		if r.Type() != typ {
			t.Errorf("Type() = %v, want %v", r.Type(), typ)
		}
		got, gotTimes, err := readAll(t, r, 2)
		if err != io.EOF {
			t.Fatalf("reading to the end = %v, want io.EOF", err)
		}
		if len(got) != len(fs) {
			t.Fatalf("read %d frames, want %d", len(got), len(fs))
		}
		for i := range fs {
			if !bytes.Equal(got[i], fs[i]) {
				t.Errorf("%v frame %d = %x, want %x", typ, i, got[i], fs[i])
			}
			// Classic pcap keeps microseconds.
			if want := times[i] / 1000 * 1000; gotTimes[i] != want {
				t.Errorf("%v frame %d time = %d, want %d", typ, i, gotTimes[i], want)
			}
		}
		if err := r.ReadBatch(NewBatch(1)); err != io.EOF {
			t.Errorf("ReadBatch after EOF = %v, want io.EOF", err)
		}
		// Independent check: pcapgo reads the link type and a record.
		pr, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		wantLT := map[Type]layers.LinkType{Ethernet: layers.LinkTypeEthernet, RawIP: layers.LinkTypeRaw}[typ]
		if pr.LinkType() != wantLT {
			t.Errorf("pcapgo sees link type %v, want %v", pr.LinkType(), wantLT)
		}
	}
}

func TestPcapWriterSnaplen(t *testing.T) {
	fs := [][]byte{bytes.Repeat([]byte{7}, 300)}
	data := writePcap(t, Ethernet, 100, fs, []int64{5})
	pr, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	d, ci, err := pr.ReadPacketData()
	if err != nil || len(d) != 100 || ci.Length != 300 || pr.Snaplen() != 100 {
		t.Errorf("record = %d bytes, orig %d, snaplen %d, err %v; want 100, 300, 100", len(d), ci.Length, pr.Snaplen(), err)
	}
}

func TestPcapngRead(t *testing.T) {
	var buf bytes.Buffer
	ng, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	fs := frames(3, 64)
	ts := []int64{1_600_000_000_000_000_001, 1_600_000_000_500_000_000, 1_600_000_002_000_000_000}
	for i, f := range fs {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, ts[i]), CaptureLength: len(f), Length: len(f)}
		if err := ng.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := ng.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenPcapReader(&buf)
	if err != nil {
		t.Fatalf("OpenPcapReader(pcapng) = %v", err)
	}
	if r.Type() != Ethernet {
		t.Errorf("Type() = %v, want ethernet", r.Type())
	}
	got, times, err := readAll(t, r, 8)
	if err != io.EOF || len(got) != 3 {
		t.Fatalf("read %d frames, err %v; want 3, io.EOF", len(got), err)
	}
	for i := range fs {
		if !bytes.Equal(got[i], fs[i]) || times[i] != ts[i] {
			t.Errorf("pcapng frame %d = %x @%d, want %x @%d", i, got[i], times[i], fs[i], ts[i])
		}
	}
}

func TestPcapBadInput(t *testing.T) {
	good := writePcap(t, Ethernet, 0, frames(2, 60), []int64{1, 2})
	unsupported := append([]byte(nil), good...)
	unsupported[20] = 113 // LINKTYPE_LINUX_SLL
	for _, tc := range []struct {
		name    string
		data    []byte
		openErr string // substring of OpenPcapReader's error, or ""
		readErr string // substring of the error after the frames
		frames  int
	}{
		{"empty", nil, "unexpected EOF", "", 0},
		{"cut file header", good[:10], "unexpected EOF", "", 0},
		{"bad magic", bytes.Repeat([]byte{1}, 40), "magic", "", 0},
		{"unsupported link type", unsupported, "link type 113", "", 0},
		{"cut record header", good[:24+16+60+8], "", "record 2: unexpected EOF", 1},
		{"cut record data", good[:len(good)-5], "", "record 2: unexpected EOF", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := OpenPcapReader(bytes.NewReader(tc.data))
			if tc.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.openErr) {
					t.Fatalf("OpenPcapReader = %v, want an error containing %q", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenPcapReader = %v", err)
			}
			got, _, err := readAll(t, r, 4)
			if len(got) != tc.frames || err == nil || !strings.Contains(err.Error(), tc.readErr) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("read %d frames, err %v; want %d frames and an error containing %q", len(got), err, tc.frames, tc.readErr)
			}
		})
	}
}

func TestPcapDirectionAndClose(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, Ethernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ReadBatch(NewBatch(1)); !errors.Is(err, ErrWriteOnly) {
		t.Errorf("writer ReadBatch = %v, want ErrWriteOnly", err)
	}
	if _, err := NewPcapWriter(&buf, 0, 0); err == nil {
		t.Error("NewPcapWriter(invalid type) = nil error")
	}
	w.Close()
	b := NewBatch(1)
	fill(b, frames(1, 10), 0)
	if _, err := w.WriteBatch(b); !errors.Is(err, ErrClosed) {
		t.Errorf("closed writer WriteBatch = %v, want ErrClosed", err)
	}
	r, err := OpenPcapReader(bytes.NewReader(writePcap(t, RawIP, 0, frames(1, 30), []int64{1})))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteBatch(b); !errors.Is(err, ErrReadOnly) {
		t.Errorf("reader WriteBatch = %v, want ErrReadOnly", err)
	}
	r.SetMTU(9000)
	if r.MTU() != 9000 || w.MTU() != DefaultMTU {
		t.Errorf("MTU() = %d, %d", r.MTU(), w.MTU())
	}
	r.Close()
	if err := r.ReadBatch(b); !errors.Is(err, ErrClosed) {
		t.Errorf("closed reader ReadBatch = %v, want ErrClosed", err)
	}
}

func TestPcapReadAllocs(t *testing.T) {
	fs := frames(64, 100)
	data := writePcap(t, Ethernet, 0, fs, make([]int64, 64))
	r, err := OpenPcapReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBatch(1)
	r.ReadBatch(b) // first read sizes pcapgo's buffer
	if n := testing.AllocsPerRun(50, func() { r.ReadBatch(b) }); n != 0 {
		t.Errorf("PcapReader.ReadBatch allocs = %v, want 0", n)
	}
}

func TestPcapngInterfaces(t *testing.T) {
	for _, tc := range []struct {
		name   string
		second layers.LinkType
		ok     bool
	}{
		{"two raw ipv4 interfaces", layers.LinkTypeIPv4, true},
		{"raw and ethernet interfaces", layers.LinkTypeEthernet, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			ng, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeIPv4)
			if err != nil {
				t.Fatal(err)
			}
			id, err := ng.AddInterface(pcapgo.NgInterface{LinkType: tc.second, TimestampResolution: 9})
			if err != nil {
				t.Fatal(err)
			}
			fs := frames(2, 40)
			for i, f := range fs {
				ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(f), Length: len(f), InterfaceIndex: i * id}
				if err := ng.WritePacket(ci, f); err != nil {
					t.Fatal(err)
				}
			}
			if err := ng.Flush(); err != nil {
				t.Fatal(err)
			}
			r, err := OpenPcapReader(&buf)
			if err != nil {
				t.Fatalf("OpenPcapReader = %v", err)
			}
			if r.Type() != RawIP {
				t.Errorf("Type() = %v, want raw-ip", r.Type())
			}
			got, _, err := readAll(t, r, 8)
			if tc.ok && (err != io.EOF || len(got) != 2) {
				t.Errorf("read %d frames, err %v; want 2, io.EOF", len(got), err)
			}
			if !tc.ok && (len(got) != 1 || err == nil || !errors.Is(err, pcapgo.ErrNgLinkTypeMismatch) || !strings.Contains(err.Error(), "record 2")) {
				t.Errorf("read %d frames, err %v; want 1 frame and a link type mismatch at record 2", len(got), err)
			}
		})
	}
}

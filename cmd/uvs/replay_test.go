package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/uvslb/uvs/internal/pkttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// examples returns the example directories (those with a keepalived.conf
// and an in.pcap).
func examples(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../../examples/*/in.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Dir(d))
	}
	if len(out) < 4 {
		t.Fatalf("found %d examples under examples/, want at least 4 (nat, dr, tun, nat6)", len(out))
	}
	return out
}

func replayExample(t *testing.T, dir, out, format string) (string, string) {
	t.Helper()
	args := []string{"-f", filepath.Join(dir, "keepalived.conf"), "--in", filepath.Join(dir, "in.pcap"), "--out", out, "--trace", "-", "--trace-format", format}
	if b, err := os.ReadFile(filepath.Join(dir, "replay.flags")); err == nil {
		args = append(args, strings.Fields(string(b))...)
	}
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"replay"}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("uvs replay %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String(), stderr.String()
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/uvs -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the replay output (run go test ./cmd/uvs -update and review the diff)", path)
	}
}

// TestExamplesGolden replays every example: the output pcap and both
// traces must equal the reviewed golden files byte for byte, replaying
// twice gives identical bytes, the trace has one record per input frame,
// and every output frame decodes with gopacket with valid checksums.
func TestExamplesGolden(t *testing.T) {
	for _, dir := range examples(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			out1, out2 := filepath.Join(tmp, "1.pcap"), filepath.Join(tmp, "2.pcap")
			jsonTrace, _ := replayExample(t, dir, out1, "json")
			textTrace, _ := replayExample(t, dir, out2, "text")
			b1, err := os.ReadFile(out1)
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := os.ReadFile(out2)
			if !bytes.Equal(b1, b2) {
				t.Fatal("two replays of the same input gave different output pcaps")
			}
			golden(t, filepath.Join("testdata", "examples", name, "out.pcap"), b1)
			golden(t, filepath.Join("testdata", "examples", name, "trace.jsonl"), []byte(jsonTrace))
			golden(t, filepath.Join("testdata", "examples", name, "trace.txt"), []byte(textTrace))

			inFrames := countFrames(t, filepath.Join(dir, "in.pcap"))
			lines := 0
			sc := bufio.NewScanner(strings.NewReader(jsonTrace))
			actions := map[string]int{}
			for sc.Scan() {
				var rec map[string]any
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("trace line %d is not JSON: %v", lines+1, err)
				}
				for _, k := range []string{"ts", "in", "service", "conn", "state", "dest", "action", "out"} {
					if _, ok := rec[k]; !ok {
						t.Fatalf("trace line %d lacks %q", lines+1, k)
					}
				}
				if rec["action"] == "drop" && rec["reason"] == nil {
					t.Fatalf("trace line %d: drop without reason", lines+1)
				}
				actions[rec["action"].(string)]++
				lines++
			}
			if lines != inFrames {
				t.Fatalf("%d trace records for %d input frames", lines, inFrames)
			}
			t.Logf("%s: %d frames: %v", name, inFrames, actions)
			if actions["drop"] != 0 {
				t.Errorf("the example has %d dropped frames", actions["drop"])
			}
			verifyFrames(t, out1)
		})
	}
}

// openPcap opens a pcap file for reading; it is closed when the test ends.
func openPcap(t *testing.T, path string) *pcapgo.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func countFrames(t *testing.T, path string) int {
	t.Helper()
	r := openPcap(t, path)
	n := 0
	for {
		if _, _, err := r.ReadPacketData(); err != nil {
			return n
		}
		n++
	}
}

// verifyFrames decodes every frame of a pcap with gopacket and checks the
// IPv4 header, TCP, UDP, ICMP and ICMPv6 checksums.
func verifyFrames(t *testing.T, path string) {
	t.Helper()
	r := openPcap(t, path)
	for i := 1; ; i++ {
		data, _, err := r.ReadPacketData()
		if err != nil {
			return
		}
		pkttest.Verify(t, data, r.LinkType())
	}
}

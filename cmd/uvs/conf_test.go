package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runConf runs `uvs conf ARGS...` and returns its exit code and output.
func runConf(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	rc := run(append([]string{"conf"}, args...), &out, &errb)
	return rc, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfCheck(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.conf", `global_defs {
  router_id r1
  routr_id r2
}
include sub/vs.conf
`)
	writeFile(t, dir, "sub/vs.conf", `virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  real_server 10.0.0.300 80 {
  }
  real_server 10.0.0.3 80 {
    weight x
  }
}
`)
	good := writeFile(t, dir, "good.toml", "[[virtual_server]]\naddress = \"10.0.0.1\"\nport = 80\nprotocol = \"TCP\"\nlvs_sched = \"rr\"\nlvs_method = \"DR\"\n")
	rc, out, _ := runConf("check", bad, good)
	want := []string{
		bad + ":3:3: warning: unknown keyword 'routr_id' in global_defs (ignored)",
		filepath.Join(dir, "sub/vs.conf") + ":5:15: error: 'real_server': bad IP address '10.0.0.300'",
		filepath.Join(dir, "sub/vs.conf") + ":8:12: error: 'weight': bad number 'x'",
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !cmp.Equal(got, want) {
		t.Errorf("uvs conf check %s %s output (-want +got):\n%s", bad, good, cmp.Diff(want, got))
	}
	if rc != 1 {
		t.Errorf("uvs conf check with errors = exit %d, want 1", rc)
	}
	if rc, out, _ := runConf("check", good); rc != 0 || out != "" {
		t.Errorf("uvs conf check %s = exit %d, output %q; want 0 and nothing", good, rc, out)
	}
	// Paths are printed as given.
	rel, err := filepath.Rel(mustGetwd(t), bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, out, _ := runConf("check", rel); !strings.HasPrefix(out, rel+":3:3: warning:") {
		t.Errorf("uvs conf check %s = %q, want lines starting with the path as given", rel, out)
	}
	missing := filepath.Join(dir, "nothere.conf")
	if rc, out, _ := runConf("check", missing); rc != 1 || !strings.HasPrefix(out, missing+": error: cannot read") {
		t.Errorf("uvs conf check %s = exit %d, %q; want 1 and a cannot-read error", missing, rc, out)
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestConfConvertIsStable(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "keepalived.conf", `! sample
$VIP=10.0.0.100
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    ${VIP}/24
  }
}
virtual_server $VIP 80 {
  lb_algo wlc
  lb_kind DR
  protocol TCP
  real_server 10.0.0.2 80 {
    weight 2
    TCP_CHECK {
      connect_timeout 3
    }
  }
}
`)
	rc, first, stderr := runConf("convert", src)
	if rc != 0 {
		t.Fatalf("uvs conf convert %s = exit %d, stderr %q", src, rc, stderr)
	}
	if !strings.Contains(first, "[[virtual_server.real_server.check]]\ntype = \"TCP_CHECK\"\nconnect_timeout = \"3s\"\n") {
		t.Errorf("uvs conf convert output lacks the TCP_CHECK table:\n%s", first)
	}
	conv := writeFile(t, dir, "converted.toml", first)
	rc, second, stderr := runConf("convert", conv)
	if rc != 0 {
		t.Fatalf("uvs conf convert %s = exit %d, stderr %q", conv, rc, stderr)
	}
	if first != second {
		t.Errorf("convert(convert(x)) != convert(x) (-first +second):\n%s", cmp.Diff(first, second))
	}
}

func TestConfDump(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "k.conf", "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n  }\n}\n")
	rc, out, stderr := runConf("dump", src)
	if rc != 0 {
		t.Fatalf("uvs conf dump %s = exit %d, stderr %q", src, rc, stderr)
	}
	for _, want := range []string{`protocol = "UDP"`, `lvs_sched = "wlc"`, `lvs_method = "NAT"`, "quorum = 1", `socket = "/run/uvs/uvs.sock"`} {
		if !strings.Contains(out, want) {
			t.Errorf("uvs conf dump output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "no protocol specified - using UDP") {
		t.Errorf("uvs conf dump stderr = %q, want the default-protocol warning", stderr)
	}
}

func TestConfUsage(t *testing.T) {
	tests := [][]string{
		{},
		{"check"},
		{"convert"},
		{"convert", "a", "b"},
		{"frobnicate", "x"},
		{"check", "-i"},
	}
	for _, args := range tests {
		if rc, _, stderr := runConf(args...); rc != 2 || stderr == "" {
			t.Errorf("uvs conf %q = exit %d, stderr %q; want 2 and a usage message", args, rc, stderr)
		}
	}
}

func TestConfCheckOtherFormats(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		writeFile(t, dir, "rules", "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1\n"),
		writeFile(t, dir, "ldirectord.cf", "checktimeout=3\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tservice=http\n\tscheduler=rr\n\tprotocol=tcp\n\tchecktype=connect\n"),
	}
	for _, f := range files {
		if rc, out, _ := runConf("check", f); rc != 0 {
			t.Errorf("uvs conf check %s = exit %d, output %q; want 0", f, rc, out)
		}
		rc, out, stderr := runConf("convert", f)
		if rc != 0 || !strings.Contains(out, "[[virtual_server.real_server]]\naddress = \"10.0.0.2\"\n") {
			t.Errorf("uvs conf convert %s = exit %d, stderr %q, output:\n%s\nwant the real server 10.0.0.2", f, rc, stderr, out)
		}
	}
}

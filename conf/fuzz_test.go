package conf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzKeepalived feeds arbitrary main and included files to the
// keepalived.conf reader. It must not panic, must stay within its bounds,
// and what it understood must survive convert: converting the TOML again
// gives the same bytes.
func FuzzKeepalived(f *testing.F) {
	f.Add([]byte("include sub.conf\nvirtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 { TCP_CHECK { } }\n}\n"), []byte("include main.conf\n"))
	f.Add([]byte(strings.Repeat("a {\n", 5000)), []byte(strings.Repeat("}", 5000)))
	f.Add([]byte("$A=$A $A\nx $A\n"), []byte(""))
	f.Add([]byte("$A=\\\nvrrp_instance X { \\\n}\n$A\n$A\n"), []byte("@x priority 1\n@^x ${A}\n"))
	f.Add([]byte("global_defs { router_id \""+strings.Repeat("x", 70000)+"\" }\n"), []byte("include {a,b,c}*.conf\n"))
	f.Add([]byte("vrrp_instance V { virtual_ipaddress { 1.2.3.4 5.6.7.8 } notify \"a'b\\\" }"), []byte("include inc/*.conf\n"))
	f.Add([]byte("~SEQ(i, 1, 3) ~LST({a,b}, {1,2}, {3,4}) real_server 10.0.$i.$a $b { }\n~SEQx(h, ff) x ${h}\n"), []byte("~SEQ(i, 1, 1, 65536) ~SEQ(j, 65536) y\n"))
	if dir, err := filepath.Abs("../../shared/corpus/keepalived-samples"); err == nil {
		if ents, err := os.ReadDir(dir); err == nil {
			for _, e := range ents {
				if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && !e.IsDir() {
					f.Add(data, []byte(""))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, mainConf, sub []byte) {
		fsys := fstest.MapFS{
			"main.conf":       {Data: mainConf},
			"sub.conf":        {Data: sub},
			"inc/a.conf":      {Data: []byte("include ../sub.conf\ninclude b.conf\n")},
			"inc/b.conf":      {Data: []byte("include a.conf\n")},
			"inc/deep/x.conf": {Data: sub},
		}
		cfg, probs := LoadWith(FS(fsys), "main.conf", Options{ConfigID: "x"})
		if cfg == nil {
			t.Fatal("LoadWith returned a nil Config")
		}
		for _, p := range probs {
			if p.Pos.File == "" || p.Msg == "" {
				t.Fatalf("problem without a position or message: %#v", p)
			}
		}
		parsed, _ := ParseKeepalived(fsys, "main.conf", KeepalivedOptions{ConfigID: "x"})
		out := parsed.MarshalTOML()
		again, _ := ParseTOML("c.toml", out)
		if out2 := again.MarshalTOML(); !bytes.Equal(out, out2) {
			t.Fatalf("convert is not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

// FuzzTOML feeds arbitrary text to the native TOML reader: no panic, and
// what it understood converts stably.
func FuzzTOML(f *testing.F) {
	if data, err := os.ReadFile("testdata/toml/native.toml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("[[virtual_server]]\nreal_server = [{address = \"10.0.0.1\", check = [{type = \"TCP_CHECK\"}]}]\n"))
	f.Add([]byte("static_routes = [[1], {a = 2}]\n[global_defs.lvs_sync_daemon]\nid = -1\n"))
	f.Add([]byte("[[vrrp_instance]]\nnotify = {master = [\"a\", \"b\", \"c\"]}\nvirtual_ipaddress = [\"1.2.3.4 dev\"]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, _ := ParseTOML("f.toml", src)
		out := cfg.MarshalTOML()
		again, _ := ParseTOML("g.toml", out)
		if out2 := again.MarshalTOML(); !bytes.Equal(out, out2) {
			t.Fatalf("convert is not stable:\n%s\n---\n%s", out, out2)
		}
		Compile(again)
	})
}

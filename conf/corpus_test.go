package conf

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// corpusDir returns <module root>/../shared/corpus/sub, or skips the test
// when it is not there.
func corpusDir(t *testing.T, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus", sub)
	if _, err := os.Stat(c); err != nil {
		t.Skipf("corpus %s not present (%v); skipping", c, err)
	}
	return c
}

// corpusFiles lists the configuration files of a corpus directory.
func corpusFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".txt") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files in %s", root)
	}
	return files
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
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
		t.Fatalf("%v (run go test ./conf -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("golden %s mismatch (-want +got):\n%s", path, diff)
	}
}

// keepalivedErrors lists the corpus files that keepalived 2.2.7 itself
// reports value errors for (KEEPALIVED-2.2.7-CHECK.txt): every other file
// must load without errors. Missing interfaces are not errors here: they
// depend on the host.
var keepalivedErrors = map[string]string{
	"etc/keepalived.conf":           "vrrp_garp_interval",
	"etc/keepalived.conf.sample.in": "vrrp_garp_interval",
	"keepalived.conf.vrrp.rules":    "bad IP address '192.168.100./24'",
	// A systemd drop-in, not keepalived.conf syntax: its [Service] header
	// is read as TOML, which the rest of it is not.
	"other/keepalived.service.d.auth_hmac.conf": "TOML syntax",
}

func TestKeepalivedCorpus(t *testing.T) {
	root := corpusDir(t, "keepalived-samples")
	fsys := os.DirFS(root)
	for _, name := range corpusFiles(t, root) {
		t.Run(name, func(t *testing.T) {
			// keepalived -t -i x, as in the corpus verdicts.
			opts := Options{ConfigID: "x"}
			cfg, probs := LoadWith(FS(fsys), name, opts)
			wantErr, expectErr := keepalivedErrors[name]
			var errs []string
			for _, p := range probs {
				if p.Severity == SeverityError {
					errs = append(errs, p.Error())
				}
			}
			switch {
			case expectErr && len(errs) == 0:
				t.Errorf("Load(%s): no errors, want one containing %q", name, wantErr)
			case expectErr && !strings.Contains(strings.Join(errs, "\n"), wantErr):
				t.Errorf("Load(%s) errors = %q, want one containing %q", name, errs, wantErr)
			case !expectErr && len(errs) > 0:
				t.Errorf("Load(%s) errors = %q, want none (keepalived accepts it)", name, errs)
			}
			if cfg == nil {
				t.Fatalf("Load(%s) returned a nil Config", name)
			}

			// convert: golden, and converting the output again is the identity.
			parsed, _ := ParseWith(FS(fsys), name, opts)
			out := parsed.MarshalTOML()
			golden(t, filepath.Join("corpus", strings.ReplaceAll(name, "/", "_")+".toml"), out)
			again, probs2 := ParseTOML("converted.toml", out)
			for _, p := range probs2 {
				if p.Severity == SeverityError && !expectErr {
					t.Errorf("ParseTOML(convert(%s)): %v", name, p)
				}
			}
			if out2 := again.MarshalTOML(); !bytes.Equal(out, out2) {
				t.Errorf("convert(convert(%s)) differs from convert(%s) (-first +second):\n%s", name, name, cmp.Diff(string(out), string(out2)))
			}
			// The TOML means the same: both compile to the same model.
			Compile(again)
			if d1, d2 := cfg.MarshalTOML(), again.MarshalTOML(); !bytes.Equal(d1, d2) && !expectErr {
				t.Errorf("compiled convert(%s) differs from compiled %s (-keepalived +toml):\n%s", name, name, cmp.Diff(string(d1), string(d2)))
			}
		})
	}
}

// ldirectordErrors lists the ldirectord corpus files that ldirectord
// itself rejects (MANIFEST.md there).
var ldirectordErrors = map[string]bool{
	"vincentmli-lvsadm/ldirectord.cf": true, // INI-style [section] headers
}

func TestLdirectordCorpus(t *testing.T) {
	root := corpusDir(t, "ldirectord-samples")
	fsys := os.DirFS(root)
	for _, name := range corpusFiles(t, root) {
		t.Run(name, func(t *testing.T) {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			if f := Detect(data); f != FormatLdirectord {
				t.Errorf("Detect(%s) = %v, want ldirectord", name, f)
			}
			cfg, probs := LoadWith(FS(fsys), name, Options{})
			if got, want := HasErrors(probs), ldirectordErrors[name]; got != want {
				t.Errorf("Load(%s) has errors = %v, want %v; problems:\n%s", name, got, want, strings.Join(problemStrings(probs), "\n"))
			}
			parsed, _ := ParseWith(FS(fsys), name, Options{})
			out := parsed.MarshalTOML()
			golden(t, filepath.Join("corpus", "ldirectord_"+strings.ReplaceAll(name, "/", "_")+".toml"), out)
			again, _ := ParseTOML("converted.toml", out)
			if out2 := again.MarshalTOML(); !bytes.Equal(out, out2) {
				t.Errorf("convert(convert(%s)) differs from convert(%s) (-first +second):\n%s", name, name, cmp.Diff(string(out), string(out2)))
			}
			Compile(again)
			if d1, d2 := cfg.MarshalTOML(), again.MarshalTOML(); !bytes.Equal(d1, d2) {
				t.Errorf("compiled convert(%s) differs from compiled %s (-ldirectord +toml):\n%s", name, name, cmp.Diff(string(d1), string(d2)))
			}
		})
	}
}

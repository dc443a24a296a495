package fence

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/uvslb/uvs"

// rule says which module packages (relative path prefixes) a package may not
// import, and which outside imports it may not use.
type rule struct {
	pkg       string   // relative package path prefix
	forbidden []string // relative module paths, or full external paths when they contain a dot
}

var rules = []rule{
	{"scheduler", []string{"conntrack", "dataplane", "conf", "director", "vrrp", "checks", "cmd", "bench"}},
	{"conntrack", []string{"dataplane", "conf", "director", "vrrp", "checks", "cmd", "bench"}},
	{"dataplane", []string{"conf", "director", "vrrp", "checks", "cmd", "bench", "github.com/prometheus"}},
	{"vrrp", []string{"conf", "director", "dataplane", "conntrack", "checks", "cmd", "bench", "github.com/prometheus"}},
	{"checks", []string{"conf", "director", "dataplane", "conntrack", "vrrp", "cmd", "bench", "github.com/prometheus"}},
	{"conf", []string{"dataplane", "conntrack", "director", "vrrp", "checks", "cmd", "bench", "github.com/prometheus"}},
	{"director", []string{"cmd", "bench"}},
	{"internal", []string{"scheduler", "conntrack", "dataplane", "conf", "director", "vrrp", "checks", "cmd", "bench", "github.com/prometheus"}},
}

// everywhere lists imports no package may use: the cgo libpcap binding
// (CGO_ENABLED=0 must build) and the unmaintained upstream gopacket.
var everywhere = []string{"github.com/gopacket/gopacket/pcap", "github.com/google/gopacket"}

func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// imports returns, per package directory (relative), the imports of its
// non-test Go files.
func imports(t *testing.T, top string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != top && (strings.HasPrefix(name, ".") || name == "testdata" || name == "examples") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(top, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		out[rel] = append(out[rel], []string{}...)
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			out[rel] = append(out[rel], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func violates(imp, forbidden string) bool {
	if strings.Contains(forbidden, ".") {
		return under(imp, forbidden)
	}
	rel, ok := strings.CutPrefix(imp, module+"/")
	return ok && under(rel, forbidden)
}

func TestImportFences(t *testing.T) {
	all := imports(t, root(t))
	if len(all) < 10 {
		t.Fatalf("found only %d packages; is the walk broken?", len(all))
	}
	for pkg, imps := range all {
		for _, imp := range imps {
			for _, bad := range everywhere {
				if under(imp, bad) {
					t.Errorf("%s imports %s, which no package may import", pkg, imp)
				}
			}
			for _, r := range rules {
				if !under(pkg, r.pkg) {
					continue
				}
				for _, f := range r.forbidden {
					if violates(imp, f) {
						t.Errorf("%s imports %s; CONVENTIONS.md forbids %s → %s", pkg, imp, r.pkg, f)
					}
				}
			}
		}
	}
}

// TestFenceRules makes sure the checker itself catches a violation.
func TestFenceRules(t *testing.T) {
	for _, tc := range []struct {
		imp, forbidden string
		want           bool
	}{
		{module + "/conf", "conf", true},
		{module + "/conntrack", "conf", false},
		{module + "/internal/link", "internal", true},
		{"github.com/prometheus/client_golang/prometheus", "github.com/prometheus", true},
		{"github.com/gopacket/gopacket/pcapgo", "github.com/gopacket/gopacket/pcap", false},
		{"github.com/gopacket/gopacket/pcap", "github.com/gopacket/gopacket/pcap", true},
	} {
		if got := violates(tc.imp, tc.forbidden); got != tc.want {
			t.Errorf("violates(%q, %q) = %v, want %v", tc.imp, tc.forbidden, got, tc.want)
		}
	}
}

// TestEveryPackageHasDoc checks that every package directory has a doc.go.
func TestEveryPackageHasDoc(t *testing.T) {
	top := root(t)
	for pkg := range imports(t, top) {
		if strings.HasPrefix(pkg, "cmd/") || pkg == "." {
			continue
		}
		if _, err := os.Stat(filepath.Join(top, pkg, "doc.go")); err != nil {
			t.Errorf("package %s has no doc.go", pkg)
		}
	}
}

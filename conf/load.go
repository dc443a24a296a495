package conf

import (
	"bytes"
	"cmp"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Options change how a configuration is read.
type Options struct {
	// ConfigID selects keepalived `@ID` conditional lines (keepalived -i).
	// Load uses the host name up to the first dot, as keepalived does.
	ConfigID string
}

// Load reads the configuration at name from fsys, detecting its format by
// content, and compiles it. The Config is never nil; check HasErrors on
// the problems before using it.
func Load(fsys fs.FS, name string) (*Config, []Problem) {
	return LoadWith(fsSource{fsys}, name, Options{ConfigID: HostConfigID()})
}

// LoadFile is Load from the operating system's file system; paths in
// problems are as given.
func LoadFile(name string) (*Config, []Problem) {
	return LoadWith(osSource{}, name, Options{ConfigID: HostConfigID()})
}

// Source is where configuration files come from: FS(fsys) or OS().
type Source interface{ source }

// FS returns a Source reading from fsys.
func FS(fsys fs.FS) Source { return fsSource{fsys} }

// OS returns a Source reading from the operating system, paths as given.
func OS() Source { return osSource{} }

// LoadWith is Load with explicit options.
func LoadWith(src Source, name string, opts Options) (*Config, []Problem) {
	cfg, probs := ParseWith(src, name, opts)
	probs = append(probs, Compile(cfg)...)
	return cfg, probs
}

// ParseWith reads and parses (without compiling) the configuration at
// name, detecting its format by content. The Config is never nil.
func ParseWith(src Source, name string, opts Options) (*Config, []Problem) {
	data, err := src.readFile(name)
	if err != nil {
		return &Config{Path: name}, []Problem{problemf(Pos{File: name}, SeverityError, "cannot read %s: %v", name, unwrapPathErr(err))}
	}
	var cfg *Config
	var probs []Problem
	switch Detect(data) {
	case FormatTOML:
		cfg, probs = ParseTOML(name, data)
	case FormatLdirectord:
		cfg, probs = parseLdirectord(name, data)
	case FormatIPVSRules:
		cfg, probs = parseIPVSRules(name, data)
	default:
		cfg, probs = parseKeepalived(src, name, KeepalivedOptions(opts))
	}
	if cfg == nil {
		cfg = &Config{}
	}
	cfg.Path = name
	return cfg, probs
}

// HostConfigID is keepalived's default config-id: the host name up to the
// first dot.
func HostConfigID() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}

var (
	// Read-only patterns used by Detect.
	tomlKeyLine    = regexp.MustCompile(`^([A-Za-z0-9_-]+|"[^"]*")(\s*\.\s*([A-Za-z0-9_-]+|"[^"]*"))*\s*=`)
	tomlHeaderLine = regexp.MustCompile(`^\[\[?\s*[A-Za-z0-9_."-]+\s*\]\]?\s*(#.*)?$`)
)

// Detect tells the format of a configuration by its content. ipvsadm
// rules start with an ipvsadm command (-A, -a, ...); ldirectord.cf has a
// virtual= section; TOML's first significant line is a [table] header or
// a key = value; everything else is keepalived.conf.
func Detect(src []byte) Format {
	switch {
	case LooksLikeIPVSRules(src):
		return FormatIPVSRules
	case LooksLikeLdirectord(src):
		return FormatLdirectord
	}
	for _, line := range bytes.Split(src, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "#") || strings.HasPrefix(s, "!") {
			continue
		}
		if tomlHeaderLine.MatchString(s) || tomlKeyLine.MatchString(s) {
			return FormatTOML
		}
		return FormatKeepalived
	}
	return FormatKeepalived
}

// SortProblems orders problems by file, line and column, keeping the order
// of problems at the same position.
func SortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
}

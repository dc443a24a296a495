package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// This file reads uvs's native TOML into the model. The model's `toml`
// tags are the key names; types the TOML library does not know (addresses,
// durations, enums, keepalived one-line entries) are strings, decoded here
// with every problem reported at the key's position.

// ParseTOML reads uvs's native TOML. Unknown keys are errors with their
// position.
func ParseTOML(name string, src []byte) (*Config, []Problem) {
	cfg := &Config{Format: FormatTOML, Path: name}
	var raw map[string]any
	if _, err := toml.Decode(string(src), &raw); err != nil {
		at := Pos{File: name, Line: 1, Col: 1}
		msg := err.Error()
		var pe toml.ParseError
		if errors.As(err, &pe) {
			at.Line, at.Col = pe.Position.Line, max(pe.Position.Col, 1)
			msg = pe.Message
		}
		return cfg, []Problem{problemf(at, SeverityError, "TOML syntax: %s", msg)}
	}
	d := &tdecoder{file: name, pos: scanTOMLPositions(name, string(src))}
	d.table(reflect.ValueOf(cfg).Elem(), raw, "", "")
	return cfg, d.probs.result()
}

// tablePos is what scanTOMLPositions records about one table instance.
type tablePos struct {
	header Pos
	keys   map[string]Pos
}

var (
	// Read-only patterns for the position scanner.
	tomlHeaderRe = regexp.MustCompile(`^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?`)
	tomlKeyRe    = regexp.MustCompile(`^(\s*)((?:[A-Za-z0-9_-]+|"[^"]*")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"))*)\s*=`)
)

// scanTOMLPositions finds, line by line, the position of every table
// header and key. Table instances are named by their path with array
// indices: "virtual_server.0.real_server.1".
func scanTOMLPositions(file, src string) map[string]*tablePos {
	out := map[string]*tablePos{"": {header: Pos{file, 1, 1}, keys: map[string]Pos{}}}
	counts := map[string]int{} // instance path of an array of tables → elements so far
	cur := ""
	get := func(path string, at Pos) *tablePos {
		tp, ok := out[path]
		if !ok {
			tp = &tablePos{header: at, keys: map[string]Pos{}}
			out[path] = tp
		}
		return tp
	}
	// resolve turns a dotted table name into an instance path, taking the
	// last element of every array of tables on the way.
	resolve := func(parts []string) string {
		path := ""
		for _, p := range parts {
			if path != "" {
				path += "."
			}
			path += p
			if n, ok := counts[path]; ok {
				path += fmt.Sprintf(".%d", n-1)
			}
		}
		return path
	}
	inML := "" // the delimiter of a multi-line string being skipped
	for i, line := range strings.Split(src, "\n") {
		if inML != "" {
			if strings.Count(line, inML)%2 == 1 {
				inML = ""
			}
			continue
		}
		for _, delim := range []string{`"""`, "'''"} {
			if strings.Count(line, delim)%2 == 1 {
				inML = delim
			}
		}
		if m := tomlHeaderRe.FindStringSubmatchIndex(line); m != nil {
			name := line[m[4]:m[5]]
			parts := splitDotted(name)
			at := Pos{file, i + 1, m[2] + 1}
			if line[m[2]:m[3]] == "[[" {
				parent := resolve(parts[:len(parts)-1])
				key := parts[len(parts)-1]
				if parent != "" {
					key = parent + "." + key
				}
				counts[key]++
				cur = fmt.Sprintf("%s.%d", key, counts[key]-1)
			} else {
				cur = resolve(parts)
			}
			get(cur, at)
			continue
		}
		if m := tomlKeyRe.FindStringSubmatchIndex(line); m != nil {
			parts := splitDotted(line[m[4]:m[5]])
			at := Pos{file, i + 1, m[4] + 1}
			path := cur
			for _, p := range parts[:len(parts)-1] {
				if path != "" {
					path += "."
				}
				path += p
			}
			tp := get(path, at)
			if _, dup := tp.keys[parts[len(parts)-1]]; !dup {
				tp.keys[parts[len(parts)-1]] = at
			}
		}
	}
	return out
}

// splitDotted splits a dotted key, removing quotes and blanks.
func splitDotted(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ".") {
		out = append(out, strings.Trim(strings.TrimSpace(p), `"`))
	}
	return out
}

// tdecoder assigns decoded TOML values to model structs.
type tdecoder struct {
	file  string
	pos   map[string]*tablePos
	probs problems
}

func (d *tdecoder) errorf(at Pos, format string, args ...any) {
	d.probs.addf(at, SeverityError, format, args...)
}

// keyPos returns the position of key in the table instance path.
func (d *tdecoder) keyPos(path, key string) Pos {
	if tp, ok := d.pos[path]; ok {
		if p, ok := tp.keys[key]; ok {
			return p
		}
		return tp.header
	}
	return Pos{d.file, 1, 1}
}

// tablePosOf returns the header position of a table instance.
func (d *tdecoder) tablePosOf(path string) Pos {
	if tp, ok := d.pos[path]; ok {
		return tp.header
	}
	return Pos{d.file, 1, 1}
}

// tomlFields returns the struct fields with their TOML names, embedded
// structs flattened.
func tomlFields(t reflect.Type, index []int, out map[string][]int, order *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous && f.Tag.Get("toml") == "" {
			tomlFields(f.Type, idx, out, order)
			continue
		}
		name := f.Tag.Get("toml")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out[name] = idx
		*order = append(*order, name)
	}
}

func fieldsOf(t reflect.Type) (map[string][]int, []string) {
	m := map[string][]int{}
	var order []string
	tomlFields(t, nil, m, &order)
	return m, order
}

// table decodes raw into the struct v. path is the table instance path;
// where names it for messages.
func (d *tdecoder) table(v reflect.Value, raw map[string]any, path, where string) {
	if pf := v.FieldByName("Pos"); pf.IsValid() && pf.Type() == reflect.TypeOf(Pos{}) {
		pf.Set(reflect.ValueOf(d.tablePosOf(path)))
	}
	if kf := v.FieldByName("Keys"); kf.IsValid() && kf.Type() == reflect.TypeOf(Positions{}) {
		if tp, ok := d.pos[path]; ok {
			keys := Positions{}
			for k := range raw {
				if p, ok := tp.keys[k]; ok {
					keys[k] = p
				}
			}
			kf.Set(reflect.ValueOf(keys))
		}
	}
	fields, _ := fieldsOf(v.Type())
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		idx, ok := fields[k]
		at := d.keyPos(path, k)
		if !ok {
			if where == "" {
				d.errorf(at, "unknown key '%s'", k)
			} else {
				d.errorf(at, "unknown key '%s' in [%s]", k, where)
			}
			continue
		}
		sub := path
		if sub != "" {
			sub += "."
		}
		sub += k
		w := where
		if w != "" {
			w += "."
		}
		w += k
		d.value(v.FieldByIndex(idx), raw[k], at, sub, w)
	}
}

var (
	// Read-only reflect types of the leaf values.
	typDuration = reflect.TypeOf(time.Duration(0))
	typAddr     = reflect.TypeOf(netip.Addr{})
	typPrefix   = reflect.TypeOf(netip.Prefix{})
	typAddrPort = reflect.TypeOf(netip.AddrPort{})
	typScript   = reflect.TypeOf(Script{})
)

// textEntry is implemented by the model's one-line entries that TOML
// stores as strings.
func (d *tdecoder) entry(v reflect.Value, s string, at Pos, key string) bool {
	toks := tokenize(at, s)
	if len(toks) == 0 && v.Type() != reflect.TypeOf(Neighbour{}) {
		d.errorf(at, "%s: empty entry", key)
		return true
	}
	// Entries carry the key's position: TOML arrays have no per-element
	// positions in the scanner.
	fix := func(ps []Problem) {
		for _, p := range ps {
			p.Pos = at
			d.probs.add(p)
		}
	}
	switch v.Type() {
	case reflect.TypeOf(IPAddress{}):
		ip, ps := parseIPAddress(key, toks)
		ip.Pos = at
		fix(ps)
		v.Set(reflect.ValueOf(ip))
	case reflect.TypeOf(Route{}):
		r, ps := parseRoute(key, toks)
		r.Pos = at
		fix(ps)
		v.Set(reflect.ValueOf(r))
	case reflect.TypeOf(Track{}):
		t, ps := parseTrack(key, toks, -253, 253)
		t.Pos = at
		fix(ps)
		v.Set(reflect.ValueOf(t))
	case reflect.TypeOf(UnicastPeer{}):
		u, ps := parseUnicastPeer(toks)
		u.Pos = at
		fix(ps)
		v.Set(reflect.ValueOf(u))
	case reflect.TypeOf(VirtualServerGroupEntry{}):
		e, ps := parseVSGEntry(toks)
		e.Pos = at
		fix(ps)
		v.Set(reflect.ValueOf(e))
	case reflect.TypeOf(Neighbour{}):
		n, err := parseNeighbour(at, s)
		if err != nil {
			d.errorf(at, "%s: %v", key, err)
		}
		v.Set(reflect.ValueOf(n))
	case reflect.TypeOf(PortRange{}):
		r, err := parsePortRange(s)
		if err != nil {
			d.errorf(at, "%s: %v", key, err)
		}
		v.Set(reflect.ValueOf(r))
	case reflect.TypeOf(StatusRange{}):
		r, err := parseStatusRange(s)
		if err != nil {
			d.errorf(at, "%s: %v", key, err)
		}
		v.Set(reflect.ValueOf(r))
	default:
		return false
	}
	return true
}

// enumValue parses the string enums of the model.
func enumValue(t reflect.Type, s string) (reflect.Value, bool) {
	var v any
	var ok bool
	switch t {
	case reflect.TypeOf(Protocol(0)):
		v, ok = ParseProtocol(s)
	case reflect.TypeOf(Family(0)):
		v, ok = ParseFamily(s)
	case reflect.TypeOf(Method(0)):
		v, ok = ParseMethod(s)
	case reflect.TypeOf(TunnelType(0)):
		v, ok = ParseTunnelType(s)
	case reflect.TypeOf(TunnelCsum(0)):
		v, ok = ParseTunnelCsum(s)
	case reflect.TypeOf(VRRPState(0)):
		v, ok = ParseVRRPState(s)
	case reflect.TypeOf(AuthType(0)):
		v, ok = ParseAuthType(s)
	case reflect.TypeOf(LinkKind(0)):
		v, ok = ParseLinkKind(s)
	case reflect.TypeOf(CheckKind(0)):
		v, ok = ParseCheckKind(s)
	case reflect.TypeOf(SchedFlag(0)):
		v, ok = ParseSchedFlag(s)
	case reflect.TypeOf(Scheduler("")):
		v, ok = Scheduler(s), Scheduler(s).Valid()
	default:
		return reflect.Value{}, false
	}
	if !ok {
		return reflect.Value{}, true
	}
	return reflect.ValueOf(v), true
}

// isEnum reports whether t is one of the string enums.
func isEnum(t reflect.Type) bool {
	_, ok := enumValue(t, "")
	return ok
}

func tomlType(raw any) string {
	switch raw.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", raw)
}

// value decodes raw into v.
func (d *tdecoder) value(v reflect.Value, raw any, at Pos, path, key string) {
	t := v.Type()
	wrong := func(want string) {
		d.errorf(at, "%s: want %s, got %s", key, want, tomlType(raw))
	}
	str := func() (string, bool) {
		s, ok := raw.(string)
		if !ok {
			wrong("a string")
		}
		return s, ok
	}
	switch {
	case t == typScript:
		var sc Script
		switch r := raw.(type) {
		case string:
			sc.Command = r
		case []any:
			if len(r) < 1 || len(r) > 3 {
				d.errorf(at, "%s: want [command, user, group] (1 to 3 strings)", key)
				return
			}
			parts := make([]string, 3)
			for i, e := range r {
				s, ok := e.(string)
				if !ok {
					d.errorf(at, "%s: want strings, got %s", key, tomlType(e))
					return
				}
				parts[i] = s
			}
			sc = Script{parts[0], parts[1], parts[2]}
		default:
			wrong("a string or an array of strings")
			return
		}
		if sc.Command == "" {
			d.errorf(at, "%s: empty command", key)
		}
		v.Set(reflect.ValueOf(sc))
	case t == typDuration:
		s, ok := str()
		if !ok {
			return
		}
		dur, err := time.ParseDuration(s)
		if err != nil || dur < 0 {
			d.errorf(at, "%s: bad duration %q (want e.g. \"6s\", \"1m30s\", \"500ms\")", key, s)
			return
		}
		v.SetInt(int64(dur))
	case t == typAddr:
		s, ok := str()
		if !ok {
			return
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			d.errorf(at, "%s: bad IP address %q", key, s)
			return
		}
		v.Set(reflect.ValueOf(a))
	case t == typPrefix:
		s, ok := str()
		if !ok {
			return
		}
		pf, err := parsePrefixOrAddr(s)
		if err != nil {
			d.errorf(at, "%s: bad address prefix %q", key, s)
			return
		}
		v.Set(reflect.ValueOf(pf))
	case t == typAddrPort:
		s, ok := str()
		if !ok {
			return
		}
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				d.errorf(at, "%s: bad address %q (want ADDR or ADDR:PORT, [V6]:PORT)", key, s)
				return
			}
			ap = netip.AddrPortFrom(a, 0)
		}
		v.Set(reflect.ValueOf(ap))
	case isEnum(t):
		s, ok := str()
		if !ok {
			return
		}
		ev, _ := enumValue(t, s)
		if !ev.IsValid() {
			d.errorf(at, "%s: unknown value %q", key, s)
			return
		}
		v.Set(ev)
	case t.Kind() == reflect.Struct && (t == reflect.TypeOf(IPAddress{}) || t == reflect.TypeOf(Route{}) ||
		t == reflect.TypeOf(Track{}) || t == reflect.TypeOf(UnicastPeer{}) || t == reflect.TypeOf(VirtualServerGroupEntry{}) ||
		t == reflect.TypeOf(Neighbour{}) || t == reflect.TypeOf(PortRange{}) || t == reflect.TypeOf(StatusRange{})):
		s, ok := str()
		if !ok {
			return
		}
		d.entry(v, s, at, key)
	case t.Kind() == reflect.Pointer:
		nv := reflect.New(t.Elem())
		before := len(d.probs.list) + d.probs.dropped
		d.value(nv.Elem(), raw, at, path, key)
		if len(d.probs.list)+d.probs.dropped == before || t.Elem().Kind() == reflect.Struct {
			v.Set(nv) // a bad scalar leaves the field unset
		}
	case t.Kind() == reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			wrong("a table")
			return
		}
		d.table(v, m, path, key)
	case t.Kind() == reflect.Slice:
		d.slice(v, raw, at, path, key)
	case t.Kind() == reflect.String:
		s, ok := str()
		if ok {
			v.SetString(s)
		}
	case t.Kind() == reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			wrong("a boolean")
			return
		}
		v.SetBool(b)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		n, ok := raw.(int64)
		if !ok {
			wrong("an integer")
			return
		}
		if v.OverflowInt(n) {
			d.errorf(at, "%s: %d is out of range", key, n)
			return
		}
		v.SetInt(n)
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		n, ok := raw.(int64)
		if !ok {
			wrong("an integer")
			return
		}
		if n < 0 || v.OverflowUint(uint64(n)) {
			d.errorf(at, "%s: %d is out of range", key, n)
			return
		}
		v.SetUint(uint64(n))
	default:
		d.errorf(at, "%s: unsupported type %s", key, t)
	}
}

// slice decodes an array (of values or of tables).
func (d *tdecoder) slice(v reflect.Value, raw any, at Pos, path, key string) {
	var elems []any
	switch r := raw.(type) {
	case []any:
		elems = r
	case []map[string]any:
		for _, m := range r {
			elems = append(elems, m)
		}
	default:
		d.errorf(at, "%s: want an array, got %s", key, tomlType(raw))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(elems), len(elems))
	for i, e := range elems {
		d.value(out.Index(i), e, at, fmt.Sprintf("%s.%d", path, i), key)
	}
	v.Set(out)
}

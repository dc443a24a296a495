package conf

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MarshalTOML returns the canonical native TOML of c: keys in the model's
// fixed order, values that are not set left out, durations as strings
// ("6s", "1m30s"). Reading the result with ParseTOML and writing it again
// gives the same bytes.
func (c *Config) MarshalTOML() []byte {
	return c.marshal()
}

// Dump returns c as TOML for people to read (uvs conf dump): after
// Compile, every default is filled in and shows, except values that are
// zero (a zero number, false, "0s") unless the model keeps them as
// explicitly set (pointer fields, which Compile always sets).
func (c *Config) Dump() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s as compiled by uvs: defaults filled in; zero values are left out.\n", c.Path)
	b.Write(c.marshal())
	return b.Bytes()
}

func (c *Config) marshal() []byte {
	var b bytes.Buffer
	w := &twriter{b: &b}
	w.table(reflect.ValueOf(c).Elem(), "", false)
	return bytes.TrimLeft(b.Bytes(), "\n")
}

// twriter writes TOML.
type twriter struct {
	b *bytes.Buffer
}

// formatDuration writes d the shortest way time.ParseDuration reads back:
// "15m", "1h30m", "6s", "1.5s", "500ms".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var s string
	if h := d / time.Hour; h > 0 {
		s += strconv.FormatInt(int64(h), 10) + "h"
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		s += strconv.FormatInt(int64(m), 10) + "m"
		d -= m * time.Minute
	}
	switch {
	case d == 0:
	case d%time.Second == 0:
		s += strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0 && d < time.Second:
		s += strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d%time.Microsecond == 0 && d < time.Millisecond:
		s += strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
	default:
		s += strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	}
	return s
}

// quote writes a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r) // invalid UTF-8 becomes U+FFFD
		}
	}
	b.WriteByte('"')
	return b.String()
}

// isEntry reports whether t is written as a one-line string entry.
func isEntry(t reflect.Type) bool {
	switch t {
	case reflect.TypeOf(IPAddress{}), reflect.TypeOf(Route{}), reflect.TypeOf(Track{}), reflect.TypeOf(UnicastPeer{}),
		reflect.TypeOf(VirtualServerGroupEntry{}), reflect.TypeOf(Neighbour{}), reflect.TypeOf(PortRange{}), reflect.TypeOf(StatusRange{}):
		return true
	}
	return false
}

// leaf returns the TOML text of a non-table value, or ok=false when the
// value is not set (and is left out).
func (w *twriter) leaf(v reflect.Value) (string, bool) {
	t := v.Type()
	switch {
	case t == typScript:
		s := v.Interface().(Script)
		switch {
		case s.IsZero():
			return "", false
		case s.User == "" && s.Group == "":
			return quote(s.Command), true
		case s.Group == "":
			return "[" + quote(s.Command) + ", " + quote(s.User) + "]", true
		}
		return "[" + quote(s.Command) + ", " + quote(s.User) + ", " + quote(s.Group) + "]", true
	case t == typDuration:
		d := time.Duration(v.Int())
		if d == 0 {
			return "", false
		}
		return quote(formatDuration(d)), true
	case t == typAddr:
		a := v.Interface().(netip.Addr)
		if !a.IsValid() {
			return "", false
		}
		return quote(a.String()), true
	case t == typPrefix:
		p := v.Interface().(netip.Prefix)
		if !p.IsValid() {
			return "", false
		}
		return quote(p.String()), true
	case t == typAddrPort:
		ap := v.Interface().(netip.AddrPort)
		if !ap.Addr().IsValid() {
			return "", false
		}
		if ap.Port() == 0 {
			return quote(ap.Addr().String()), true
		}
		return quote(ap.String()), true
	case isEnum(t):
		if v.IsZero() {
			return "", false
		}
		return quote(fmt.Sprint(v.Interface())), true
	case isEntry(t):
		s := fmt.Sprint(v.Interface())
		if s == "" {
			return "", false
		}
		return quote(s), true
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			return "", false
		}
		s, ok := w.leaf(v.Elem())
		if !ok {
			// A set pointer to a zero value is still written.
			return w.zero(v.Elem()), true
		}
		return s, true
	case t.Kind() == reflect.String:
		if v.Len() == 0 {
			return "", false
		}
		return quote(v.String()), true
	case t.Kind() == reflect.Bool:
		if !v.Bool() {
			return "", false
		}
		return "true", true
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		if v.Int() == 0 {
			return "", false
		}
		return strconv.FormatInt(v.Int(), 10), true
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		if v.Uint() == 0 {
			return "", false
		}
		return strconv.FormatUint(v.Uint(), 10), true
	case t.Kind() == reflect.Slice:
		if v.Len() == 0 {
			return "", false
		}
		var items []string
		for i := 0; i < v.Len(); i++ {
			s, ok := w.leaf(v.Index(i))
			if !ok {
				s = w.zero(v.Index(i))
			}
			items = append(items, s)
		}
		if len(items) == 1 {
			return "[" + items[0] + "]", true
		}
		return "[\n  " + strings.Join(items, ",\n  ") + ",\n]", true
	}
	panic(fmt.Sprintf("conf: no TOML form for %s", t))
}

// zero is the TOML text of a set-but-zero value (*int 0, *bool false, ...).
func (w *twriter) zero(v reflect.Value) string {
	switch t := v.Type(); {
	case t == typDuration:
		return `"0s"`
	case t.Kind() == reflect.Bool:
		return "false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "0"
	}
	return `""`
}

// isTable reports whether v is written as a [table] or [[array]] rather
// than a key = value line.
func isTable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != typScript && t != typAddr && t != typPrefix && t != typAddrPort && !isEntry(t)
}

// table writes the keys of struct v, then its sub-tables. It reports
// whether anything was written.
func (w *twriter) table(v reflect.Value, path string, isArray bool) bool {
	_, order := fieldsOf(v.Type())
	fields, _ := fieldsOf(v.Type())
	var body bytes.Buffer
	for _, name := range order {
		f := v.FieldByIndex(fields[name])
		if isTable(f.Type()) {
			continue
		}
		if s, ok := w.leaf(f); ok {
			fmt.Fprintf(&body, "%s = %s\n", name, s)
		}
	}
	var subs bytes.Buffer
	sw := &twriter{b: &subs}
	for _, name := range order {
		f := v.FieldByIndex(fields[name])
		if !isTable(f.Type()) {
			continue
		}
		sub := name
		if path != "" {
			sub = path + "." + name
		}
		switch {
		case f.Kind() == reflect.Pointer:
			if !f.IsNil() {
				sw.tableWithHeader(f.Elem(), sub)
			}
		case f.Kind() == reflect.Slice:
			for i := 0; i < f.Len(); i++ {
				fmt.Fprintf(&subs, "\n[[%s]]\n", sub)
				sw.table(f.Index(i), sub, true)
			}
		default:
			sw.tableWithHeader(f, sub)
		}
	}
	if body.Len() == 0 && subs.Len() == 0 {
		return isArray
	}
	w.b.Write(body.Bytes())
	w.b.Write(subs.Bytes())
	return true
}

// tableWithHeader writes [path] and the table, unless it is empty.
func (w *twriter) tableWithHeader(v reflect.Value, path string) {
	var tmp bytes.Buffer
	tw := &twriter{b: &tmp}
	if !tw.table(v, path, false) {
		return
	}
	// Keys first under the header; sub-tables carry their own headers.
	fmt.Fprintf(w.b, "\n[%s]\n", path)
	w.b.Write(tmp.Bytes())
}

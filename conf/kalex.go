package conf

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// This file reads keepalived.conf text into logical lines (lib/parser.c
// read_line/decomment): comments, @conditionals, $VARIABLES, include, and
// brace splitting. keepalived.go turns those lines into the model.

// Bounds that keep the reader finite on hostile input. keepalived's own
// limits differ (MAXBUF line buffer, no total limit); these are uvs's.
const (
	maxIncludeDepth   = 16       // nested include levels
	maxIncludeFiles   = 1024     // files read in total
	maxLineLen        = 64 << 10 // bytes in one logical line after substitution
	maxTotalBytes     = 32 << 20 // bytes read from all files together
	maxTotalLines     = 1 << 18  // logical lines produced in total
	maxVarDepth       = 16       // nested $VAR substitution
	maxExpanded       = 16 << 20 // bytes of lines after $ substitution, in total
	maxBraceExpansion = 256      // paths one include pattern expands to
	maxGlobMeta       = 16       // wildcards in one include pattern (path.Match backtracks)
	maxGenerated      = 1 << 16  // lines one ~SEQ generator produces
)

// token is one word of a line. Text has its double quotes removed.
type token struct {
	Pos    Pos
	Text   string
	Quoted bool
}

// kline is one logical line after brace splitting: a keyword and its
// arguments, or a lone "{" or "}".
type kline struct {
	Pos  Pos
	Toks []token
	Raw  string // the line text (after substitution), for script keywords
}

func (l *kline) word() string {
	if len(l.Toks) == 0 {
		return ""
	}
	return l.Toks[0].Text
}

func (l *kline) isOpen() bool  { return len(l.Toks) == 1 && !l.Toks[0].Quoted && l.Toks[0].Text == "{" }
func (l *kline) isClose() bool { return len(l.Toks) == 1 && !l.Toks[0].Quoted && l.Toks[0].Text == "}" }

// source gives the reader access to files: from an fs.FS, or from the OS
// with paths as given.
type source interface {
	readFile(name string) ([]byte, error)
	glob(pattern string) ([]string, error)
	// resolve returns the path of rel, relative to the directory of the
	// including file from.
	resolve(from, rel string) string
}

// fsSource reads from an fs.FS; paths are slash-separated and unrooted.
type fsSource struct{ fsys fs.FS }

func (s fsSource) readFile(name string) ([]byte, error) {
	name = strings.TrimPrefix(path.Clean(name), "/")
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return fs.ReadFile(s.fsys, name)
}

func (s fsSource) glob(pattern string) ([]string, error) {
	return fs.Glob(s.fsys, strings.TrimPrefix(path.Clean(pattern), "/"))
}

func (s fsSource) resolve(from, rel string) string {
	if path.IsAbs(rel) {
		return path.Clean(rel)
	}
	return path.Join(path.Dir(from), rel)
}

// osSource reads from the operating system; paths are as given.
type osSource struct{}

func (osSource) readFile(name string) ([]byte, error) { return os.ReadFile(name) }
func (osSource) glob(pattern string) ([]string, error) {
	return filepath.Glob(pattern)
}
func (osSource) resolve(from, rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(filepath.Dir(from), rel)
}

// reader turns files into logical lines.
type reader struct {
	src      source
	configID string
	vars     map[string]string
	lines    []kline
	probs    problems
	stack    []string // files being read, for loop detection
	files    int
	bytes    int
	expanded int
	overflow bool
}

func (r *reader) errorf(p Pos, format string, args ...any) {
	r.probs.addf(p, SeverityError, format, args...)
}

func (r *reader) warnf(p Pos, format string, args ...any) {
	r.probs.addf(p, SeverityWarning, format, args...)
}

// readFile reads one file (the main one, or an include).
func (r *reader) readFile(name string, from Pos, mustExist bool) {
	for _, s := range r.stack {
		if s == name {
			r.errorf(from, "include loop: %s includes itself (via %s)", name, strings.Join(r.stack, " -> "))
			return
		}
	}
	if len(r.stack) >= maxIncludeDepth {
		r.errorf(from, "includes nested deeper than %d levels at %s", maxIncludeDepth, name)
		return
	}
	if r.files >= maxIncludeFiles {
		r.errorf(from, "more than %d files included", maxIncludeFiles)
		return
	}
	r.files++
	data, err := r.src.readFile(name)
	if err != nil {
		if from.File == "" {
			// The main file: there is no including line to point at.
			from = Pos{File: name}
		}
		if from.Line == 0 || mustExist {
			r.errorf(from, "cannot read %s: %v", name, unwrapPathErr(err))
		} else {
			r.warnf(from, "included file %s cannot be read (ignored, as keepalived does): %v", name, unwrapPathErr(err))
		}
		return
	}
	r.bytes += len(data)
	if r.bytes > maxTotalBytes {
		r.errorf(from, "configuration larger than %d bytes", maxTotalBytes)
		return
	}
	r.stack = append(r.stack, name)
	r.readText(name, string(data))
	r.stack = r.stack[:len(r.stack)-1]
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readText processes the text of one file.
func (r *reader) readText(name, text string) {
	phys := strings.Split(text, "\n")
	for i := 0; i < len(phys); i++ {
		if r.overflow {
			return
		}
		lineNo := i + 1
		raw := strings.TrimRight(phys[i], "\r")
		if strings.IndexByte(raw, 0) >= 0 {
			r.errorf(Pos{name, lineNo, 1}, "line contains a NUL byte (ignored)")
			continue
		}
		if len(raw) > maxLineLen {
			r.errorf(Pos{name, lineNo, 1}, "line longer than %d bytes (ignored)", maxLineLen)
			continue
		}
		trimmed := strings.TrimLeft(raw, " \t")
		col := len(raw) - len(trimmed) + 1
		// include lines are recognised before conditionals and variables.
		if w, rest, ok := cutWord(trimmed); ok && isIncludeWord(w) {
			r.include(name, Pos{name, lineNo, col}, w, decomment(rest))
			continue
		}
		// @id / @^id conditional lines.
		if strings.HasPrefix(trimmed, "@") {
			w, rest, _ := cutWord(trimmed)
			id := w[1:]
			neg := strings.HasPrefix(id, "^")
			if neg {
				id = id[1:]
			}
			if (id == r.configID) == neg || strings.TrimSpace(rest) == "" {
				continue
			}
			col += len(trimmed) - len(strings.TrimLeft(rest, " \t"))
			trimmed = strings.TrimLeft(rest, " \t")
		}
		// $NAME=VALUE definitions, possibly continued with trailing '\'.
		if name2, val, ok := parseDefinition(trimmed); ok {
			val = strings.TrimRight(decomment(val), " \t")
			multi := false
			for strings.HasSuffix(val, "\\") && i+1 < len(phys) {
				multi = true
				i++
				next := strings.TrimSpace(decomment(strings.TrimRight(phys[i], "\r")))
				val = strings.TrimSuffix(val, "\\") + "\n" + next
			}
			if multi {
				val = strings.TrimSuffix(strings.TrimPrefix(val, "\n"), "\\")
			}
			r.vars[name2] = val
			continue
		}
		line := strings.TrimRight(decomment(trimmed), " \t")
		if line == "" {
			continue
		}
		if !r.expandLine(Pos{name, lineNo, col}, line, 0) {
			return
		}
	}
}

// expandLine runs generators, substitutes variables and splits braces of
// one line. It reports false when the reader must stop (size bound hit).
func (r *reader) expandLine(at Pos, line string, depth int) bool {
	if strings.HasPrefix(line, "~SEQ") || strings.HasPrefix(line, "~LST") {
		return r.generate(at, line, depth)
	}
	if strings.Contains(line, "$") {
		line = r.substitute(at, line, 0)
		if len(line) > maxLineLen {
			r.errorf(at, "line longer than %d bytes after $ substitution (ignored)", maxLineLen)
			return true
		}
	}
	r.expanded += len(line)
	if r.expanded > maxExpanded {
		r.errorf(at, "configuration larger than %d bytes after $ substitution", maxExpanded)
		r.overflow = true
		return false
	}
	// A multi-line variable expands into several lines.
	for _, l := range strings.Split(line, "\n") {
		r.splitBraces(at, strings.TrimSpace(l))
	}
	return !r.overflow
}

// generate expands keepalived's generators: ~SEQ(var, [start, [step,]] end)
// (~SEQx: hexadecimal values) and ~LST(var, v1, v2, ...) or
// ~LST({a,b}, {1,2}, {3,4}) repeat the rest of the line with var set to
// each value. They nest.
func (r *reader) generate(at Pos, line string, depth int) bool {
	if depth >= maxVarDepth {
		r.errorf(at, "generators nested deeper than %d levels", maxVarDepth)
		return true
	}
	kind := line[:4]
	hex := strings.HasPrefix(line, "~SEQx")
	open := strings.IndexByte(line, '(')
	closeAt := matchParen(line, open)
	if open < 0 || closeAt < 0 || strings.TrimSpace(line[4:open]) != map[bool]string{true: "x", false: ""}[hex] {
		r.errorf(at, "%s: expected %s(...)", kind, kind)
		return true
	}
	args := splitTopLevel(line[open+1 : closeAt])
	rest := strings.TrimSpace(line[closeAt+1:])
	var names []string
	var rows [][]string
	switch kind {
	case "~SEQ":
		if len(args) < 2 || len(args) > 4 {
			r.errorf(at, "~SEQ needs (var, end), (var, start, end) or (var, start, step, end)")
			return true
		}
		base := 10
		if hex {
			base = 16
		}
		nums := make([]int64, len(args)-1)
		for i, a := range args[1:] {
			n, err := strconv.ParseInt(a, base, 64)
			if err != nil {
				r.errorf(at, "~SEQ: bad number %q", a)
				return true
			}
			nums[i] = n
		}
		start, end := int64(1), nums[len(nums)-1]
		if len(nums) > 1 {
			start = nums[0]
		}
		step := int64(1)
		if end < start {
			step = -1
		}
		if len(nums) == 3 {
			step = nums[1]
		}
		if step == 0 || (end-start)/step < 0 {
			r.errorf(at, "~SEQ: step %d never reaches %d from %d", step, end, start)
			return true
		}
		names = []string{args[0]}
		for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
			if len(rows) >= maxGenerated {
				r.errorf(at, "~SEQ generates more than %d lines", maxGenerated)
				return true
			}
			rows = append(rows, []string{strconv.FormatInt(v, base)})
		}
	default:
		if len(args) < 1 {
			r.errorf(at, "~LST needs (var, values...)")
			return true
		}
		names = splitTopLevel(strings.TrimSuffix(strings.TrimPrefix(args[0], "{"), "}"))
		for _, a := range args[1:] {
			vals := []string{a}
			if len(names) > 1 {
				vals = splitTopLevel(strings.TrimSuffix(strings.TrimPrefix(a, "{"), "}"))
			}
			if len(vals) != len(names) {
				r.errorf(at, "~LST: %q does not give a value for each of %v", a, names)
				return true
			}
			rows = append(rows, vals)
		}
	}
	for _, n := range names {
		if !validVarName(n) {
			r.errorf(at, "%s: bad variable name %q", kind, n)
			return true
		}
	}
	saved := make(map[string]*string, len(names))
	for _, n := range names {
		if v, ok := r.vars[n]; ok {
			saved[n] = &v
		} else {
			saved[n] = nil
		}
	}
	defer func() {
		for n, v := range saved {
			if v == nil {
				delete(r.vars, n)
			} else {
				r.vars[n] = *v
			}
		}
	}()
	for _, row := range rows {
		for i, n := range names {
			r.vars[n] = row[i]
		}
		if !r.expandLine(at, rest, depth+1) {
			return false
		}
	}
	return true
}

// matchParen returns the index of the ")" that closes the "(" at open, or
// -1.
func matchParen(s string, open int) int {
	if open < 0 {
		return -1
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTopLevel splits s at commas outside braces and trims each part.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" || len(out) > 0 {
		out = append(out, t)
	}
	return out
}

func isIncludeWord(w string) bool {
	switch w {
	case "include", "includer", "includem", "includew", "includeb", "includea":
		return true
	}
	return false
}

// include handles `include[rmwba] PATTERN`.
func (r *reader) include(name string, at Pos, word, rest string) {
	argAt := at
	argAt.Col += len(word)
	toks := tokenize(argAt, rest)
	if len(toks) == 0 {
		r.errorf(at, "%s: missing file name", word)
		return
	}
	if len(toks) > 1 {
		r.warnf(toks[1].Pos, "%s: extra argument %q ignored", word, toks[1].Text)
	}
	strict := word != "include" // the letter forms make failures errors
	for _, pat := range expandBraces(toks[0].Text) {
		full := r.src.resolve(name, pat)
		if !hasGlobMeta(pat) {
			r.readFile(full, toks[0].Pos, strict)
			continue
		}
		if strings.Count(pat, "*")+strings.Count(pat, "?")+strings.Count(pat, "[") > maxGlobMeta {
			r.errorf(toks[0].Pos, "%s: pattern %q has more than %d wildcards", word, pat, maxGlobMeta)
			continue
		}
		matches, err := r.src.glob(full)
		if err != nil {
			r.errorf(toks[0].Pos, "%s: bad pattern %q: %v", word, pat, err)
			continue
		}
		if len(matches) == 0 {
			if strict {
				r.errorf(toks[0].Pos, "%s: no file matches %q", word, pat)
			} else {
				r.warnf(toks[0].Pos, "include: no file matches %q", pat)
			}
		}
		sort.Strings(matches)
		for _, m := range matches {
			r.readFile(m, toks[0].Pos, strict)
		}
	}
}

func hasGlobMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

// expandBraces expands csh-style {a,b} alternatives, at most
// maxBraceExpansion results.
func expandBraces(s string) []string {
	open := strings.IndexByte(s, '{')
	if open < 0 {
		return []string{s}
	}
	closeAt := strings.IndexByte(s[open:], '}')
	if closeAt < 0 {
		return []string{s}
	}
	closeAt += open
	rests := expandBraces(s[closeAt+1:])
	var out []string
	for _, alt := range strings.Split(s[open+1:closeAt], ",") {
		for _, rest := range rests {
			out = append(out, s[:open]+alt+rest)
			if len(out) >= maxBraceExpansion {
				return out
			}
		}
	}
	return out
}

// cutWord splits s at the first blank.
func cutWord(s string) (word, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, "", true
	}
	return s[:i], s[i:], true
}

// parseDefinition recognises `$NAME=VALUE`.
func parseDefinition(s string) (name, val string, ok bool) {
	if !strings.HasPrefix(s, "$") {
		return "", "", false
	}
	eq := strings.IndexByte(s, '=')
	if eq < 2 {
		return "", "", false
	}
	name = s[1:eq]
	if !validVarName(name) {
		return "", "", false
	}
	return name, s[eq+1:], true
}

func validVarName(n string) bool {
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isVarChar(n[i]) {
			return false
		}
	}
	return true
}

func isVarChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// decomment cuts s at the first # or ! outside double quotes; \# and \!
// outside quotes become literal characters.
func decomment(s string) string {
	var b strings.Builder
	inQ := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQ = !inQ
		case !inQ && c == '\\' && i+1 < len(s) && (s[i+1] == '#' || s[i+1] == '!'):
			b.WriteByte(s[i+1])
			i++
			continue
		case !inQ && (c == '#' || c == '!'):
			return b.String()
		}
		b.WriteByte(c)
	}
	return b.String()
}

// substitute replaces $NAME (followed by a blank or the end) and ${NAME}
// with their definitions, recursively; undefined names are left alone.
func (r *reader) substitute(at Pos, s string, depth int) string {
	if depth > maxVarDepth {
		r.errorf(at, "$ substitution nested deeper than %d levels", maxVarDepth)
		return s
	}
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		var name string
		var end int
		if strings.HasPrefix(s[i+1:], "{") {
			c := strings.IndexByte(s[i+2:], '}')
			if c < 0 {
				// No later ${ can be closed either.
				b.WriteString(s[i:])
				break
			}
			name = s[i+2 : i+2+c]
			end = i + 2 + c + 1
		} else {
			j := i + 1
			for j < len(s) && isVarChar(s[j]) {
				j++
			}
			if (j < len(s) && s[j] != ' ' && s[j] != '\t') || !validVarName(s[i+1:j]) {
				b.WriteByte('$')
				continue
			}
			name = s[i+1 : j]
			end = j
		}
		val, ok := r.builtin(at, name)
		if !ok {
			val, ok = r.vars[name]
		}
		if !ok {
			b.WriteString(s[i:end])
			i = end - 1
			continue
		}
		if b.Len()+len(val) > maxLineLen {
			r.errorf(at, "line longer than %d bytes after $ substitution", maxLineLen)
			return s
		}
		b.WriteString(val)
		changed = true
		i = end - 1
	}
	if changed && strings.Contains(b.String(), "$") {
		return r.substitute(at, b.String(), depth+1)
	}
	return b.String()
}

// builtin returns keepalived's built-in variables that do not depend on
// the environment (${_PWD}, ${_INSTANCE}, ${_HASH}, ${_BANG}).
func (r *reader) builtin(at Pos, name string) (string, bool) {
	switch name {
	case "_PWD":
		return path.Dir(filepath.ToSlash(at.File)), true
	case "_INSTANCE":
		return r.configID, true
	case "_HASH":
		return "#", true
	case "_BANG":
		return "!", true
	}
	if strings.HasPrefix(name, "_RANDOM") || strings.HasPrefix(name, "_ENV") {
		r.warnf(at, "${%s} is not supported (uvs configurations are reproducible); left unexpanded", name)
	}
	return "", false
}

// splitBraces cuts a line at each { or } outside double quotes and appends
// the pieces as logical lines.
func (r *reader) splitBraces(at Pos, line string) {
	start := 0
	inQ := false
	emit := func(s string, off int) {
		off += len(s) - len(strings.TrimLeft(s, " \t"))
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		if len(r.lines) >= maxTotalLines {
			if !r.overflow {
				r.errorf(at, "configuration has more than %d lines", maxTotalLines)
				r.overflow = true
			}
			return
		}
		p := at
		p.Col += off
		toks := tokenize(p, s)
		if len(toks) == 0 {
			return
		}
		r.lines = append(r.lines, kline{Pos: toks[0].Pos, Toks: toks, Raw: s})
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '"' {
			inQ = !inQ
			continue
		}
		if inQ || (c != '{' && c != '}') {
			continue
		}
		emit(line[start:i], start)
		emit(line[i:i+1], i)
		start = i + 1
	}
	emit(line[start:], start)
	if inQ {
		// keepalived reports it too; the quoted text runs to the end of
		// the line.
		r.warnf(at, "unmatched '\"' (the quoted text runs to the end of the line)")
	}
}

// tokenize splits s on blanks; a double-quoted string is one token without
// its quotes. at is the position of s[0].
func tokenize(at Pos, s string) []token {
	var toks []token
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		p := at
		p.Col += i
		if s[i] == '"' {
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				toks = append(toks, token{Pos: p, Text: s[i+1:], Quoted: true})
				break
			}
			toks = append(toks, token{Pos: p, Text: s[i+1 : i+1+j], Quoted: true})
			i += j + 2
			continue
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '"' {
			j++
		}
		toks = append(toks, token{Pos: p, Text: s[i:j]})
		i = j
	}
	return toks
}

// shellWords splits the argument text of a script keyword the way
// keepalived's quoted-keyword parser does: ' and " both quote, adjacent
// quoted and unquoted pieces form one word, and backslash escapes are
// decoded. It reports whether a quote was left open.
func shellWords(s string) (words []string, unterminated bool) {
	var b strings.Builder
	inWord := false
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
			inWord = true
		case q == 0 && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		case c == '\\' && i+1 < len(s) && q != '\'':
			i++
			b.WriteByte(unescape(s[i]))
			inWord = true
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words, q != 0
}

// unescape maps the character after a backslash (shell-style \n, \t, ...).
func unescape(c byte) byte {
	switch c {
	case 'a':
		return '\a'
	case 'b':
		return '\b'
	case 'E':
		return 0x1b // ESC
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'v':
		return '\v'
	}
	return c
}

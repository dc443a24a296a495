package conf

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// This file holds the generic machinery of the keepalived.conf block
// parser: walking lines and blocks, and typed argument readers that report
// problems at the offending token.

// kparser walks the logical lines of a keepalived.conf.
type kparser struct {
	lines []kline
	i     int
	cfg   *Config
	probs problems
}

func problemf(p Pos, sev Severity, format string, args ...any) Problem {
	return Problem{Pos: p, Severity: sev, Msg: fmt.Sprintf(format, args...)}
}

// maxProblems bounds the problems one stage records, so that a hostile or
// mangled file cannot make uvs format millions of messages; the rest are
// counted.
const maxProblems = 1000

// problems collects problems up to maxProblems.
type problems struct {
	list    []Problem
	dropped int
}

func (ps *problems) add(p ...Problem) {
	for _, q := range p {
		if len(ps.list) >= maxProblems {
			ps.dropped++
			continue
		}
		ps.list = append(ps.list, q)
	}
}

func (ps *problems) addf(at Pos, sev Severity, format string, args ...any) {
	if len(ps.list) >= maxProblems {
		ps.dropped++
		return
	}
	ps.list = append(ps.list, problemf(at, sev, format, args...))
}

// result returns the problems, with a final error saying how many were
// left out.
func (ps *problems) result() []Problem {
	if ps.dropped > 0 {
		last := ps.list[len(ps.list)-1].Pos
		ps.list = append(ps.list, problemf(last, SeverityError, "too many problems: %d more not shown", ps.dropped))
		ps.dropped = 0
	}
	return ps.list
}

func (p *kparser) errorf(at Pos, format string, args ...any) {
	p.probs.addf(at, SeverityError, format, args...)
}

func (p *kparser) warnf(at Pos, format string, args ...any) {
	p.probs.addf(at, SeverityWarning, format, args...)
}

// nextIsOpen reports whether the next line is a lone "{".
func (p *kparser) nextIsOpen() bool {
	return p.i < len(p.lines) && p.lines[p.i].isOpen()
}

// skipBlock skips a balanced { ... } that starts at the next line, if any.
// It reports whether the block was terminated.
func (p *kparser) skipBlock(kw *kline) bool {
	if !p.nextIsOpen() {
		return true
	}
	p.i++
	depth := 1
	for p.i < len(p.lines) {
		l := &p.lines[p.i]
		p.i++
		switch {
		case l.isOpen():
			depth++
		case l.isClose():
			depth--
			if depth == 0 {
				return true
			}
		}
	}
	p.errorf(kw.Pos, "unterminated block '%s': missing '}'", kw.word())
	return false
}

// body runs fn for every line inside the { } block that follows the
// keyword line kw, and consumes the closing }. fn may itself consume
// nested blocks with body, skipBlock or valueBody.
func (p *kparser) body(kw *kline, fn func(l *kline)) {
	if !p.nextIsOpen() {
		p.errorf(kw.Pos, "'%s' needs a block: expected '{'", kw.word())
		return
	}
	p.i++
	for p.i < len(p.lines) {
		l := &p.lines[p.i]
		p.i++
		switch {
		case l.isClose():
			return
		case l.isOpen():
			p.errorf(l.Pos, "unexpected '{' (block skipped)")
			p.i--
			p.skipBlock(l)
			continue
		}
		fn(l)
	}
	p.errorf(kw.Pos, "unterminated block '%s': missing '}'", kw.word())
}

// unknown reports an unknown keyword and skips its block, if it has one,
// as a whole (keepalived would instead parse the block's contents at the
// current level and let its } close the parent).
func (p *kparser) unknown(l *kline, where string) {
	if p.nextIsOpen() {
		p.warnf(l.Pos, "unknown block '%s' in %s (skipped)", l.word(), where)
		p.skipBlock(l)
		return
	}
	p.warnf(l.Pos, "unknown keyword '%s' in %s (ignored)", l.word(), where)
}

// unsupported reports a keyword that keepalived knows but uvs does not
// implement, and skips its block if it has one.
func (p *kparser) unsupported(l *kline) {
	p.warnf(l.Pos, "'%s' is not supported by uvs (ignored)", l.word())
	p.skipBlock(l)
}

// deprecated reports an old spelling that is still accepted.
func (p *kparser) deprecated(l *kline, use string) {
	p.warnf(l.Pos, "'%s' is deprecated, use '%s'", l.word(), use)
}

// arg returns argument i (1-based after the keyword), reporting a missing
// value.
func (p *kparser) arg(l *kline, i int) (token, bool) {
	if i < len(l.Toks) {
		return l.Toks[i], true
	}
	p.errorf(l.Pos, "'%s': missing value", l.word())
	return token{}, false
}

// extra warns about arguments after the first n.
func (p *kparser) extra(l *kline, n int) {
	if len(l.Toks) > n+1 {
		t := l.Toks[n+1]
		p.warnf(t.Pos, "'%s': extra argument '%s' ignored", l.word(), t.Text)
	}
}

// str returns the single string argument.
func (p *kparser) str(l *kline) string {
	t, ok := p.arg(l, 1)
	if !ok {
		return ""
	}
	p.extra(l, 1)
	return t.Text
}

// intTok parses a decimal integer in [lo, hi].
func (p *kparser) intTok(l *kline, t token, lo, hi int64) (int64, bool) {
	n, err := strconv.ParseInt(t.Text, 10, 64)
	if err != nil {
		p.errorf(t.Pos, "'%s': bad number '%s'", l.word(), t.Text)
		return 0, false
	}
	if n < lo || n > hi {
		p.errorf(t.Pos, "'%s': %d is out of range [%d, %d]", l.word(), n, lo, hi)
		return 0, false
	}
	return n, true
}

// intArg parses argument 1 as an integer in [lo, hi].
func (p *kparser) intArg(l *kline, lo, hi int64) (int, bool) {
	t, ok := p.arg(l, 1)
	if !ok {
		return 0, false
	}
	p.extra(l, 1)
	n, ok := p.intTok(l, t, lo, hi)
	return int(n), ok
}

// intPtr is intArg for optional fields.
func (p *kparser) intPtr(l *kline, lo, hi int64, dst **int) {
	if n, ok := p.intArg(l, lo, hi); ok {
		*dst = &n
	}
}

// parseSeconds parses keepalived's decimal seconds with microsecond
// resolution ("2", "2.5", "0.001").
func parseSeconds(s string) (time.Duration, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if intPart == "" && !hasFrac {
		return 0, false
	}
	var secs int64
	if intPart != "" {
		n, err := strconv.ParseUint(intPart, 10, 32)
		if err != nil {
			return 0, false
		}
		secs = int64(n)
	}
	var us int64
	if hasFrac {
		if frac == "" || len(frac) > 6 {
			return 0, false
		}
		for _, c := range frac {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		n, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
		us = n
	}
	return time.Duration(secs)*time.Second + time.Duration(us)*time.Microsecond, true
}

// durTok parses a timer token in [lo, hi].
func (p *kparser) durTok(l *kline, t token, lo, hi time.Duration) (time.Duration, bool) {
	d, ok := parseSeconds(t.Text)
	if !ok {
		p.errorf(t.Pos, "'%s': bad number of seconds '%s'", l.word(), t.Text)
		return 0, false
	}
	if d < lo || d > hi {
		p.errorf(t.Pos, "'%s': %s is out of range [%s, %s]", l.word(), t.Text, fmtSeconds(lo), fmtSeconds(hi))
		return 0, false
	}
	return d, true
}

// fmtSeconds formats d as keepalived's decimal seconds.
func fmtSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// maxTimer is keepalived's largest timer value, UINT_MAX microseconds
// (read_timer in lib/parser.c).
const maxTimer = time.Duration(math.MaxUint32) * time.Microsecond

// dur parses argument 1 as a timer in [lo, hi].
func (p *kparser) dur(l *kline, lo, hi time.Duration) (time.Duration, bool) {
	t, ok := p.arg(l, 1)
	if !ok {
		return 0, false
	}
	p.extra(l, 1)
	return p.durTok(l, t, lo, hi)
}

// durPtr is dur for optional fields.
func (p *kparser) durPtr(l *kline, lo, hi time.Duration, dst **time.Duration) {
	if d, ok := p.dur(l, lo, hi); ok {
		*dst = &d
	}
}

// boolOpt parses an optional boolean: no argument means true.
func (p *kparser) boolOpt(l *kline) bool {
	if len(l.Toks) < 2 {
		return true
	}
	p.extra(l, 1)
	t := l.Toks[1]
	switch t.Text {
	case "on", "true", "yes":
		return true
	case "off", "false", "no":
		return false
	}
	p.errorf(t.Pos, "'%s': bad boolean '%s' (want on|off|true|false|yes|no)", l.word(), t.Text)
	return true
}

// boolPtr is boolOpt for optional fields.
func (p *kparser) boolPtr(l *kline, dst **bool) {
	b := p.boolOpt(l)
	*dst = &b
}

// addrTok parses an IP address token.
func (p *kparser) addrTok(l *kline, t token) (netip.Addr, bool) {
	a, err := netip.ParseAddr(t.Text)
	if err != nil || a.Zone() != "" {
		p.errorf(t.Pos, "'%s': bad IP address '%s'", l.word(), t.Text)
		return netip.Addr{}, false
	}
	return a, true
}

// addr parses argument 1 as an IP address.
func (p *kparser) addr(l *kline) netip.Addr {
	t, ok := p.arg(l, 1)
	if !ok {
		return netip.Addr{}
	}
	p.extra(l, 1)
	a, _ := p.addrTok(l, t)
	return a
}

// portTok parses a port number 0..65535.
func (p *kparser) portTok(l *kline, t token) (uint16, bool) {
	n, ok := p.intTok(l, t, 0, math.MaxUint16)
	return uint16(n), ok
}

// port parses argument 1 as a port.
func (p *kparser) port(l *kline) uint16 {
	t, ok := p.arg(l, 1)
	if !ok {
		return 0
	}
	p.extra(l, 1)
	n, _ := p.portTok(l, t)
	return n
}

// script parses a script keyword: `KEYWORD "command args" [user [group]]`.
// Only the first word is the command (keepalived §1.2); quote it if it has
// arguments.
func (p *kparser) script(l *kline) Script {
	_, rest, _ := cutWord(l.Raw)
	words, open := shellWords(rest)
	if open {
		p.errorf(l.Pos, "'%s': unterminated quote", l.word())
	}
	if len(words) == 0 || words[0] == "" {
		p.errorf(l.Pos, "'%s': missing command", l.word())
		return Script{}
	}
	s := Script{Command: words[0]}
	if len(words) > 1 {
		s.User = words[1]
	}
	if len(words) > 2 {
		s.Group = strings.TrimPrefix(words[2], ":")
	}
	if len(words) > 3 && len(l.Toks) > 4 {
		p.warnf(l.Toks[4].Pos, "'%s': extra argument '%s' ignored", l.word(), words[3])
	}
	return s
}

// mask2len converts a dotted IPv4 netmask into a prefix length.
func mask2len(s string) (int, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for n < 32 && m&(1<<(31-n)) != 0 {
		n++
	}
	if n < 32 && m<<n != 0 {
		return 0, false // not contiguous
	}
	return n, true
}

// parsePrefixOrAddr parses ADDR or ADDR/len; a bare address gets a full
// length. The address is kept unmasked.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return pf, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zones are not allowed")
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

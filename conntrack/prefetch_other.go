//go:build !amd64

package conntrack

// prefetchAll is a hint only; without an assembly version it does nothing.
func prefetchAll(p *uintptr, n int) {}

package conntrack

// prefetchAll asks the CPU to start loading the cache lines at the n
// addresses p[0:n] (PREFETCHT0), without waiting for them. Go has no
// prefetch intrinsic; a plain load of each line would also start the miss,
// but it holds up retirement until the data arrives, so only as many
// misses as the reorder buffer spans can be in flight; a prefetch retires
// at once. It is not a memory access for the race detector.
//
//go:noescape
func prefetchAll(p *uintptr, n int)

package dataplane

import (
	"net/netip"
	"sync"
	"testing"
)

func TestMACCache(t *testing.T) {
	c := newMACCache()
	a := netip.MustParseAddr("198.51.100.10")
	b := netip.MustParseAddr("2001:db8::10")
	if _, ok := c.load(a); ok {
		t.Fatalf("load(%v) on empty cache: ok", a)
	}
	c.store(a, MAC{2, 0, 0, 0, 1, 0x10})
	c.store(b, MAC{0, 0, 0, 0, 0, 0})
	if m, ok := c.load(a); !ok || m != (MAC{2, 0, 0, 0, 1, 0x10}) {
		t.Fatalf("load(%v) = %v, %v", a, m, ok)
	}
	if m, ok := c.load(b); !ok || m != (MAC{}) {
		t.Fatalf("load(%v) = %v, %v; an all-zero MAC must still be found", b, m, ok)
	}
	if _, ok := c.load(netip.MustParseAddr("198.51.100.11")); ok {
		t.Fatal("load of an address never stored: ok")
	}
}

// TestMACCacheConcurrent exercises the sequence lock under the race
// detector: readers never see a torn entry.
func TestMACCacheConcurrent(t *testing.T) {
	c := newMACCache()
	a := netip.MustParseAddr("198.51.100.10")
	macs := []MAC{{1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2}}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 5000; i++ {
			c.store(a, macs[i%2])
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 5000; i++ {
			if m, ok := c.load(a); ok && m != macs[0] && m != macs[1] {
				t.Errorf("torn read: %v", m)
				return
			}
		}
	}()
	wg.Wait()
}

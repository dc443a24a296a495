package scheduler

import (
	"errors"
	"slices"
	"testing"
)

func TestListKernelOrder(t *testing.T) {
	var l List
	// ipvsadm -a A; -a B; -a C gives the kernel order C, B, A (§1.2).
	for _, d := range []Dest{dest(1, 1), dest(2, 1), dest(3, 1)} {
		if err := l.Add(d); err != nil {
			t.Fatalf("Add(%v) = %v", d, err)
		}
	}
	if got, want := ids(l.Dests()), []DestID{3, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("after Add 1,2,3: Dests() = %v, want %v", got, want)
	}
	// Edit keeps the position.
	if err := l.Edit(dest(2, 7)); err != nil {
		t.Fatalf("Edit(2) = %v", err)
	}
	if d, _ := l.Get(2); d.Weight != 7 {
		t.Fatalf("Get(2).Weight = %d, want 7", d.Weight)
	}
	if got, want := ids(l.Dests()), []DestID{3, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("after Edit(2): Dests() = %v, want %v", got, want)
	}
	// Remove, then re-add: it comes back at the head.
	if err := l.Remove(2); err != nil {
		t.Fatalf("Remove(2) = %v", err)
	}
	if err := l.Add(dest(2, 1)); err != nil {
		t.Fatalf("Add(2) = %v", err)
	}
	if got, want := ids(l.Dests()), []DestID{2, 3, 1}; !slices.Equal(got, want) {
		t.Fatalf("after Remove(2), Add(2): Dests() = %v, want %v", got, want)
	}
	if l.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", l.Len())
	}
}

func TestListErrors(t *testing.T) {
	var l List
	if err := l.Add(dest(1, 1)); err != nil {
		t.Fatalf("Add(1) = %v", err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"Add duplicate", l.Add(dest(1, 2)), ErrExists},
		{"Add zero ID", l.Add(dest(0, 1)), ErrInvalidDest},
		{"Add negative weight", l.Add(dest(5, -1)), ErrInvalidDest},
		{"Edit unknown", l.Edit(dest(9, 1)), ErrNotFound},
		{"Edit negative weight", l.Edit(dest(1, -3)), ErrInvalidDest},
		{"Remove unknown", l.Remove(9), ErrNotFound},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if l.Len() != 1 {
		t.Fatalf("Len() after failed operations = %d, want 1", l.Len())
	}
}

func TestUpdateRejectsBadLists(t *testing.T) {
	for _, name := range Names() {
		s := mustNew(t, name, 0, newFakeLoad(), Options{})
		for _, bad := range [][]Dest{
			{dest(1, 1), dest(1, 2)},
			{dest(0, 1)},
			{dest(2, -1)},
		} {
			if err := s.Update(bad); !errors.Is(err, ErrInvalidDest) {
				t.Errorf("%s.Update(%v) = %v, want ErrInvalidDest", name, bad, err)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("bogus", 0, newFakeLoad(), Options{}); !errors.Is(err, ErrUnknown) {
		t.Errorf("New(bogus) = %v, want ErrUnknown", err)
	}
	if _, err := New("rr", 0, nil, Options{}); !errors.Is(err, ErrBadOption) {
		t.Errorf("New(rr, nil Load) = %v, want ErrBadOption", err)
	}
	for _, o := range []Options{{SHTabBits: 3}, {SHTabBits: 21}} {
		if _, err := New("sh", 0, newFakeLoad(), o); !errors.Is(err, ErrBadOption) {
			t.Errorf("New(sh, %+v) = %v, want ErrBadOption", o, err)
		}
	}
	for _, o := range []Options{{MHTabIndex: 7}, {MHTabIndex: 18}} {
		if _, err := New("mh", 0, newFakeLoad(), o); !errors.Is(err, ErrBadOption) {
			t.Errorf("New(mh, %+v) = %v, want ErrBadOption", o, err)
		}
	}
	if _, err := New("lblc", 0, newFakeLoad(), Options{Expiration: -1}); !errors.Is(err, ErrBadOption) {
		t.Errorf("New(lblc, Expiration -1) = %v, want ErrBadOption", err)
	}
	for _, n := range Names() {
		s, err := New(n, 0, newFakeLoad(), Options{})
		if err != nil {
			t.Fatalf("New(%q) = %v", n, err)
		}
		if s.Name() != n {
			t.Errorf("New(%q).Name() = %q", n, s.Name())
		}
		// No real servers: nothing to pick.
		if d, ok := s.Pick(&Input{}); ok {
			t.Errorf("%s.Pick with no real servers = %v, true; want none", n, d)
		}
	}
	if got := len(Names()); got != 14 {
		t.Errorf("len(Names()) = %d, want 14", got)
	}
}

func TestSvcFlags(t *testing.T) {
	for _, tc := range []struct {
		svc  uint32
		want Flags
	}{
		{0, 0},
		{0x0001 | 0x0002 | 0x0004, 0}, // PERSISTENT, HASHED, ONEPACKET
		{0x0008, FlagFallback},
		{0x0010, FlagPort},
		{0x0020, Flag3},
		{0x0008 | 0x0010 | 0x0001, FlagFallback | FlagPort},
	} {
		if got := SvcFlags(tc.svc); got != tc.want {
			t.Errorf("SvcFlags(%#x) = %d, want %d", tc.svc, got, tc.want)
		}
	}
}

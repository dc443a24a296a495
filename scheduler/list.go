package scheduler

import "fmt"

// List is a virtual service's real-server list in kernel order
// (reference ipvs.md §1.2): Add inserts at the head, so after Add(A), Add(B),
// Add(C) the order is C, B, A; Edit replaces a real server in place, keeping
// its position; Remove unlinks it. Every scheduler scans this order, so it
// decides every tie.
//
// The director keeps one List per service and, after each operation, passes
// Dests() to Scheduler.Update. List is not safe for concurrent use.
type List struct {
	dests []Dest // dests[0] is the head
}

func checkDest(d Dest) error {
	if d.ID == 0 {
		return fmt.Errorf("real server %v:%d has zero ID: %w", d.Addr, d.Port, ErrInvalidDest)
	}
	if d.Weight < 0 {
		return fmt.Errorf("real server %d weight %d < 0: %w", d.ID, d.Weight, ErrInvalidDest)
	}
	return nil
}

func (l *List) index(id DestID) int {
	for i := range l.dests {
		if l.dests[i].ID == id {
			return i
		}
	}
	return -1
}

// Add inserts d at the head of the list, as ip_vs_add_dest does
// (list_add_rcu). It fails with ErrExists if d.ID is already present and
// with ErrInvalidDest for a zero ID or a negative weight.
func (l *List) Add(d Dest) error {
	if err := checkDest(d); err != nil {
		return err
	}
	if l.index(d.ID) >= 0 {
		return fmt.Errorf("real server %d: %w", d.ID, ErrExists)
	}
	l.dests = append(l.dests, Dest{})
	copy(l.dests[1:], l.dests)
	l.dests[0] = d
	return nil
}

// Edit replaces the real server with d.ID by d without moving it
// (ip_vs_edit_dest).
func (l *List) Edit(d Dest) error {
	if err := checkDest(d); err != nil {
		return err
	}
	i := l.index(d.ID)
	if i < 0 {
		return fmt.Errorf("real server %d: %w", d.ID, ErrNotFound)
	}
	l.dests[i] = d
	return nil
}

// Remove unlinks the real server with id (ip_vs_del_dest).
func (l *List) Remove(id DestID) error {
	i := l.index(id)
	if i < 0 {
		return fmt.Errorf("real server %d: %w", id, ErrNotFound)
	}
	l.dests = append(l.dests[:i], l.dests[i+1:]...)
	return nil
}

// Get returns the real server with id.
func (l *List) Get(id DestID) (Dest, bool) {
	i := l.index(id)
	if i < 0 {
		return Dest{}, false
	}
	return l.dests[i], true
}

// Len returns the number of real servers.
func (l *List) Len() int { return len(l.dests) }

// Dests returns a copy of the list, head first.
func (l *List) Dests() []Dest {
	out := make([]Dest, len(l.dests))
	copy(out, l.dests)
	return out
}

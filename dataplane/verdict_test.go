package dataplane

import "testing"

func TestActionNames(t *testing.T) {
	want := map[Action]string{
		ActNAT: "nat", ActDR: "dr", ActTUN: "tun", ActReplyNAT: "reply-nat",
		ActARPReply: "arp-reply", ActARPRequest: "arp-request", ActICMP: "icmp",
		ActDrop: "drop", ActPass: "pass", 0: "invalid", numActions: "invalid",
	}
	for a, w := range want {
		if got := a.String(); got != w {
			t.Errorf("Action(%d).String() = %q, want %q", a, got, w)
		}
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]Reason{}
	for r := Reason(2); int(r) < NumReasons; r++ {
		n := r.String()
		if n == "" || n == "invalid" {
			t.Errorf("Reason(%d).String() = %q", r, n)
		}
		if o, dup := seen[n]; dup {
			t.Errorf("Reason(%d) and Reason(%d) are both %q", o, r, n)
		}
		seen[n] = r
	}
	if got := ReasonNoDest.String(); got != "no_dest" {
		t.Errorf("ReasonNoDest.String() = %q", got)
	}
	if got := Reason(NumReasons).String(); got != "invalid" {
		t.Errorf("Reason(NumReasons).String() = %q, want invalid", got)
	}
}

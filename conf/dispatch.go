package conf

// parseLdirectord and parseIPVSRules dispatch to the ldirectord.cf and
// ipvsadm rules readers (ldirectord.go, ipvsadm.go).

func parseLdirectord(name string, src []byte) (*Config, []Problem) {
	return ParseLdirectord(name, src)
}

func parseIPVSRules(name string, src []byte) (*Config, []Problem) {
	return ParseIPVSRules(name, src)
}

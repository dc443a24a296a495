package conf

// parseLdirectord and parseIPVSRules dispatch to the ldirectord.cf and
// ipvsadm rules readers.

func parseLdirectord(name string, src []byte) (*Config, []Problem) {
	return &Config{Format: FormatLdirectord}, []Problem{problemf(Pos{File: name, Line: 1, Col: 1}, SeverityError, "ldirectord.cf is not supported yet")}
}

func parseIPVSRules(name string, src []byte) (*Config, []Problem) {
	return &Config{Format: FormatIPVSRules}, []Problem{problemf(Pos{File: name, Line: 1, Col: 1}, SeverityError, "ipvsadm rules are not supported yet")}
}

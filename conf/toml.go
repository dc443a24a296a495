package conf

// ParseTOML reads uvs's native TOML.
func ParseTOML(name string, src []byte) (*Config, []Problem) {
	return &Config{Format: FormatTOML}, nil
}

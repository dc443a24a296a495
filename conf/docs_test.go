package conf

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestConfigDocs checks that docs/config.md documents every native TOML
// key and table of the model.
func TestConfigDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatalf("reading docs/config.md: %v", err)
	}
	text := string(doc)
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		fields, order := fieldsOf(typ)
		for _, key := range order {
			ft := typ.FieldByIndex(fields[key]).Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			isArray := ft.Kind() == reflect.Slice
			if isArray {
				ft = ft.Elem()
			}
			if !isTable(ft) {
				if !strings.Contains(text, "`"+key+"`") {
					t.Errorf("docs/config.md does not document key `%s` of [%s]", key, path)
				}
				continue
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			header := "[" + sub + "]"
			if isArray {
				header = "[[" + sub + "]]"
			}
			if !strings.Contains(text, header) {
				t.Errorf("docs/config.md does not mention the table %s", header)
			}
			walk(ft, sub)
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}

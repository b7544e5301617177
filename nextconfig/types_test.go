package main

import (
	"strings"
	"testing"
)

func TestTypesFileRefusesPathsOutsideTheApp(t *testing.T) {
	for _, name := range []string{"../lib/events.ts", "/tmp/events.ts", "lib/events.js", "lib/../../x.ts"} {
		if _, err := typesFile(name, "cmd"); err == nil {
			t.Errorf("typesFile(%q) accepted a path outside the app or not .ts", name)
		}
	}
	f, err := typesFile("./lib/socket-events.ts", "cmd")
	if err != nil {
		t.Fatal(err)
	}
	if f.name != "lib/socket-events.ts" || !generatedBy(f.data) || !strings.Contains(string(f.data), "export interface ChatClientToServerEvents") {
		t.Fatalf("typesFile = %s:\n%.300s", f.name, f.data)
	}
}

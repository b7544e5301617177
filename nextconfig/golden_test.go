package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden runs nextconfig on each app under testdata/fixtures and
// compares what it writes and prints with testdata/golden/<fixture>:
// web/... holds every file created or changed, output.txt the command
// line, its output and exit status. `go test ./nextconfig -update`
// rewrites the goldens.
//
// Every case is then run again, which must change nothing, and with
// -check, which must pass unless the run left files to wire by hand.
func TestGolden(t *testing.T) {
	fixtures, err := os.ReadDir(filepath.Join("testdata", "fixtures"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		t.Run(f.Name(), func(t *testing.T) {
			root, c := setupFixture(t, f.Name())
			web, wd := filepath.Join(root, "web"), filepath.Join(root, c.cwd)
			before := snapshot(t, web)
			code, stdout, stderr := runIn(wd, c.args...)
			after := snapshot(t, web)

			got := map[string]string{"output.txt": transcript(c, code, stdout, stderr)}
			for name, data := range changed(before, after) {
				got["web/"+name] = data
			}
			golden := filepath.Join("testdata", "golden", f.Name())
			if *update {
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				for name, data := range got {
					writeFile(t, filepath.Join(golden, filepath.FromSlash(name)), data)
				}
			}
			sameFiles(t, "golden "+golden+" (make generate, or go test ./nextconfig -update, rewrites it)", snapshot(t, golden), got)

			again, stdout2, stderr2 := runIn(wd, c.args...)
			sameFiles(t, "second run", after, snapshot(t, web))
			if again != code || strings.Contains(stdout2, "created") || strings.Contains(stdout2, "updated") || strings.Contains(stdout2, "removed") {
				t.Errorf("second run (exit %d) is not a no-op:\n%s%s", again, stdout2, stderr2)
			}

			checkArgs := append([]string{"-check"}, withoutFlag(c.args, "-write-config")...)
			checkCode, checkOut, _ := runIn(wd, checkArgs...)
			if wantCode := boolCode(strings.Contains(stdout, "to do:")); checkCode != wantCode {
				t.Errorf("-check after the run: exit %d, want %d:\n%s", checkCode, wantCode, checkOut)
			}
		})
	}
}

// transcript is how output.txt records a run of case c.
func transcript(c fixtureCase, code int, stdout, stderr string) string {
	command := strings.Join(append([]string{testSelf}, c.args...), " ")
	if c.cwd != "" {
		command = "cd " + c.cwd + " && " + command
	}
	s := fmt.Sprintf("$ %s\n%s", command, stdout)
	if stderr != "" {
		s += "[stderr]\n" + stderr
	}
	return s + fmt.Sprintf("[exit %d]\n", code)
}

func withoutFlag(args []string, flag string) []string {
	var out []string
	for _, a := range args {
		if a != flag {
			out = append(out, a)
		}
	}
	return out
}

func boolCode(failed bool) int {
	if failed {
		return 1
	}
	return 0
}

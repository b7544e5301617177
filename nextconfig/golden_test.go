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
// line, its output and exit status, and for a case with "check: record"
// check-before.txt and check-after.txt the -check runs before and after
// it. `go test ./nextconfig -update` rewrites the goldens.
//
// A run exits 3 when it leaves a to-do, 0 otherwise. Every case is then
// run again, which must change nothing, and with -check, which must pass
// unless the run left a to-do.
func TestGolden(t *testing.T) {
	fixtures, err := os.ReadDir(filepath.Join("testdata", "fixtures"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		t.Run(f.Name(), func(t *testing.T) {
			root, c := setupFixture(t, f.Name())
			web, wd := filepath.Join(root, "web"), filepath.Join(root, c.cwd)
			checkArgs := append([]string{"-check"}, withoutFlag(c.args, "-write-config")...)
			before := snapshot(t, web)
			checkBefore, checkBeforeOut, checkBeforeErr := runIn(wd, checkArgs...)
			sameFiles(t, "-check before the run", before, snapshot(t, web))
			code, stdout, stderr := runIn(wd, c.args...)
			after := snapshot(t, web)
			if wantCode := todoCode(stdout, exitNotWired); code != wantCode {
				t.Errorf("the run: exit %d, want %d", code, wantCode)
			}

			got := map[string]string{"output.txt": transcript(c, c.args, code, stdout, stderr)}
			for name, data := range changed(before, after) {
				got["web/"+name] = data
			}
			golden := filepath.Join("testdata", "golden", f.Name())

			again, stdout2, stderr2 := runIn(wd, c.args...)
			sameFiles(t, "second run", after, snapshot(t, web))
			if again != code || strings.Contains(stdout2, "created") || strings.Contains(stdout2, "updated") || strings.Contains(stdout2, "removed") {
				t.Errorf("second run (exit %d) is not a no-op:\n%s%s", again, stdout2, stderr2)
			}

			checkCode, checkOut, checkErr := runIn(wd, checkArgs...)
			if wantCode := todoCode(stdout, exitFailed); checkCode != wantCode {
				t.Errorf("-check after the run: exit %d, want %d:\n%s", checkCode, wantCode, checkOut)
			}
			if checkBefore != exitFailed && (checkBefore != 0 || len(changed(before, after)) > 0) {
				t.Errorf("-check before the run: exit %d, want %d as the run changes files:\n%s", checkBefore, exitFailed, checkBeforeOut)
			}
			if c.recordCheck {
				got["check-before.txt"] = transcript(c, checkArgs, checkBefore, checkBeforeOut, checkBeforeErr)
				got["check-after.txt"] = transcript(c, checkArgs, checkCode, checkOut, checkErr)
			}
			if *update {
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				for name, data := range got {
					writeFile(t, filepath.Join(golden, filepath.FromSlash(name)), data)
				}
			}
			sameFiles(t, "golden "+golden+" (make generate, or go test ./nextconfig -update, rewrites it)", snapshot(t, golden), got)
		})
	}
}

// transcript is how output.txt records a run of case c with args.
func transcript(c fixtureCase, args []string, code int, stdout, stderr string) string {
	command := strings.Join(append([]string{testSelf}, args...), " ")
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

// todoCode is the exit status a run should have: code when its output
// shows a to-do, else 0.
func todoCode(stdout string, code int) int {
	if strings.Contains(stdout, "\nto do: ") {
		return code
	}
	return 0
}

package main

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// unifiedDiff returns the unified diff from old to new, labelled with
// their names; "" when they are equal. Files here are small, so a plain
// longest-common-subsequence table does.
func unifiedDiff(oldName, newName string, old, new []byte) string {
	a, b := splitLines(old), splitLines(new)
	edits := lineEdits(a, b)
	var out strings.Builder
	for start := 0; start < len(edits); {
		first := nextChange(edits, start)
		if first < 0 {
			break
		}
		// A hunk runs from context before its first change to context
		// after its last, merging changes closer than twice the context.
		last := first
		for {
			n := nextChange(edits, last+1)
			if n < 0 || n-last > 2*diffContext {
				break
			}
			last = n
		}
		from, to := max(first-diffContext, start), min(last+diffContext+1, len(edits))
		if out.Len() == 0 {
			fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
		}
		aLine, bLine := countLines(edits[:from])
		aLen, bLen := countLines(edits[from:to])
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aLine, aLen), hunkRange(bLine, bLen))
		for _, e := range edits[from:to] {
			out.WriteByte(e.op)
			out.WriteString(e.line)
			out.WriteByte('\n')
		}
		start = to
	}
	return out.String()
}

// edit is one line of a diff: ' ' kept, '-' removed, '+' added.
type edit struct {
	op   byte
	line string
}

func splitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// lineEdits turns a into b with the fewest removed and added lines,
// removals first where both orders are as short.
func lineEdits(a, b []string) []edit {
	// lcs[i][j] is the length of the longest common subsequence of a[i:], b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var edits []edit
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			edits = append(edits, edit{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			edits = append(edits, edit{'-', a[i]})
			i++
		default:
			edits = append(edits, edit{'+', b[j]})
			j++
		}
	}
	return edits
}

// nextChange returns the index of the first changed line at or after i, or -1.
func nextChange(edits []edit, i int) int {
	for ; i < len(edits); i++ {
		if edits[i].op != ' ' {
			return i
		}
	}
	return -1
}

// countLines counts the old and new lines that edits span.
func countLines(edits []edit) (a, b int) {
	for _, e := range edits {
		if e.op != '+' {
			a++
		}
		if e.op != '-' {
			b++
		}
	}
	return a, b
}

// hunkRange formats a hunk's line range: it starts after the lines before
// it, on the next line unless it is empty.
func hunkRange(before, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", before)
	}
	return fmt.Sprintf("%d,%d", before+1, n)
}

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/joho/godotenv"
)

// otherVariables are read on purpose by other parts of the project, not by
// the server, yet land in its environment or its .env (docker-compose.yml
// gives the same .env to web and server), so they are not warned about.
var otherVariables = []string{
	"SOCKET_INTERNAL_URL",     // web/next.config.ts, web/lib/sockside.ts: the server as Next reaches it
	"NEXT_PUBLIC_SOCKET_URL",  // web/lib/socket.ts, at build time: a server on another origin
	"NEXT_PUBLIC_SOCKET_PATH", // web/lib/socket.ts, at build time: the server's SOCKET_PATH
	"WEB_PORT",                // docker-compose.yml interpolates web's published port from .env
}

// knownVariables is every setting's name plus otherVariables, sorted so that
// lookups can binary-search and ties between suggestions break the same way
// on every run.
var knownVariables = func() []string {
	names := slices.Clone(otherVariables)
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		names = append(names, t.Field(i).Tag.Get("env"))
	}
	slices.Sort(names)
	return names
}()

// UnknownVariables returns start-up warnings, sorted, about variables the
// server would otherwise silently ignore: in the process environment, names
// that start with SOCKET_ or are a typo or two away from a known name (the
// rest belong to other programs); in the given .env files, every key that is
// not a known name, since the file is the server's. A warning suggests the
// nearest known name when one is close. Missing files are skipped, as by
// FromEnvironment.
func UnknownVariables(dotenvFiles ...string) []string {
	var w []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if isKnown(name) {
			continue
		}
		near, d := nearestKnown(name)
		if strings.HasPrefix(strings.ToUpper(name), "SOCKET_") || (near != "" && d <= typos) {
			w = append(w, notASetting(name, near))
		}
	}
	for _, file := range dotenvFiles {
		vars, err := godotenv.Read(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			w = append(w, fmt.Sprintf("%s not checked for unknown variables: %v", file, err))
			continue
		}
		for name := range vars {
			if !isKnown(name) {
				near, _ := nearestKnown(name)
				w = append(w, notASetting(name+" in "+file, near))
			}
		}
	}
	slices.Sort(w)
	return w
}

func isKnown(name string) bool {
	_, found := slices.BinarySearch(knownVariables, name)
	return found
}

func notASetting(what, near string) string {
	if near == "" {
		return what + " is not a setting"
	}
	return what + " is not a setting; did you mean " + near + "?"
}

// typos is how close to a known name an environment variable without the
// SOCKET_ prefix must be to be taken for it: the looser bound of
// nearestKnown would let NEXT_PUBLIC_SOCKET_PATH claim another program's
// NEXT_PUBLIC_SOCKET_HOST.
const typos = 2

// nearestKnown is the known name closest to name, ignoring case (socket_port
// is SOCKET_PORT mistyped), and its distance; "" when none is within a fifth
// of its own length in edits: long names get room for more typos
// (SOCKET_HEADER_TIMEOUT), while short ones such as REDIS_URL match only a
// single typo, not unrelated variables.
func nearestKnown(name string) (string, int) {
	name = strings.ToUpper(name)
	best, bestDist := "", 0
	for _, k := range knownVariables {
		limit := len(k) / 5
		// A length gap alone exceeds the limit; skipping the quadratic
		// distance keeps a large environment cheap.
		if len(name) > len(k)+limit || len(name) < len(k)-limit {
			continue
		}
		if d := editDistance(name, k); d <= limit && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best, bestDist
}

// editDistance is the optimal string alignment distance between a and b:
// inserting, deleting or replacing a byte, or swapping two adjacent ones
// (the usual typos), each counts 1.
func editDistance(a, b string) int {
	// Rows i-2, i-1 and i of the dynamic-programming table; a swap looks
	// two rows back.
	before, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], before[j-2]+1)
			}
		}
		before, prev, cur = prev, cur, before
	}
	return prev[len(b)]
}

package tsgen_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/internal/tsgen"
	"github.com/sockside/sockside/namespaces"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestRenderGolden pins the TypeScript rendering of the real namespaces.
func TestRenderGolden(t *testing.T) {
	srv := namespaces.Declared()
	defer func() { _ = srv.Shutdown(context.Background()) }()
	got, err := tsgen.Render("// header\n", tsgen.FromServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "socket-events.ts.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (make generate rewrites it: go test ./internal/tsgen -update)", err)
	}
	if got != string(want) {
		t.Fatalf("rendering differs from %s (make generate rewrites it; review the diff):\n%s", golden, got)
	}
}

func TestRenderRefusesWhatTypeScriptCannotName(t *testing.T) {
	type withAnon struct{ X struct{ Y int } }
	type withIntKeys struct{ M map[int]string }
	for name, typ := range map[string]reflect.Type{
		"anonymous struct": reflect.TypeFor[withAnon](),
		"int map keys":     reflect.TypeFor[withIntKeys](),
		"channel":          reflect.TypeFor[chan int](),
	} {
		ns := []tsgen.Namespace{{Name: "/x", ServerEvents: []sockside.EventSpec{{Name: "e", Payload: typ}}}}
		if _, err := tsgen.Render("", ns); err == nil {
			t.Errorf("%s: rendered without error", name)
		}
	}
}

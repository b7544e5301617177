// Package deploy holds what runs a deployment (HAProxy config, Dockerfiles,
// the compose stack's pieces); its tests prove docker-compose.yml without a
// Docker engine: the file loads and validates with compose-go (the loader
// Docker Compose itself uses), and its services agree with each other, with
// deploy/haproxy.cfg and with the web app's rewrite target.
package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

const projectName = "sockside"

// loadCompose loads ../docker-compose.yml as `docker compose` would, with an
// empty environment (no .env, no variables from the shell running the tests).
func loadCompose(t *testing.T) (*types.Project, string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}
	p, err := loader.LoadWithContext(context.Background(), details)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p, root
}

func env(t *testing.T, s types.ServiceConfig, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	if !ok || v == nil {
		t.Fatalf("service %s: environment has no %s", s.Name, key)
	}
	return *v
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("no service %q", name)
	}
	return s
}

func TestComposeServices(t *testing.T) {
	p, root := loadCompose(t)
	if p.Name != projectName {
		t.Errorf("project name %q, want %q (the lb addresses the replicas by container name)", p.Name, projectName)
	}
	names := p.ServiceNames()
	slices.Sort(names)
	if want := []string{"lb", "redis", "server", "web"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}
	for name, s := range p.Services {
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Test[0] != "CMD" {
			t.Errorf("%s: no exec-form health check (%+v)", name, s.HealthCheck)
		} else if s.HealthCheck.Interval == nil || s.HealthCheck.Timeout == nil || s.HealthCheck.Retries == nil {
			t.Errorf("%s: health check without interval, timeout or retries", name)
		}
		if s.Restart != "unless-stopped" && s.Restart != "always" {
			t.Errorf("%s: restart %q, want unless-stopped or always", name, s.Restart)
		}
		if name == "web" {
			continue
		}
		if len(s.Ports) > 0 {
			t.Errorf("%s publishes ports %v: only web may", name, s.Ports)
		}
	}
	web := service(t, p, "web")
	if len(web.Ports) != 1 || web.Ports[0].Target != 3000 || web.Ports[0].Published != "3000" {
		t.Errorf("web ports %+v, want 3000:3000 (WEB_PORT unset)", web.Ports)
	}
	if got := env(t, web, "PORT"); got != "3000" {
		t.Errorf("web PORT %s, want the published target 3000", got)
	}

	// settings from .env on the services that share them
	for _, name := range []string{"web", "server"} {
		s := service(t, p, name)
		if !slices.ContainsFunc(s.EnvFiles, func(f types.EnvFile) bool { return f.Path == filepath.Join(root, ".env") }) {
			t.Errorf("%s: env_file %+v does not include .env", name, s.EnvFiles)
		}
	}

	// the dependency chain waits for health, bottom up
	for from, to := range map[string]string{"web": "lb", "lb": "server", "server": "redis"} {
		d, ok := service(t, p, from).DependsOn[to]
		if !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s does not wait for %s to be healthy (%+v)", from, to, d)
		}
	}

	redisSvc := service(t, p, "redis")
	if hc := strings.Join(redisSvc.HealthCheck.Test, " "); hc != "CMD redis-cli ping" {
		t.Errorf("redis health check %q", hc)
	}
}

func TestComposeServerCluster(t *testing.T) {
	p, _ := loadCompose(t)
	s := service(t, p, "server")
	if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != 3 {
		t.Fatalf("server: deploy.replicas is not 3 (%v)", func() any {
			if s.Deploy == nil || s.Deploy.Replicas == nil {
				return "unset"
			}
			return *s.Deploy.Replicas
		}())
	}
	if got := env(t, s, "SOCKET_HOST"); got != "0.0.0.0" {
		t.Errorf("SOCKET_HOST %s: the balancer cannot reach a node listening on loopback", got)
	}
	port := env(t, s, "SOCKET_PORT")
	u, err := url.Parse(env(t, s, "REDIS_URL"))
	if err != nil || u.Scheme != "redis" || u.Hostname() != "redis" || u.Port() != "6379" {
		t.Errorf("REDIS_URL %s, want redis://redis:6379/...", env(t, s, "REDIS_URL"))
	}
	if mode := env(t, s, "SOCKET_ADAPTER"); mode != "streams" && mode != "pubsub" {
		t.Errorf("SOCKET_ADAPTER %q", mode)
	}
	if got, want := strings.Join(s.HealthCheck.Test, " "), "CMD /healthcheck http://127.0.0.1:"+port+"/readyz"; got != want {
		t.Errorf("server health check %q, want %q", got, want)
	}
	if s.Build == nil || s.Build.Dockerfile != "deploy/server.Dockerfile" {
		t.Errorf("server build %+v", s.Build)
	}
}

// haproxyVars are the ${VAR}s deploy/haproxy.cfg expands (outside comments).
func haproxyVars(cfg string) []string {
	var vars []string
	var code strings.Builder
	for _, line := range strings.Split(cfg, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		code.WriteString(line + "\n")
	}
	for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(code.String(), -1) {
		if !slices.Contains(vars, m[1]) {
			vars = append(vars, m[1])
		}
	}
	return vars
}

func TestComposeBalancer(t *testing.T) {
	p, root := loadCompose(t)
	lb := service(t, p, "lb")
	server := service(t, p, "server")

	// the same config file the e2e tests run, where the image reads it
	cfgPath := filepath.Join(root, "deploy", "haproxy.cfg")
	mounted := slices.ContainsFunc(lb.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeBind && v.Source == cfgPath && v.Target == "/usr/local/etc/haproxy/haproxy.cfg" && v.ReadOnly
	})
	if !mounted {
		t.Fatalf("lb does not mount %s read-only at /usr/local/etc/haproxy/haproxy.cfg: %+v", cfgPath, lb.Volumes)
	}
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)

	// every variable the config expands is set, and names a replica
	vars := haproxyVars(cfg)
	if len(vars) == 0 {
		t.Fatal("haproxy.cfg expands no variables: addresses are hard-coded?")
	}
	port := env(t, server, "SOCKET_PORT")
	replicas := *server.Deploy.Replicas
	nodes := 0
	for _, v := range vars {
		val := env(t, lb, v)
		if v == "SOCKSIDE_LB_BIND" {
			continue
		}
		n, ok := strings.CutPrefix(v, "SOCKSIDE_NODE")
		i, err := strconv.Atoi(n)
		if !ok || err != nil {
			t.Errorf("haproxy.cfg expands %s, which compose does not know how to fill", v)
			continue
		}
		nodes++
		// compose names replica i "<project>-<service>-<i>" and makes that
		// name resolvable on the project network
		if want := net.JoinHostPort(p.Name+"-server-"+strconv.Itoa(i), port); val != want {
			t.Errorf("%s=%s, want %s (replica %d of server)", v, val, want, i)
		}
	}
	if nodes != replicas {
		t.Errorf("haproxy.cfg balances %d nodes, server has %d replicas", nodes, replicas)
	}
	if got := len(regexp.MustCompile(`(?m)^\s*server\s`).FindAllString(cfg, -1)); got != replicas {
		t.Errorf("haproxy.cfg has %d server lines, server has %d replicas", got, replicas)
	}
	for _, directive := range []string{"cookie SOCKSIDE_NODE insert", "option httpchk GET /readyz", "timeout tunnel"} {
		if !strings.Contains(cfg, directive) {
			t.Errorf("haproxy.cfg lacks %q", directive)
		}
	}

	// the bind address is what web points at, and what the lb's own health
	// check probes
	host, lbPort, err := net.SplitHostPort(env(t, lb, "SOCKSIDE_LB_BIND"))
	if err != nil || host != "0.0.0.0" {
		t.Fatalf("SOCKSIDE_LB_BIND %s: want 0.0.0.0:<port>", env(t, lb, "SOCKSIDE_LB_BIND"))
	}
	if !slices.Contains(lb.Expose, lbPort) {
		t.Errorf("lb exposes %v, not its bind port %s", lb.Expose, lbPort)
	}
	if hc := strings.Join(lb.HealthCheck.Test, " "); !strings.Contains(hc, "/dev/tcp/127.0.0.1/"+lbPort) || !strings.Contains(hc, "/readyz") {
		t.Errorf("lb health check %q does not probe its frontend on %s", hc, lbPort)
	}

	// web's rewrite target is the balancer: at build time (Next bakes
	// rewrites into the build) and at run time (server-side fetches)
	web := service(t, p, "web")
	target := "http://lb:" + lbPort
	if got := env(t, web, "SOCKET_INTERNAL_URL"); got != target {
		t.Errorf("web SOCKET_INTERNAL_URL %s, want %s", got, target)
	}
	if web.Build == nil || web.Build.Args["SOCKET_INTERNAL_URL"] == nil || *web.Build.Args["SOCKET_INTERNAL_URL"] != target {
		t.Errorf("web build arg SOCKET_INTERNAL_URL %+v, want %s", web.Build, target)
	}
	// ... and SOCKET_INTERNAL_URL is what web's config reads
	nextConfig, err := os.ReadFile(filepath.Join(root, "web", "next.config.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(nextConfig), "process.env.SOCKET_INTERNAL_URL") {
		t.Error("web/next.config.ts does not read SOCKET_INTERNAL_URL: the rewrite target is set elsewhere now")
	}
}

// stages returns the FROM images of a Dockerfile and the USER of its last stage.
func stages(t *testing.T, path string) (froms []string, user string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
			user = ""
		case "USER":
			user = f[1]
		}
	}
	return froms, user
}

func TestDockerfiles(t *testing.T) {
	p, root := loadCompose(t)
	for _, tc := range []struct {
		service, final, user string
	}{
		{"server", "gcr.io/distroless/static-debian12:nonroot", "nonroot:nonroot"},
		{"web", "node:20-slim", "node"},
	} {
		s := service(t, p, tc.service)
		if s.Build == nil || s.Build.Context != root {
			t.Errorf("%s: build context %+v, want the repository root", tc.service, s.Build)
			continue
		}
		path := filepath.Join(root, s.Build.Dockerfile)
		froms, user := stages(t, path)
		if len(froms) < 2 {
			t.Errorf("%s: %d stages, want a multi-stage build", path, len(froms))
		}
		if len(froms) > 0 && froms[len(froms)-1] != tc.final {
			t.Errorf("%s: final image %s, want %s", path, froms[len(froms)-1], tc.final)
		}
		if user != tc.user {
			t.Errorf("%s: final stage runs as %q, want %q", path, user, tc.user)
		}
		if _, err := os.Stat(path + ".dockerignore"); err != nil {
			t.Errorf("%s: no Dockerfile-specific ignore file: %v", path, err)
		}
	}
}

// The server image's build context (deploy/server.Dockerfile.dockerignore:
// everything excluded but the listed directories and files) holds every
// source file of the packages the binaries import.
func TestServerBuildContext(t *testing.T) {
	_, root := loadCompose(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "server.Dockerfile.dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if dir, ok := strings.CutPrefix(strings.TrimSpace(line), "!"); ok {
			kept = append(kept, strings.TrimSuffix(dir, "/"))
		}
	}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{range .GoFiles}}{{$.Dir}}/{{.}} {{end}}{{end}}`, "../server", "./healthcheck").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, file := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, file)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module dependency, downloaded in the image
		}
		if !slices.ContainsFunc(kept, func(k string) bool {
			matched, _ := filepath.Match(k, rel)
			return matched || strings.HasPrefix(rel, k+"/")
		}) {
			t.Errorf("%s is not in the server image's build context (kept: %v)", rel, kept)
		}
	}
}

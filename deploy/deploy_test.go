package deploy

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// These tests check the manifests statically: no cluster runs here. They parse the
// YAML the way kubectl would read it and assert what the README promises.

type container struct {
	Name      string   `yaml:"name"`
	Image     string   `yaml:"image"`
	Args      []string `yaml:"args"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type podSpec struct {
	RestartPolicy   string `yaml:"restartPolicy"`
	SecurityContext struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name string `yaml:"name"`
		PVC  *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		podSpec `yaml:",inline"`
	} `yaml:"spec"`
}

func load(t *testing.T, path string) *object {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var o object
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &o
}

// checkPod asserts what every pod of the recipe must have: non-root, no privilege, a
// read-only root, resources, and the shared volume.
func checkPod(t *testing.T, name string, p *podSpec) {
	t.Helper()
	if !p.SecurityContext.RunAsNonRoot || p.SecurityContext.RunAsUser == 0 {
		t.Errorf("%s: pod does not run as non-root", name)
	}
	if len(p.Containers) != 1 {
		t.Fatalf("%s: %d containers", name, len(p.Containers))
	}
	c := p.Containers[0]
	sc := c.SecurityContext
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !sc.ReadOnlyRootFilesystem ||
		len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("%s: container security context %+v", name, sc)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("%s: resources %+v: want cpu and memory requests and a memory limit", name, c.Resources)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || (m.Name == "data" && m.MountPath == "/data")
	}
	claimed := false
	for _, v := range p.Volumes {
		claimed = claimed || (v.Name == "data" && v.PVC != nil && v.PVC.ClaimName == "everify-data")
	}
	if !mounted || !claimed {
		t.Errorf("%s: the everify-data volume is not mounted at /data", name)
	}
}

func TestIndexedJob(t *testing.T) {
	o := load(t, "kubernetes/job.yaml")
	if o.APIVersion != "batch/v1" || o.Kind != "Job" || o.Spec.CompletionMode != "Indexed" {
		t.Fatalf("job.yaml: %s %s, completionMode %q: want an Indexed batch/v1 Job", o.APIVersion, o.Kind, o.Spec.CompletionMode)
	}
	n := o.Spec.Completions
	if n < 1 || o.Spec.Parallelism != n {
		t.Errorf("completions %d, parallelism %d: want N shards all at once", n, o.Spec.Parallelism)
	}
	p := &o.Spec.Template.Spec
	checkPod(t, "job.yaml", p)
	if p.RestartPolicy != "Never" {
		t.Errorf("restartPolicy %q", p.RestartPolicy)
	}
	args := strings.Join(p.Containers[0].Args, " ")
	shardArg := regexp.MustCompile(`--shard-index[= ]\$\(JOB_COMPLETION_INDEX\)/(\d+)`).FindStringSubmatch(args)
	if shardArg == nil || shardArg[1] != strconv.Itoa(n) {
		t.Errorf("args %q: want --shard-index=$(JOB_COMPLETION_INDEX)/%d", args, n)
	}
	if !strings.HasPrefix(args, "bulk ") || !strings.Contains(args, "-o /data/out/shard-$(JOB_COMPLETION_INDEX).csv") {
		t.Errorf("args %q: want bulk writing /data/out/shard-$(JOB_COMPLETION_INDEX).csv", args)
	}
}

func TestMergeJob(t *testing.T) {
	job := load(t, "kubernetes/job.yaml")
	o := load(t, "kubernetes/merge-job.yaml")
	checkPod(t, "merge-job.yaml", &o.Spec.Template.Spec)
	args := o.Spec.Template.Spec.Containers[0].Args
	want := []string{"merge", "-o", "/data/checked.csv"}
	for i := range job.Spec.Completions {
		want = append(want, "/data/out/shard-"+strconv.Itoa(i)+".csv")
	}
	if strings.Join(args, " ") != strings.Join(want, " ") {
		t.Errorf("merge args %q, want %q: every shard of job.yaml, once", args, want)
	}
}

func TestDataPodAndPVC(t *testing.T) {
	checkPod(t, "data-pod.yaml", &load(t, "kubernetes/data-pod.yaml").Spec.podSpec)
	if o := load(t, "kubernetes/pvc.yaml"); o.Kind != "PersistentVolumeClaim" || o.Metadata.Name != "everify-data" {
		t.Errorf("pvc.yaml: %s %s", o.Kind, o.Metadata.Name)
	}
}

// TestDockerfile: a multi-stage build of a static binary onto distroless/static, run as
// nonroot.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"FROM golang:", " AS build", "CGO_ENABLED=0 go build", "FROM gcr.io/distroless/static",
		"COPY --from=build ", "USER nonroot", `ENTRYPOINT ["/everify"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(s, -1)); n != 2 {
		t.Errorf("Dockerfile has %d stages, want 2 (build, then the runtime image)", n)
	}
}

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// The suite's world: one network namespace holding dnsmasq on 127.0.0.1:53 and one
// Postfix instance with a listener per behaviour (testdata/e2e/postfix/master.cf.tmpl).
// It is built once in TestMain and shared by every test.

const nsPrefix = "everify-e2e-"

// Listener addresses inside the namespace (must match dnsmasq.conf and master.cf.tmpl).
const (
	lnMain     = "127.0.0.2:25"
	lnV6       = "[fd00::25]:25"
	lnCatchAll = "127.0.0.3:25"
	lnBlocked  = "127.0.0.4:25"
	lnPolicy   = "127.0.0.5:25"
	lnNoUTF8   = "127.0.0.6:25"
	lnRefused  = "127.0.0.7:25" // nothing listens
	lnBulk     = "127.0.0.8:25"
	v6Addr     = "fd00::25"
)

var listeners = []string{lnMain, lnV6, lnCatchAll, lnBlocked, lnPolicy, lnNoUTF8, lnBulk}

type world struct {
	ns      string // network namespace name
	dir     string // work directory: postfix config, queue, logs
	testdir string // testdata/e2e
	bin     string // everify binary ("" if binErr)
	binErr  error

	mu       sync.Mutex
	procs    []*exec.Cmd
	nsMade   bool
	etcNetns string
	downOnce sync.Once
}

var (
	theWorld *world
	worldErr error // why the world could not be built
)

func TestMain(m *testing.M) {
	os.Exit(mainRun(m))
}

func mainRun(m *testing.M) int {
	flag.Parse()
	w, err := setup()
	theWorld, worldErr = w, err
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: environment setup failed: %v\n", err)
	}
	if w != nil {
		// Tear down on SIGINT/SIGTERM too; a crash (test timeout panic) leaves the
		// namespace behind, which the next run's removeStale deletes.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() {
			s := <-sig
			fmt.Fprintf(os.Stderr, "e2e: %v: tearing down\n", s)
			w.teardown(true)
			os.Exit(130)
		}()
		// go test's -timeout panics the binary without running deferred code; tear
		// down shortly before that. (A SIGKILL still leaves the namespace behind:
		// the next run's removeStale deletes it and its processes.)
		if f := flag.Lookup("test.timeout"); f != nil {
			if d, ok := f.Value.(flag.Getter).Get().(time.Duration); ok && d > 30*time.Second {
				time.AfterFunc(d-15*time.Second, func() {
					fmt.Fprintf(os.Stderr, "e2e: the -timeout of %v is nearly over: tearing down\n", d)
					w.dumpLogs(os.Stderr)
					w.teardown(true)
					os.Exit(1)
				})
			}
		}
	}
	code := m.Run()
	if w != nil {
		if code != 0 {
			w.dumpLogs(os.Stderr)
		}
		w.teardown(code != 0)
	}
	return code
}

// requireWorld returns the shared world or ends the test: a failure, loudly, unless
// EVERIFY_E2E_SKIP=1 says this machine cannot run the suite.
func requireWorld(t *testing.T) *world {
	t.Helper()
	if worldErr != nil {
		if os.Getenv("EVERIFY_E2E_SKIP") == "1" {
			t.Skipf("e2e environment unavailable, skipped because EVERIFY_E2E_SKIP=1: %v", worldErr)
		}
		t.Fatalf("e2e environment unavailable: %v\n"+
			"(needs root, iproute2, postfix and dnsmasq: bash e2e/install-deps.sh; "+
			"set EVERIFY_E2E_SKIP=1 to skip where network namespaces are impossible)", worldErr)
	}
	return theWorld
}

// requireBinary is requireWorld plus a built everify.
func requireBinary(t *testing.T) *world {
	t.Helper()
	w := requireWorld(t)
	if w.binErr != nil {
		t.Fatalf("everify binary unavailable: %v", w.binErr)
	}
	return w
}

func setup() (*world, error) {
	start := time.Now()
	defer func() { fmt.Fprintf(os.Stderr, "e2e: setup took %v\n", time.Since(start).Round(time.Millisecond)) }()
	if runtime.GOOS != "linux" {
		return nil, errors.New("network namespaces need Linux")
	}
	for _, tool := range []string{"ip", "dnsmasq", "postfix", "postconf"} {
		if _, err := lookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	if _, err := user.Lookup("postfix"); err != nil {
		return nil, fmt.Errorf("user postfix missing (is the postfix package installed?): %w", err)
	}
	removeStale()

	testdir, err := filepath.Abs(filepath.Join("..", "testdata", "e2e"))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", nsPrefix)
	if err != nil {
		return nil, err
	}
	// Postfix's daemons run as user postfix and must traverse the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	w := &world{ns: nsPrefix + strconv.Itoa(os.Getpid()), dir: dir, testdir: testdir}

	w.bin, w.binErr = buildEverify(dir)
	if w.binErr != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", w.binErr)
	}

	if err := w.makeNetns(); err != nil {
		w.teardown(false)
		return nil, err
	}
	if err := w.startDNS(); err != nil {
		w.teardown(true)
		return nil, err
	}
	if err := w.startPostfix(); err != nil {
		w.teardown(true)
		return nil, err
	}
	return w, nil
}

// lookPath finds a tool also in the sbin directories a non-login PATH may lack.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func buildEverify(dir string) (string, error) {
	if bin := os.Getenv("EVERIFY_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("EVERIFY_BIN: %w", err)
		}
		return abs, nil
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go"
	}
	out := filepath.Join(dir, "everify")
	cmd := exec.Command(gobin, "build", "-o", out, "./cmd/everify")
	cmd.Dir = ".." // the module root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/everify: %v\n%s", err, b)
	}
	return out, nil
}

// run runs a host command with a deadline and returns its combined output.
func run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path, err := lookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	b, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return string(b), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(b))
	}
	return string(b), nil
}

// removeStale deletes namespaces (and their processes) left by earlier runs that
// died before tearing down: everify-e2e-PID where PID no longer exists.
func removeStale() {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		pid, err := strconv.Atoi(strings.TrimPrefix(name, nsPrefix))
		if !strings.HasPrefix(name, nsPrefix) || err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // its owner is alive (another run)
		}
		fmt.Fprintf(os.Stderr, "e2e: removing stale namespace %s\n", name)
		killNetnsPids(name)
		_, _ = run("ip", "netns", "del", name)
		_ = os.RemoveAll(filepath.Join("/etc/netns", name))
	}
}

// netnsPids lists the processes in namespace ns other than this one. (This test
// process can be listed: when a goroutine that dial locked to the main thread ends,
// the runtime wedges that thread, still in the namespace, instead of ending it.)
func netnsPids(ns string) []int {
	out, err := run("ip", "netns", "pids", ns)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killNetnsPids SIGKILLs every process still in namespace ns (all of them are ours).
func killNetnsPids(ns string) {
	for _, pid := range netnsPids(ns) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (w *world) makeNetns() error {
	if _, err := run("ip", "netns", "add", w.ns); err != nil {
		return fmt.Errorf("cannot create a network namespace (needs root or CAP_SYS_ADMIN): %w", err)
	}
	w.nsMade = true
	// lo in a fresh namespace already holds 127.0.0.1/8 and ::1, so every 127.x
	// listener is local once lo is up. fd00::25 is the IPv6-only MX.
	if _, err := run("ip", "-n", w.ns, "link", "set", "lo", "up"); err != nil {
		return err
	}
	if _, err := run("ip", "-n", w.ns, "addr", "add", v6Addr+"/128", "dev", "lo", "nodad"); err != nil {
		return fmt.Errorf("adding %s (is IPv6 disabled?): %w", v6Addr, err)
	}
	// ip netns exec bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf, so
	// everify's default resolver (and Postfix's) is the namespace's dnsmasq.
	w.etcNetns = filepath.Join("/etc/netns", w.ns)
	if err := os.MkdirAll(w.etcNetns, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(w.etcNetns, "resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644)
}

// start runs a long-lived server inside the namespace, output to dir/logname.
func (w *world) start(logname string, name string, args ...string) error {
	path, err := lookPath(name)
	if err != nil {
		return err
	}
	ip, err := lookPath("ip")
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(w.dir, logname))
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(ip, append([]string{"netns", "exec", w.ns, path}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group, so teardown can signal ip, the server and its children.
	// (No Pdeathsig: "ip netns exec" forks, and dnsmasq's setuid would clear it.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	w.mu.Lock()
	w.procs = append(w.procs, cmd)
	w.mu.Unlock()
	return nil
}

func (w *world) startDNS() error {
	err := w.start("dnsmasq.out", "dnsmasq",
		"--keep-in-foreground",
		"--conf-file="+filepath.Join(w.testdir, "dnsmasq.conf"),
		"--pid-file="+filepath.Join(w.dir, "dnsmasq.pid"),
		"--log-facility="+filepath.Join(w.dir, "dnsmasq.log"),
		"--log-queries")
	if err != nil {
		return fmt.Errorf("starting dnsmasq: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := w.dnsQuery("alpha.zz.", dns.TypeMX)
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dnsmasq did not answer in the namespace: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postfixData is what the Postfix templates see.
type postfixData struct{ Dir string }

func (w *world) startPostfix() error {
	conf := filepath.Join(w.dir, "postfix")
	for _, d := range []string{conf, filepath.Join(w.dir, "queue"), filepath.Join(w.dir, "data"), filepath.Join(w.dir, "mail")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(pf.Uid)
	for _, d := range []string{"data", "mail"} {
		if err := os.Chown(filepath.Join(w.dir, d), uid, -1); err != nil {
			return err
		}
	}
	src := filepath.Join(w.testdir, "postfix")
	for _, name := range []string{"main.cf", "master.cf"} {
		tmpl, err := template.ParseFiles(filepath.Join(src, name+".tmpl"))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, postfixData{Dir: w.dir}); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(conf, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	for _, name := range []string{"vmailbox", "recipient_access", "client_blocklist.cidr", "client_policy.cidr"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(conf, name), b, 0o644); err != nil {
			return err
		}
	}
	var vb bytes.Buffer
	vb.WriteString("# Written by the e2e test: the bulk list's real bulk.zz mailboxes.\n")
	for _, u := range bulkMembers() {
		fmt.Fprintf(&vb, "%s@bulk.zz bulk.zz/%s/\n", u, u)
	}
	if err := os.WriteFile(filepath.Join(conf, "vmailbox_bulk"), vb.Bytes(), 0o644); err != nil {
		return err
	}
	if err := writeCert(conf); err != nil {
		return err
	}
	// "postfix check" validates the configuration and creates the queue directories.
	if out, err := run("postfix", "-c", conf, "check"); err != nil {
		return fmt.Errorf("postfix check: %w", err)
	} else if strings.Contains(out, "fatal") {
		return fmt.Errorf("postfix check: %s", out)
	}
	daemonDir, err := run("postconf", "-c", conf, "-h", "daemon_directory")
	if err != nil {
		return err
	}
	// master -d stays in the foreground: a child we can stop.
	if err := w.start("master.out", filepath.Join(strings.TrimSpace(daemonDir), "master"), "-c", conf, "-d"); err != nil {
		return fmt.Errorf("starting postfix master: %w", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, ln := range listeners {
		for {
			banner, err := w.banner(ln)
			if err == nil && (strings.HasPrefix(banner, "220 ") || strings.HasPrefix(banner, "554 ")) {
				break
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(filepath.Join(w.dir, "master.out"))
				return fmt.Errorf("postfix listener %s not ready: %v %q\n%s", ln, err, banner, b)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// banner connects to a listener and returns its greeting line.
func (w *world) banner(addr string) (string, error) {
	c, err := w.dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	_, _ = c.Write([]byte("QUIT\r\n"))
	return strings.TrimSpace(string(buf[:n])), err
}

// writeCert writes a fresh self-signed certificate for Postfix's STARTTLS.
func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.e2e-everify.zz"},
		DNSNames:     []string{"mx.e2e-everify.zz", "mx1.alpha.zz", "mx6.v6only.zz"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
}

// teardown stops everything setup started; safe to call more than once.
func (w *world) teardown(failed bool) {
	w.downOnce.Do(func() {
		start := time.Now()
		defer func() { fmt.Fprintf(os.Stderr, "e2e: teardown took %v\n", time.Since(start).Round(time.Millisecond)) }()
		w.mu.Lock()
		procs := w.procs
		w.mu.Unlock()
		var inNS []int // every server process, to wait for below
		if w.nsMade {
			inNS = netnsPids(w.ns)
		}
		for _, p := range procs {
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
		}
		for _, p := range procs {
			done := make(chan struct{})
			go func() { _ = p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		if w.nsMade {
			// Postfix children that outlived master, if any; wait until they are gone.
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
				if len(netnsPids(w.ns)) == 0 {
					break
				}
				killNetnsPids(w.ns)
				time.Sleep(50 * time.Millisecond)
			}
			// A dying process leaves the namespace before it is gone; wait for that too.
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
				inNS = slices.DeleteFunc(inNS, func(pid int) bool { return syscall.Kill(pid, 0) != nil })
				if len(inNS) == 0 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(inNS) > 0 {
				fmt.Fprintf(os.Stderr, "e2e: teardown: processes %v still exist\n", inNS)
			}
			if _, err := run("ip", "netns", "del", w.ns); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: teardown: %v\n", err)
			}
		}
		if w.etcNetns != "" {
			_ = os.RemoveAll(w.etcNetns)
			_ = os.Remove(filepath.Dir(w.etcNetns)) // /etc/netns, if we left it empty
		}
		if os.Getenv("EVERIFY_E2E_KEEP") == "1" || (failed && os.Getenv("CI") == "") {
			fmt.Fprintf(os.Stderr, "e2e: work directory kept: %s\n", w.dir)
			return
		}
		_ = os.RemoveAll(w.dir)
	})
}

// dumpLogs prints the servers' logs, for a failed run.
func (w *world) dumpLogs(out io.Writer) {
	for _, name := range []string{"master.out", "postfix.log", "dnsmasq.out", "dnsmasq.log"} {
		b, err := os.ReadFile(filepath.Join(w.dir, name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 150 {
			lines = lines[len(lines)-150:]
		}
		fmt.Fprintf(out, "==== %s (last %d lines) ====\n%s\n", name, len(lines), strings.Join(lines, "\n"))
	}
}

// dial opens a connection from inside the namespace: on a locked OS thread moved into
// the namespace with setns(2). The socket keeps the namespace it was created in; the
// thread is never unlocked, so the runtime discards it when the goroutine ends.
func (w *world) dial(network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", w.ns))
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("setns %s: %w", w.ns, err)}
			return
		}
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err := d.Dial(network, addr)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// dnsQuery asks the namespace's dnsmasq directly.
func (w *world) dnsQuery(name string, qtype uint16) (*dns.Msg, error) {
	c, err := w.dial("udp", "127.0.0.1:53")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	cl := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := cl.ExchangeWithConn(m, &dns.Conn{Conn: c})
	return r, err
}

// everify runs the binary inside the namespace with the production defaults: the
// system resolver (the namespace's resolv.conf) and port 25. EVERIFY_* variables of
// the caller's environment are dropped so they cannot change what is tested.
func (w *world) everify(t *testing.T, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ip, err := lookPath("ip")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, ip, append([]string{"netns", "exec", w.ns, w.bin}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "EVERIFY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// A private cache dir: lists a developer fetched with "everify lists update" must
	// not change the flags under test.
	cmd.Env = append(cmd.Env, "NO_COLOR=1", "XDG_CACHE_HOME="+filepath.Join(w.dir, "cache"))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err = cmd.Run()
	t.Logf("everify %s: %v, %d bytes out", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), o.Len())
	if ctx.Err() != nil {
		t.Fatalf("everify %s: did not finish within %v\nstderr:\n%s", strings.Join(args, " "), timeout, e.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("everify %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

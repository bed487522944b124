/*
 * vopono-launch: started by the root daemon for every app. It enters the app's network namespace,
 * makes a private mount namespace with the namespace's resolv.conf/hosts/nsswitch.conf bound over
 * /etc, drops to the requesting user (groups, gid, uid, no_new_privs), enters the user's cwd as
 * the user and execs the command with the user's environment. It starts with an empty
 * environment; the user's environment is applied only at that final exec.
 *
 * fds on entry: 0,1,2 = the client's stdio (received by SCM_RIGHTS); 3 = spec channel from the
 * daemon (u32 length + NUL-separated fields; in PTY mode it then carries "resize C R\n" lines);
 * 4 = status channel to the daemon ("pid N", "err STEP ERRNO", "exit N", "signal N" lines).
 *
 * PTY mode: the launcher opens a PTY (slave owned by the user), forks the app as session leader
 * with the PTY as its controlling terminal, drops to the user itself and bridges the client's
 * terminal and the PTY master until the app exits, draining the master until EIO before it
 * reports the exit status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define SPEC_FD 3
#define STATUS_FD 4
#define MAX_SPEC (4u * 1024 * 1024)
#define MAX_GROUPS 65536

extern char **environ;

struct spec {
  const char *mode;   /* "pipe" or "pty" */
  const char *netns;  /* path of the netns file, "" for none */
  const char *etcdir; /* dir whose resolv.conf/hosts/nsswitch.conf go over /etc, "" for none */
  uid_t uid;
  gid_t gid;
  size_t ngroups;
  gid_t *groups;
  const char *cwd;
  mode_t umask;
  unsigned short cols, rows;
  int tty[3]; /* which client fds are terminals (PTY mode) */
  char **argv;
  char **envp;
};

static void status_line(const char *fmt, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) (void)!write(STATUS_FD, buf, (size_t)n);
}

/* Reports a failed step and exits with the status a shell would use for it. */
static void fail(const char *step, int err, int code) {
  status_line("err %s %d\n", step, err);
  _exit(code);
}

static int read_full(int fd, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
}

/* Field cursor over the NUL-separated spec. */
struct cursor {
  char *p, *end;
};

static const char *field(struct cursor *c) {
  if (c->p >= c->end) fail("spec", EINVAL, 125);
  char *s = c->p;
  char *nul = memchr(s, '\0', (size_t)(c->end - s));
  if (!nul) fail("spec", EINVAL, 125);
  c->p = nul + 1;
  return s;
}

static unsigned long number(struct cursor *c, unsigned long max) {
  const char *s = field(c);
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v > max) fail("spec", EINVAL, 125);
  return v;
}

static char **string_list(struct cursor *c) {
  unsigned long n = number(c, 1u << 20);
  char **list = calloc(n + 1, sizeof(char *));
  if (!list) fail("spec", ENOMEM, 125);
  for (unsigned long i = 0; i < n; i++) list[i] = (char *)field(c);
  return list;
}

static void read_spec(struct spec *s) {
  uint32_t len;
  if (read_full(SPEC_FD, &len, sizeof len) < 0 || len == 0 || len > MAX_SPEC) fail("spec", EINVAL, 125);
  char *buf = malloc(len);
  if (!buf || read_full(SPEC_FD, buf, len) < 0) fail("spec", EIO, 125);
  struct cursor c = {buf, buf + len};
  if (strcmp(field(&c), "V1") != 0) fail("spec", EPROTO, 125);
  s->mode = field(&c);
  s->netns = field(&c);
  s->etcdir = field(&c);
  s->uid = (uid_t)number(&c, UINT32_MAX - 1);
  s->gid = (gid_t)number(&c, UINT32_MAX - 1);
  s->ngroups = number(&c, MAX_GROUPS);
  s->groups = calloc(s->ngroups + 1, sizeof(gid_t));
  if (!s->groups) fail("spec", ENOMEM, 125);
  for (size_t i = 0; i < s->ngroups; i++) s->groups[i] = (gid_t)number(&c, UINT32_MAX - 1);
  s->cwd = field(&c);
  s->umask = (mode_t)number(&c, 0777);
  s->cols = (unsigned short)number(&c, 10000);
  s->rows = (unsigned short)number(&c, 10000);
  const char *tty = field(&c);
  for (int i = 0; i < 3; i++) s->tty[i] = strchr(tty, '0' + i) != NULL;
  s->argv = string_list(&c);
  s->envp = string_list(&c);
  if (!s->argv[0]) fail("spec", EINVAL, 125);
}

static void enter_namespace(const struct spec *s) {
  if (s->netns[0]) {
    int fd = open(s->netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("netns", errno, 125);
    if (setns(fd, CLONE_NEWNET) < 0) fail("setns", errno, 125);
    close(fd);
  }
  /* A private mount namespace: the /etc binds and /sys remount are seen by this app only. */
  if (unshare(CLONE_NEWNS) < 0) fail("unshare", errno, 125);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("mount-private", errno, 125);
  if (s->etcdir[0]) {
    static const char *files[] = {"resolv.conf", "hosts", "nsswitch.conf"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
      char src[PATH_MAX], dst[PATH_MAX];
      snprintf(src, sizeof src, "%s/%s", s->etcdir, files[i]);
      snprintf(dst, sizeof dst, "/etc/%s", files[i]);
      if (access(src, F_OK) != 0) continue;
      if (access(dst, F_OK) != 0) continue; /* nothing to cover (or a dangling link) */
      if (mount(src, dst, NULL, MS_BIND, NULL) < 0) fail("bind-etc", errno, 125);
    }
  }
  if (s->netns[0]) {
    /* /sys/class/net should show this namespace's interfaces, as with `ip netns exec`. */
    if (umount2("/sys", MNT_DETACH) == 0) (void)mount(s->netns, "/sys", "sysfs", 0, NULL);
  }
}

static void drop_privileges(const struct spec *s) {
  if (setgroups(s->ngroups, s->groups) < 0) fail("setgroups", errno, 125);
  if (setresgid(s->gid, s->gid, s->gid) < 0) fail("setresgid", errno, 125);
  if (setresuid(s->uid, s->uid, s->uid) < 0) fail("setresuid", errno, 125);
  if (s->uid != 0 && (setuid(0) == 0 || geteuid() != s->uid)) fail("setresuid", EPERM, 125);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("no_new_privs", errno, 125);
  umask(s->umask);
}

/* Becomes the user's command: cwd as the user, then exec with the user's environment. */
static void become_app(const struct spec *s) {
  if (chdir(s->cwd) < 0) fail("chdir", errno, 125);
  signal(SIGPIPE, SIG_DFL);
  environ = s->envp; /* execvp searches the user's PATH */
  execvp(s->argv[0], s->argv);
  int err = errno;
  fail("exec", err, err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* ---- PTY mode ---- */

static int sigchld_pipe[2];

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  (void)!write(sigchld_pipe[1], "c", 1);
  errno = saved;
}

/* Writes all of buf, waiting for POLLOUT when the fd is non-blocking. -1 when the fd is gone. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) return -1;
        continue;
      }
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static void apply_resize(int master, char *line) {
  unsigned cols, rows;
  if (sscanf(line, "resize %u %u", &cols, &rows) == 2 && cols > 0 && rows > 0 && cols <= 10000 && rows <= 10000) {
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    (void)ioctl(master, TIOCSWINSZ, &ws);
  }
}

static void run_pty(const struct spec *s) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("openpt", errno, 125);
  if (grantpt(master) < 0 || unlockpt(master) < 0) fail("openpt", errno, 125);
  char name[64];
  if (ptsname_r(master, name, sizeof name) != 0) fail("openpt", errno, 125);
  int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("openpt", errno, 125);
  /* The terminal belongs to the user, as a login terminal would. */
  struct group *tty = getgrnam("tty");
  /* mode first, while root still owns it: chmod of one's own file needs no CAP_FOWNER */
  if (fchmod(slave, 0620) < 0) fail("chown-pty", errno, 125);
  if (fchown(slave, s->uid, tty ? tty->gr_gid : s->gid) < 0) fail("chown-pty", errno, 125);
  struct winsize ws = {.ws_row = s->rows ? s->rows : 24, .ws_col = s->cols ? s->cols : 80};
  (void)ioctl(master, TIOCSWINSZ, &ws);

  if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) fail("pipe", errno, 125);
  struct sigaction sa = {0};
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);

  pid_t pid = fork();
  if (pid < 0) fail("fork", errno, 125);
  if (pid == 0) {
    if (setsid() < 0) fail("setsid", errno, 125);
    if (ioctl(slave, TIOCSCTTY, 0) < 0) fail("controlling-tty", errno, 125);
    for (int i = 0; i < 3; i++)
      if (s->tty[i] && dup2(slave, i) < 0) fail("dup2", errno, 125);
    close(slave);
    close(master);
    close(SPEC_FD);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    drop_privileges(s);
    become_app(s);
  }
  close(slave);
  status_line("pid %d\n", (int)pid);
  /* The bridge itself runs as the user: nothing in it needs root. */
  drop_privileges(s);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);

  int out = s->tty[1] ? 1 : s->tty[2] ? 2 : -1;
  int in = s->tty[0] ? 0 : -1;
  int fl = fcntl(master, F_GETFL);
  fcntl(master, F_SETFL, fl | O_NONBLOCK);
  char buf[65536];
  char ctl[256];
  size_t ctl_len = 0;
  int status = 0, exited = 0, out_ok = 1, master_open = 1, ctlfd = SPEC_FD;

  while (!exited) {
    struct pollfd p[4] = {{master_open ? master : -1, POLLIN, 0},
                          {in, POLLIN, 0},
                          {sigchld_pipe[0], POLLIN, 0},
                          {ctlfd, POLLIN, 0}};
    if (poll(p, 4, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[2].revents) {
      char c;
      while (read(sigchld_pipe[0], &c, 1) > 0) {
      }
      if (waitpid(pid, &status, WNOHANG) == pid) exited = 1;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n < 0 && errno == EIO) master_open = 0; /* every slave fd closed; wait for the exit */
      if (n > 0 && out >= 0 && out_ok && write_all(out, buf, (size_t)n) < 0) {
        /* The user's terminal is gone: hang up the app's terminal, as a closed window does. */
        out_ok = 0;
        in = -1;
        (void)ioctl(master, TIOCSIG, SIGHUP);
      }
    }
    if (!exited && in >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(in, buf, sizeof buf);
      if (n > 0)
        (void)write_all(master, buf, (size_t)n);
      else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        in = -1; /* input gone; the app keeps running until the daemon hangs it up */
    }
    if (p[3].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(ctlfd, ctl + ctl_len, sizeof ctl - 1 - ctl_len);
      if (n > 0) {
        ctl_len += (size_t)n;
        ctl[ctl_len] = '\0';
        char *nl;
        while ((nl = strchr(ctl, '\n'))) {
          *nl = '\0';
          apply_resize(master, ctl);
          ctl_len -= (size_t)(nl + 1 - ctl);
          memmove(ctl, nl + 1, ctl_len + 1);
        }
        if (ctl_len == sizeof ctl - 1) ctl_len = 0;
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ctlfd = -1; /* the daemon closed the channel: keep bridging, nothing more to resize */
      }
    }
  }
  /* The app is gone: hand over everything it wrote. A read returns EIO once the slave is closed
   * and empty; EAGAIN means another process still holds the slave, so stop after a short wait. */
  for (int idle = 0; idle < 3;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n > 0) {
      if (out >= 0 && out_ok && write_all(out, buf, (size_t)n) < 0) out_ok = 0;
      idle = 0;
    } else if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {master, POLLIN, 0};
      if (poll(&p, 1, 20) == 0) idle++;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  if (WIFSIGNALED(status))
    status_line("signal %d\n", WTERMSIG(status));
  else
    status_line("exit %d\n", WEXITSTATUS(status));
  _exit(0);
}

int main(void) {
  /* Nothing but the five fds the daemon gave is wanted here. */
  if (syscall(SYS_close_range, 5u, ~0u, 0u) < 0)
    for (int fd = 5; fd < 1024; fd++) close(fd);
  if (fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC) < 0) _exit(125);
  struct spec s;
  memset(&s, 0, sizeof s);
  read_spec(&s);
  enter_namespace(&s);
  if (strcmp(s.mode, "pty") == 0) run_pty(&s);
  close(SPEC_FD);
  drop_privileges(&s);
  become_app(&s);
  return 125;
}

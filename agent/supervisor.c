/* supervisor.c - worker processes: fork, readiness, restart with crash-loop backoff, stop.
 * Plain POSIX signals (sigtimedwait) and no event loop, so nothing is inherited by children. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "cs/util.h"
#include "supervisor.h"
#include "worker.h"

struct wslot {
    pid_t pid;       /* 0 = not running */
    int ready_fd;    /* read end of the readiness pipe, -1 when done */
    int64_t started; /* monotonic ms */
    int64_t restart_at;
    int crashes; /* quick consecutive deaths, for backoff */
};

static pid_t spawn(const struct agent_opts *ao, struct wslot *slots, int i, const sigset_t *orig)
{
    int p[2];
    if (pipe(p) != 0) {
        log_error("pipe failed: %s", strerror(errno));
        return -1;
    }
    fflush(NULL); /* the child exits through exit(): nothing buffered twice */
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork failed: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /* A worker stops cleanly if its supervisor disappears. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
            _exit(0);
        close(p[0]);
        for (int k = 0; k < ao->workers; k++)
            if (slots[k].ready_fd >= 0)
                close(slots[k].ready_fd);
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, orig, NULL);
        /* exit(), not _exit(): atexit handlers run (LeakSanitizer checks the worker). */
        exit(worker_main(ao, i, p[1]));
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    slots[i].pid = pid;
    slots[i].ready_fd = p[0];
    slots[i].started = cs_mono_ms();
    slots[i].restart_at = 0;
    log_info("worker %s.w%d started (pid %d)", ao->name, i, (int)pid);
    return pid;
}

static void check_ready(const struct agent_opts *ao, struct wslot *s, int i)
{
    char c;
    if (s->ready_fd < 0)
        return;
    ssize_t n = read(s->ready_fd, &c, 1);
    if (n == 1 || n == 0) {
        if (n == 1)
            log_info("worker %s.w%d ready", ao->name, i);
        close(s->ready_fd);
        s->ready_fd = -1;
    }
}

static void describe_exit(const struct agent_opts *ao, int i, int status)
{
    if (WIFEXITED(status))
        log_info("worker %s.w%d exited with status %d", ao->name, i, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        log_warn("worker %s.w%d killed by signal %d", ao->name, i, WTERMSIG(status));
}

int supervisor_run(const struct agent_opts *ao)
{
    struct wslot *slots = cs_calloc((size_t)ao->workers, sizeof(*slots));
    sigset_t set, orig;
    bool stopping = false, failed = false;
    int64_t deadline = 0;
    int running = 0;

    for (int i = 0; i < ao->workers; i++)
        slots[i].ready_fd = -1;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &orig);

    log_info("agent %s: %d workers x %d chargers, namespace %s", ao->name, ao->workers,
             ao->max_chargers, ao->common.ns);
    for (int i = 0; i < ao->workers; i++)
        if (spawn(ao, slots, i, &orig) > 0)
            running++;

    for (;;) {
        struct timespec tick = {0, 200 * 1000000L};
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &tick);
        int64_t now = cs_mono_ms();

        if (sig == SIGHUP && !stopping) {
            log_info("SIGHUP: workers re-read config, layers and assignment from Redis");
            for (int i = 0; i < ao->workers; i++)
                if (slots[i].pid > 0)
                    kill(slots[i].pid, SIGHUP);
        }
        if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
            stopping = true;
            deadline = now + ao->stop_timeout_ms + 3000;
            log_info("stopping %d workers (signal %d)", running, sig);
            for (int i = 0; i < ao->workers; i++)
                if (slots[i].pid > 0)
                    kill(slots[i].pid, SIGTERM);
        }

        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (int i = 0; i < ao->workers; i++) {
                if (slots[i].pid != pid)
                    continue;
                describe_exit(ao, i, status);
                check_ready(ao, &slots[i], i);
                if (slots[i].ready_fd >= 0) {
                    close(slots[i].ready_fd);
                    slots[i].ready_fd = -1;
                }
                slots[i].pid = 0;
                running--;
                if (!stopping && WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
                    /* Restarting it would only repeat why it stopped (another agent uses this
                     * name): the whole agent stops. */
                    log_error("worker %s.w%d cannot run; stopping the agent", ao->name, i);
                    stopping = true;
                    failed = true;
                    deadline = now + ao->stop_timeout_ms + 3000;
                    for (int k = 0; k < ao->workers; k++)
                        if (slots[k].pid > 0)
                            kill(slots[k].pid, SIGTERM);
                }
                if (stopping)
                    break;
                /* Back off when a worker keeps dying young. */
                bool young = now - slots[i].started < 10000;
                slots[i].crashes = young ? slots[i].crashes + 1 : 0;
                int64_t delay = 200;
                for (int k = 1; k < slots[i].crashes && delay < 30000; k++)
                    delay *= 2;
                if (delay > 30000)
                    delay = 30000;
                slots[i].restart_at = now + delay;
                log_warn("restarting worker %s.w%d in %lld ms", ao->name, i, (long long)delay);
            }
        }

        for (int i = 0; i < ao->workers; i++) {
            check_ready(ao, &slots[i], i);
            if (!stopping && slots[i].pid == 0 && slots[i].restart_at && now >= slots[i].restart_at)
                if (spawn(ao, slots, i, &orig) > 0)
                    running++;
        }

        if (stopping && running == 0)
            break;
        if (stopping && now > deadline) {
            log_warn("workers did not stop in time; killing them");
            for (int i = 0; i < ao->workers; i++)
                if (slots[i].pid > 0)
                    kill(slots[i].pid, SIGKILL);
            deadline = now + 5000;
        }
    }
    log_info("agent stopped");
    cs_free(slots);
    return failed ? 1 : 0;
}

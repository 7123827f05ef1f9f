"""A real, private SLURM for the `slurm` tests: munged, slurmctld and
slurmd started from a slurm.conf in a temporary directory, one node (this
machine: `hostname -s`, all its CPUs and memory), stopped by PID at the end.

Nothing outside the temporary directory is touched: the munge key, socket
and the daemons' state, spool, pid and log files all live in it, and
``SLURM_CONF`` points the client commands (sbatch, squeue, scancel, sinfo
-- also those dask-jobqueue and the job scripts call) at its slurm.conf.

Without the binaries the tests skip with how to install them (Debian/
Ubuntu, as root): ``apt-get install -y slurmctld slurmd slurm-client munge``.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

BINARIES = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scancel")
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
INSTALL = "apt-get install -y slurmctld slurmd slurm-client munge"


def which(name):
    path = shutil.which(name)
    if path:
        return path
    for d in SBIN:
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    return None


def missing_binaries():
    return [b for b in BINARIES if which(b) is None]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mem_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


class Slurm:
    """The running test SLURM: its directory, environment and helpers."""

    def __init__(self, root):
        self.root = root
        self.node = socket.gethostname().split(".")[0]
        self.cpus = os.cpu_count() or 1
        self.pids = []
        self.env = dict(os.environ)
        self.conf = os.path.join(root, "slurm.conf")
        self.env["SLURM_CONF"] = self.conf
        self.env.pop("SLURM_JOB_ID", None)

    def run(self, *args, check=True, timeout=60):
        return subprocess.run([which(args[0]), *map(str, args[1:])], env=self.env,
                              capture_output=True, text=True, check=check, timeout=timeout)

    def sbatch(self, script, *args):
        out = self.run("sbatch", "--parsable", *args, script).stdout.strip()
        return out.split(";")[0]

    def jobs(self, job_id=None):
        """{job id: state} of jobs squeue still lists (array tasks as id_k)."""
        args = ["squeue", "-h", "-o", "%i %T"]
        if job_id is not None:
            args += ["-j", str(job_id)]
        res = self.run(*args, check=False)
        return dict(line.split() for line in res.stdout.splitlines() if line.strip())

    def wait_gone(self, job_id, timeout=600):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.jobs(job_id):
                return
            time.sleep(0.5)
        raise TimeoutError(f"job {job_id} still queued/running after {timeout} s: "
                           f"{self.jobs(job_id)}\n{self.logs()}")

    def logs(self):
        text = []
        for name in ("slurmctld.log", "slurmd.log"):
            path = os.path.join(self.root, name)
            if os.path.exists(path):
                with open(path) as f:
                    text.append(f"--- {name} (tail)\n" + "".join(f.readlines()[-30:]))
        return "\n".join(text)

    # --- start / stop -------------------------------------------------------
    def _daemon(self, *cmd, pidfile):
        """Start a forking daemon, return the PID it wrote to pidfile."""
        subprocess.run([which(cmd[0]), *cmd[1:]], env=self.env, check=True,
                       capture_output=True, text=True, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip())
                self.pids.append(pid)
                return pid
            except (FileNotFoundError, ValueError):
                time.sleep(0.1)
        raise RuntimeError(f"{cmd[0]} wrote no pid file {pidfile}\n{self.logs()}")

    def start(self):
        r = self.root
        for d in ("munge", "state", "spool", "run"):
            os.makedirs(os.path.join(r, d), mode=0o700, exist_ok=True)
        key = os.path.join(r, "munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        self.munge_socket = os.path.join(r, "munge", "munge.socket")
        self._daemon("munged", "--force", "--key-file", key, "--socket", self.munge_socket,
                     "--pid-file", os.path.join(r, "munge", "munged.pid"),
                     "--log-file", os.path.join(r, "munge", "munged.log"),
                     "--seed-file", os.path.join(r, "munge", "munged.seed"),
                     pidfile=os.path.join(r, "munge", "munged.pid"))
        user = os.environ.get("USER") or __import__("pwd").getpwuid(os.getuid()).pw_name
        with open(self.conf, "w") as f:
            f.write(f"""\
ClusterName=coordsweeptest
SlurmctldHost={self.node}
SlurmUser={user}
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/run/slurmctld.pid
SlurmdPidFile={r}/run/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
JobRequeue=1
InactiveLimit=0
KillWait=5
MinJobAge=30
Waittime=0
SlurmctldTimeout=30
SlurmdTimeout=30
SchedulerParameters=sched_interval=1
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={_mem_mib()} State=UNKNOWN
PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
""")
        self._daemon("slurmctld", "-f", self.conf, pidfile=os.path.join(r, "run", "slurmctld.pid"))
        self._daemon("slurmd", "-f", self.conf, pidfile=os.path.join(r, "run", "slurmd.pid"))
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline:
            state = self.run("sinfo", "-h", "-n", self.node, "-o", "%T", check=False).stdout.strip()
            if state == "idle":
                return self
            time.sleep(0.3)
        raise RuntimeError(f"the test SLURM's node is not idle after 60 s (state "
                           f"{state!r})\n{self.logs()}")

    def stop(self):
        """Cancel what is left, then stop exactly the daemons started here."""
        if any(p for p in self.pids[1:]):
            self.run("scancel", "--full", "-u", str(os.getuid()), check=False)
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.pids.clear()


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A running private SLURM (see the module doc); skips without the binaries."""
    missing = missing_binaries()
    if missing:
        pytest.skip(f"SLURM not installed (missing {', '.join(missing)}); "
                    f"install it with: {INSTALL}")
    # a short path: munge and slurm keep socket paths, which have a length limit
    root = str(tmp_path_factory.mktemp("slurm"))
    cluster = Slurm(root)
    old = os.environ.get("SLURM_CONF")
    try:
        cluster.start()
        os.environ["SLURM_CONF"] = cluster.conf  # for dask-jobqueue in this process
        yield cluster
    finally:
        cluster.stop()
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
